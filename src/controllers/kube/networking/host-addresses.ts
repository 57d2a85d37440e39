import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The host's own addresses on an interface (iproute2): service addresses are added to a cluster's
 * bridge, as 169.254.170.2 is to docker0, so pods on the bridge reach listeners Berth binds there.
 */
export interface HostAddresses {
  /** The /32 IPv4 addresses on an interface (none when the interface is not there). */
  list(iface: string): Promise<string[]>;
  add(ip: string, iface: string): Promise<void>;
  remove(ip: string, iface: string): Promise<void>;
}

const stderrOf = (e: unknown) => String((e as { stderr?: string }).stderr ?? (e as Error).message);

export const iproute2: HostAddresses = {
  async list(iface) {
    try {
      const { stdout } = await run("ip", ["-o", "-4", "addr", "show", "dev", iface]);
      return [...stdout.matchAll(/inet ([0-9.]+)\/32\b/g)].map((m) => m[1] as string);
    } catch (e) {
      if (/does not exist|Cannot find device/i.test(stderrOf(e))) return [];
      throw e;
    }
  },
  async add(ip, iface) {
    try {
      await run("ip", ["addr", "add", `${ip}/32`, "dev", iface]);
    } catch (e) {
      // iproute2 says "File exists" or (6.x) "Address already assigned" when it is there already.
      if (!/File exists|already assigned/i.test(stderrOf(e)))
        throw new Error(`could not add ${ip} to ${iface} (ip addr add ${ip}/32 dev ${iface}): ${stderrOf(e).trim()}`);
    }
  },
  async remove(ip, iface) {
    try {
      await run("ip", ["addr", "del", `${ip}/32`, "dev", iface]);
    } catch (e) {
      if (!/Cannot assign|does not exist|Cannot find device/i.test(stderrOf(e))) throw e;
    }
  },
};
