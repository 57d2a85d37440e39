import { execFile } from "node:child_process";
import { networkInterfaces } from "node:os";
import { promisify } from "node:util";
import type { Logger } from "../core/logger.js";

const run = promisify(execFile);

/**
 * Whether `address` is assigned on this host. Node's networkInterfaces() leaves out interfaces that
 * are not running, and docker0 is not while no container is attached, so ask iproute2 first.
 */
async function isLocal(address: string): Promise<boolean> {
  try {
    const { stdout } = await run("ip", ["-o", "addr", "show", "to", address]);
    return stdout.trim() !== "";
  } catch {
    return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address));
  }
}

/**
 * Makes `address` (169.254.170.2) a local address of the host, on the Docker bridge, so task
 * containers reach Berth there as they reach the ECS agent in AWS. Needs root to add it; without
 * root it explains the one command to run. Returns whether the address is usable.
 */
export async function ensureHostAddress(address: string, iface: string, logger: Logger): Promise<boolean> {
  if (await isLocal(address)) return true;
  const command = `ip addr add ${address}/32 dev ${iface}`;
  if (process.getuid?.() !== 0) {
    logger.warn(
      { address, command: `sudo ${command}` },
      `task endpoint disabled: ${address} is not an address of this host and Berth is not root to add it. Run "sudo ${command}" and restart Berth to give tasks role credentials, metadata and AWS_ENDPOINT_URL.`,
    );
    return false;
  }
  try {
    await run("ip", ["addr", "add", `${address}/32`, "dev", iface]);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message);
    // iproute2 says "File exists" or (6.x) "Address already assigned" when another Berth won the race.
    if (!/File exists|already assigned/i.test(stderr)) {
      logger.warn(
        { address, interface: iface, err: stderr.trim() },
        `task endpoint disabled: could not add ${address} to ${iface} (${command})`,
      );
      return false;
    }
  }
  logger.info({ address, interface: iface }, "task endpoint address added to the Docker bridge");
  return true;
}
