/**
 * The small part of the Reflect metadata API that @peculiar/x509's dependency tsyringe checks for
 * at load time (`Reflect.getMetadata`) and reads constructor parameter types with. Import this
 * module before `@peculiar/x509`. It defines nothing when a full polyfill (reflect-metadata) is
 * already loaded.
 */
type Key = unknown;
type Target = object;

const store = new WeakMap<Target, Map<string | symbol | undefined, Map<Key, unknown>>>();

function table(target: Target, property: string | symbol | undefined, create: boolean) {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let values = byProperty.get(property);
  if (!values && create) {
    values = new Map();
    byProperty.set(property, values);
  }
  return values;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== "function") {
  const getOwnMetadata = (key: Key, target: Target, property?: string | symbol) =>
    table(target, property, false)?.get(key);
  const getMetadata = (key: Key, target: Target, property?: string | symbol): unknown => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t)) {
      const values = table(t, property, false);
      if (values?.has(key)) return values.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: Key, value: unknown, target: Target, property?: string | symbol) => {
    table(target, property, true)!.set(key, value);
  };
  R.getOwnMetadata = getOwnMetadata;
  R.getMetadata = getMetadata;
  R.defineMetadata = defineMetadata;
  R.hasMetadata = (key: Key, target: Target, property?: string | symbol) =>
    getMetadata(key, target, property) !== undefined;
  R.metadata = (key: Key, value: unknown) => (target: Target, property?: string | symbol) =>
    defineMetadata(key, value, target, property);
}
