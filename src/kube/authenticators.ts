/** Authenticators composed, as kube-apiserver's union authenticator: the first that knows the token answers. */
import type { Authenticator } from "./contracts.js";

export function unionAuthenticator(...authenticators: Authenticator[]): Authenticator {
  return {
    async authenticate(cluster, token) {
      for (const a of authenticators) {
        const user = await a.authenticate(cluster, token).catch(() => undefined);
        if (user) return user;
      }
      return undefined;
    },
  };
}
