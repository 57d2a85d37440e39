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
 * root it explains the one command to run. Returns why the address is not usable, or undefined
 * when it is.
 */
export async function ensureHostAddress(address: string, iface: string, logger: Logger): Promise<string | undefined> {
  if (await isLocal(address)) return undefined;
  const command = `ip addr add ${address}/32 dev ${iface}`;
  if (process.getuid?.() !== 0) {
    const why = `${address} is not an address of this host and Berth is not root to add it. Run "sudo ${command}" and restart Berth to give tasks role credentials, metadata and AWS_ENDPOINT_URL.`;
    logger.warn({ address, command: `sudo ${command}` }, `task endpoint disabled: ${why}`);
    return why;
  }
  try {
    await run("ip", ["addr", "add", `${address}/32`, "dev", iface]);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message);
    // iproute2 says "File exists" or (6.x) "Address already assigned" when another Berth won the race.
    if (!/File exists|already assigned/i.test(stderr)) {
      const why = `could not add ${address} to ${iface} (${command}): ${stderr.trim()}`;
      logger.warn({ address, interface: iface }, `task endpoint disabled: ${why}`);
      return why;
    }
  }
  logger.info({ address, interface: iface }, "task endpoint address added to the Docker bridge");
  return undefined;
}
