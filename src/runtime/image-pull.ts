import type { ContainerRuntime, RegistryAuth } from "./runtime.js";

/** One place an image can be pulled from: a mirror's (or the image's own) reference and its credentials. */
export interface PullSource {
  ref: string;
  auth?: RegistryAuth;
}

/** Where an image may be pulled from, in order (a mirror list); the image itself when there is no list. */
export type ImageSources = (image: string, scope?: { account: string; region: string }) => PullSource[];

/**
 * Pulls `image` from the first source that has it; an image pulled under a mirror's name is
 * tagged with the name asked for, so containers are created from that name and later runs find it.
 * Throws with every source's failure when none worked.
 */
export async function pullFromSources(
  rt: Pick<ContainerRuntime, "pullImage" | "tagImage">,
  image: string,
  sources: PullSource[],
): Promise<string> {
  const failures: string[] = [];
  for (const s of sources.length > 0 ? sources : [{ ref: image }]) {
    try {
      await rt.pullImage(s.ref, s.auth);
      if (s.ref !== image && !image.includes("@")) await rt.tagImage(s.ref, image);
      return s.ref;
    } catch (e) {
      failures.push(sources.length > 1 ? `${s.ref}: ${(e as Error).message}` : (e as Error).message);
    }
  }
  throw new Error(failures.join("; "));
}
