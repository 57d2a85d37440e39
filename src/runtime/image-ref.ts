/**
 * PURE: image references as Docker reads them. `nginx` is `docker.io/library/nginx:latest`;
 * a first component with a `.` or `:`, or `localhost`, is a registry host.
 */

export interface ImageRef {
  /** `docker.io`, `ghcr.io`, `localhost:4566`. */
  domain: string;
  /** `library/nginx`, `owner/app`. */
  path: string;
  /** `:tag` or `@sha256:…` as written (`:latest` when neither was). */
  reference: string;
  /** The domain was implied (Docker Hub). */
  implicitDomain: boolean;
}

export const DOCKER_HUB = "docker.io";

export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  let reference = ":latest";
  const at = rest.indexOf("@");
  if (at >= 0) {
    reference = rest.slice(at);
    rest = rest.slice(0, at);
  } else {
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
      reference = rest.slice(colon);
      rest = rest.slice(0, colon);
    }
  }
  const first = rest.split("/")[0];
  const hasDomain = rest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  let domain = hasDomain ? first : DOCKER_HUB;
  let path = hasDomain ? rest.slice(first.length + 1) : rest;
  if (domain === "index.docker.io" || domain === "registry-1.docker.io") domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  return { domain, path, reference, implicitDomain: !hasDomain };
}

/** The reference written out in full (`docker.io/library/nginx:latest`). */
export const formatImageRef = (r: { domain: string; path: string; reference: string }) =>
  `${r.domain}/${r.path}${r.reference}`;
