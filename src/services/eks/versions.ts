/**
 * The Kubernetes versions Berth's EKS offers and the rules for choosing and upgrading them. PURE.
 * Standard support: 1.31–1.33 (1.33 is the default, the newest); extended support: 1.28–1.30.
 */

export interface EksVersion {
  version: string;
  /** EKS's platform version of a new cluster on it. */
  platformVersion: string;
  /** The Kubernetes patch release Berth reports for it. */
  patch: string;
  versionStatus: "STANDARD_SUPPORT" | "EXTENDED_SUPPORT";
  releaseDate: string;
  endOfStandardSupportDate: string;
  endOfExtendedSupportDate: string;
}

/** Oldest first. */
export const EKS_VERSIONS: readonly EksVersion[] = [
  v("1.28", "eks.49", "1.28.15", "EXTENDED_SUPPORT", "2023-09-26", "2024-11-26", "2025-11-26"),
  v("1.29", "eks.42", "1.29.15", "EXTENDED_SUPPORT", "2024-01-23", "2025-03-23", "2026-03-23"),
  v("1.30", "eks.38", "1.30.14", "EXTENDED_SUPPORT", "2024-05-23", "2025-07-23", "2026-07-23"),
  v("1.31", "eks.33", "1.31.12", "STANDARD_SUPPORT", "2024-09-26", "2025-11-26", "2026-11-26"),
  v("1.32", "eks.19", "1.32.8", "STANDARD_SUPPORT", "2025-01-23", "2026-03-23", "2027-03-23"),
  v("1.33", "eks.13", "1.33.4", "STANDARD_SUPPORT", "2025-05-29", "2026-07-29", "2027-07-29"),
];

function v(
  version: string,
  platformVersion: string,
  patch: string,
  versionStatus: EksVersion["versionStatus"],
  releaseDate: string,
  endOfStandardSupportDate: string,
  endOfExtendedSupportDate: string,
): EksVersion {
  return {
    version,
    platformVersion,
    patch,
    versionStatus,
    releaseDate,
    endOfStandardSupportDate,
    endOfExtendedSupportDate,
  };
}

/** The version a cluster gets when CreateCluster names none: the newest in standard support. */
export const DEFAULT_VERSION = [...EKS_VERSIONS].reverse().find((x) => x.versionStatus === "STANDARD_SUPPORT")!.version;

export const versionInfo = (version: string) => EKS_VERSIONS.find((x) => x.version === version);

/** The version a new cluster runs, or why it cannot (InvalidParameterException's message). */
export function chooseVersion(requested: string | undefined): { version: string } | { error: string } {
  const version = requested ?? DEFAULT_VERSION;
  if (!versionInfo(version)) return { error: `unsupported Kubernetes version ${version}` };
  return { version };
}

const minorOf = (version: string) => {
  const m = /^1\.(\d+)$/.exec(version);
  return m ? Number(m[1]) : undefined;
};

/** Whether a cluster may go from `from` to `to`: one minor version up, to a supported version, as EKS allows. */
export function checkUpgrade(from: string, to: string): { ok: true } | { error: string } {
  if (from === to) return { error: `The cluster is already at the desired configuration with version: ${to}` };
  const a = minorOf(from);
  const b = minorOf(to);
  if (a === undefined || b === undefined || !versionInfo(to) || b !== a + 1)
    return { error: `Unsupported Kubernetes minor version update from ${from} to ${to}` };
  return { ok: true };
}
