import ipaddr from "ipaddr.js";

/** An IPv4 CIDR block as numbers: the network address and the prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

/**
 * Parses `a.b.c.d/n` (IPv4 only). Undefined for text that is not a CIDR block or whose address
 * has host bits set (`10.0.0.1/16`), which EC2 refuses too.
 */
export function parseCidr(text: string): Cidr | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text.split("/")[0]))
    return undefined;
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    return undefined;
  }
  const [addr, prefix] = parsed;
  if (addr.kind() !== "ipv4" || prefix > 32) return undefined;
  const base = toNumber(addr as ipaddr.IPv4);
  if (toNumber(ipaddr.IPv4.networkAddressFromCIDR(text)) !== base) return undefined;
  return { base, prefix };
}

const toNumber = (a: ipaddr.IPv4) => a.octets.reduce((n, o) => n * 256 + o, 0);

/** An IPv4 address from its number. */
export const formatAddress = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

export const formatCidr = ({ base, prefix }: Cidr) => `${formatAddress(base)}/${prefix}`;

const size = (c: Cidr) => 2 ** (32 - c.prefix);

/** The lowest address of a subnet an instance may have that is not `taken` (AWS keeps the first four and the last). */
export function nextFreeAddress(c: Cidr, taken: ReadonlySet<string>): string | undefined {
  for (let n = c.base + 4; n < c.base + size(c) - 1; n++) if (!taken.has(formatAddress(n))) return formatAddress(n);
  return undefined;
}

/** Whether `inner` lies wholly inside `outer`. */
export const contains = (outer: Cidr, inner: Cidr) =>
  inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);

/** Whether two blocks share any address. */
export const overlaps = (a: Cidr, b: Cidr) => a.base < b.base + size(b) && b.base < a.base + size(a);

/** Addresses EC2 lets instances use in a subnet: AWS reserves the first four and the last. */
export const usableAddresses = (c: Cidr) => Math.max(0, size(c) - 5);

/** The `count` consecutive blocks of `prefix` at the start of `within` (the default VPC's subnets). */
export function carve(within: Cidr, prefix: number, count: number): Cidr[] {
  return Array.from({ length: count }, (_, i) => ({ base: within.base + i * 2 ** (32 - prefix), prefix }));
}

/** VPC and subnet IPv4 blocks must be /16 to /28. */
export const allowedPrefix = (c: Cidr) => c.prefix >= 16 && c.prefix <= 28;
