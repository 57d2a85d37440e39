/**
 * Service addresses and node ports, as kube-apiserver's allocators hand them out. PURE: the
 * addresses already in use are passed in; randomness is injected.
 */

/** EKS's default service range when the cluster names none (kubernetesNetworkConfig.serviceIpv4Cidr). */
export const DEFAULT_SERVICE_CIDR = "10.100.0.0/16";
export const DEFAULT_NODE_PORT_RANGE = { min: 30000, max: 32767 };

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
  text: string;
}

/** Dotted quad → unsigned integer; undefined when not an IPv4 address in canonical form. */
export function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

export function parseCidr(text: string): Cidr {
  const [ip, bits] = text.split("/");
  const base = ipToInt(ip ?? "");
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`bad CIDR ${text}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (base & mask) >>> 0, prefix, text };
}

export const cidrSize = (c: Cidr) => 2 ** (32 - c.prefix);

export function inCidr(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n !== undefined && n >= c.base && n < c.base + cidrSize(c);
}

/** The nth address of a range (1 = the first after the network address). */
export const nthAddress = (c: Cidr, n: number) => intToIp(c.base + n);

/** The `kubernetes` Service's address: the range's first address. */
export const kubernetesServiceIP = (cidr = DEFAULT_SERVICE_CIDR) => nthAddress(parseCidr(cidr), 1);
/** kube-dns's address: the range's tenth address, as EKS assigns it. */
export const clusterDnsIP = (cidr = DEFAULT_SERVICE_CIDR) => nthAddress(parseCidr(cidr), 10);

export type Allocation<T> = { ok: true; value: T } | { ok: false; detail: string };

/**
 * Allocates a service address: `requested` must be in the range (neither network nor broadcast
 * address) and free; without one, a free address is picked at random — first from the upper band,
 * then from the lower band kube-apiserver keeps for static assignments (the first
 * min(max(16, size/16), 256) addresses).
 */
export function allocateServiceIP(
  cidrText: string,
  used: ReadonlySet<string>,
  requested: string | undefined,
  random: () => number,
): Allocation<string> {
  const cidr = parseCidr(cidrText);
  const size = cidrSize(cidr);
  const first = size > 2 ? 1 : 0;
  const last = size > 2 ? size - 2 : size - 1;
  if (requested !== undefined) {
    const n = ipToInt(requested);
    if (n === undefined || n < cidr.base + first || n > cidr.base + last)
      return {
        ok: false,
        detail: `provided IP is not in the valid range. The range of valid IPs is ${cidrText}`,
      };
    if (used.has(intToIp(n))) return { ok: false, detail: "provided IP is already allocated" };
    return { ok: true, value: intToIp(n) };
  }
  const count = last - first + 1;
  const staticBand = Math.min(Math.max(16, Math.floor(size / 16)), 256);
  const bands: [number, number][] =
    count > staticBand
      ? [
          [first + staticBand, last],
          [first, first + staticBand - 1],
        ]
      : [[first, last]];
  for (const [lo, hi] of bands) {
    const span = hi - lo + 1;
    const start = Math.floor(random() * span) % span;
    for (let i = 0; i < span; i++) {
      const ip = intToIp(cidr.base + lo + ((start + i) % span));
      if (!used.has(ip)) return { ok: true, value: ip };
    }
  }
  return { ok: false, detail: `range is full` };
}

/** Allocates a node port in the range; a requested one must be in it and free. */
export function allocateNodePort(
  used: ReadonlySet<number>,
  requested: number | undefined,
  random: () => number,
  range = DEFAULT_NODE_PORT_RANGE,
): Allocation<number> {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < range.min || requested > range.max)
      return {
        ok: false,
        detail: `provided port is not in the valid range. The range of valid ports is ${range.min}-${range.max}`,
      };
    if (used.has(requested)) return { ok: false, detail: "provided port is already allocated" };
    return { ok: true, value: requested };
  }
  const span = range.max - range.min + 1;
  const start = Math.floor(random() * span) % span;
  for (let i = 0; i < span; i++) {
    const port = range.min + ((start + i) % span);
    if (!used.has(port)) return { ok: true, value: port };
  }
  return { ok: false, detail: "range is full" };
}

/** Go's %#v of a []string, as kube-apiserver prints a field's value in messages. */
export const goStrings = (values: string[]) => `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;
