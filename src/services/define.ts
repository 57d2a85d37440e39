import { awsJsonProtocol } from "../protocol/json/protocol.js";
import { loadModel } from "../protocol/model.js";
import { awsQueryProtocol } from "../protocol/query/protocol.js";
import { restJsonProtocol } from "../protocol/restjson/protocol.js";
import type { Provider, ServiceDefinition, ServiceState } from "./service.js";

/** Builds a service definition from a generated model, picking the protocol the model declares. */
export function defineService<Ops>(
  id: string,
  provider: Provider<Ops>,
  options: { validationCode: string; state?: () => ServiceState },
): ServiceDefinition {
  const model = loadModel(id);
  const kind = model.metadata.protocol;
  const protocol =
    kind === "json"
      ? awsJsonProtocol(model, options.validationCode)
      : kind === "query"
        ? awsQueryProtocol(model, options.validationCode)
        : kind === "rest-json"
          ? restJsonProtocol(model, options.validationCode)
          : undefined;
  if (!protocol) throw new Error(`protocol ${kind} of ${id} is not supported yet`);
  const signingNames = [model.metadata.signingName ?? model.metadata.endpointPrefix, model.metadata.endpointPrefix];
  return {
    id,
    model,
    protocol,
    signingNames: [...new Set(signingNames)],
    provider: provider as ServiceDefinition["provider"],
    state: options.state ?? (() => "running"),
  };
}
