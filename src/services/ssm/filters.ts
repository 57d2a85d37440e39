import type { ParameterStringFilter } from "../../protocol/generated/types/ssm.js";
import type { ParameterRecord, ParameterVersionRecord } from "./store.js";
import { ssmErrors } from "../../protocol/generated/errors/ssm.js";

/** Whether a parameter (at version `v`) passes one ParameterStringFilter. */
export function matches(
  p: ParameterRecord,
  v: ParameterVersionRecord,
  f: ParameterStringFilter,
  allowPath: boolean,
): boolean {
  const key = f.Key;
  const option = f.Option ?? "Equals";
  const values = f.Values ?? [];
  const test = (actual: string) => {
    if (option === "Equals") return values.includes(actual);
    if (option === "BeginsWith") return values.some((x) => actual.startsWith(x));
    if (option === "Contains") return values.some((x) => actual.includes(x));
    return false;
  };
  if (key === "Name")
    return (
      test(p.Name) || test(p.Name.replace(/^\//, "")) || (option === "Equals" && values.some((x) => `/${x}` === p.Name))
    );
  if (key === "Type") return test(v.Type);
  if (key === "KeyId") return v.KeyId !== undefined && test(v.KeyId);
  if (key === "Tier") return test(v.Tier);
  if (key === "DataType") return test(v.DataType);
  if (key === "Label") return p.versions.some((x) => x.Labels.some((l) => test(l)));
  if (key === "Path" && allowPath) {
    return values.some((path) => {
      const base = path.endsWith("/") ? path : `${path}/`;
      if (!p.Name.startsWith(base)) return false;
      return option === "Recursive" || !p.Name.slice(base.length).includes("/");
    });
  }
  if (key.startsWith("tag:")) {
    const tag = p.Tags.find((t) => t.Key === key.slice(4));
    return !!tag && (values.length === 0 || values.includes(tag.Value));
  }
  return false;
}

/** Checks filter keys, options and values as SSM does, against the keys an operation allows. */
export function checkFilters(filters: ParameterStringFilter[] | undefined, allowed: string[]) {
  for (const f of filters ?? []) {
    if (!allowed.includes(f.Key) && !f.Key.startsWith("tag:"))
      throw ssmErrors.InvalidFilterKey(
        `The following filter key is not valid: ${f.Key}. Valid filter keys include: [${allowed.join(", ")}].`,
      );
    const opts =
      f.Key === "Path"
        ? ["Recursive", "OneLevel"]
        : f.Key === "Name"
          ? ["Equals", "BeginsWith", "Contains"]
          : f.Key.startsWith("tag:")
            ? ["Equals"]
            : ["Equals", "BeginsWith"];
    if (f.Option !== undefined && !opts.includes(f.Option))
      throw ssmErrors.InvalidFilterOption(
        `The following filter option is not valid: ${f.Option}. Valid options include: [${opts.join(", ")}].`,
      );
    if (!f.Key.startsWith("tag:") && (!f.Values || f.Values.length === 0))
      throw ssmErrors.InvalidFilterValue(`The following filter values are missing : null for filter key ${f.Key}.`);
  }
}
