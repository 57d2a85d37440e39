import type { Operations } from "../../protocol/generated/types/ssm.js";
import type { Provider } from "../../protocol/service.js";
import { requireByName } from "./context.js";
import type { ParameterStore } from "./store.js";
import { ssmErrors } from "../../protocol/generated/errors/ssm.js";

const LABEL = /^[a-zA-Z0-9_.-]+$/;

/** LabelParameterVersion, UnlabelParameterVersion: a label names one version of a parameter at a time. */
export function labelOperations(ps: ParameterStore): Provider<Operations> {
  return {
    LabelParameterVersion: (input, ctx) =>
      ps.store.transaction(() => {
        const p = requireByName(ps, ctx, input.Name);
        const versionNo = input.ParameterVersion ?? p.versions[p.versions.length - 1].Version;
        const target = p.versions.find((v) => v.Version === versionNo);
        if (!target)
          throw ssmErrors.ParameterVersionNotFound(
            `Systems Manager could not find version ${versionNo} of ${p.Name}. Verify the version and try again.`,
          );
        const invalid = input.Labels.filter(
          (l) => l.length > 100 || !LABEL.test(l) || /^\d/.test(l) || /^(aws|ssm)/i.test(l),
        );
        const valid = input.Labels.filter((l) => !invalid.includes(l));
        const labels = [...new Set([...target.Labels, ...valid])];
        if (labels.length > 10)
          throw ssmErrors.ParameterVersionLabelLimitExceeded(
            "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
          );
        const versions = p.versions.map((v) =>
          v.Version === versionNo
            ? { ...v, Labels: labels }
            : { ...v, Labels: v.Labels.filter((l) => !valid.includes(l)) },
        );
        ps.parameters.put(ctx, { ...p, versions });
        return { InvalidLabels: invalid, ParameterVersion: versionNo };
      }),
    UnlabelParameterVersion: (input, ctx) =>
      ps.store.transaction(() => {
        const p = requireByName(ps, ctx, input.Name);
        const target = p.versions.find((v) => v.Version === input.ParameterVersion);
        if (!target)
          throw ssmErrors.ParameterVersionNotFound(
            `Systems Manager could not find version ${input.ParameterVersion} of ${p.Name}. Verify the version and try again.`,
          );
        const RemovedLabels = input.Labels.filter((l) => target.Labels.includes(l));
        const InvalidLabels = input.Labels.filter((l) => !target.Labels.includes(l));
        const versions = p.versions.map((v) =>
          v.Version === input.ParameterVersion
            ? { ...v, Labels: v.Labels.filter((l) => !RemovedLabels.includes(l)) }
            : v,
        );
        ps.parameters.put(ctx, { ...p, versions });
        return { RemovedLabels, InvalidLabels };
      }),
  };
}
