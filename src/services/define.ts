import { rpcV2CborProtocol } from "../protocol/cbor/protocol.js";
import { ec2Protocol } from "../protocol/ec2/protocol.js";
import type { Protocol } from "../protocol/http.js";
import { awsJsonProtocol } from "../protocol/json/protocol.js";
import { type ServiceModel, loadModel } from "../protocol/model.js";
import { awsQueryProtocol } from "../protocol/query/protocol.js";
import { restJsonProtocol } from "../protocol/restjson/protocol.js";
import { perRequestProtocol } from "../protocol/select.js";
import type { Provider, ServiceDefinition, ServiceState } from "../protocol/service.js";

/** The protocol of one of the model's protocol names, or undefined when Berth does not speak it. */
function protocolFor(
  kind: string,
  model: ServiceModel,
  validationCode: string,
  typeErrorCode?: string,
): Protocol | undefined {
  switch (kind) {
    case "json":
      return awsJsonProtocol(model, validationCode);
    case "query":
      return awsQueryProtocol(model, validationCode, typeErrorCode);
    case "ec2":
      return ec2Protocol(model, validationCode);
    case "rest-json":
      return restJsonProtocol(model, validationCode);
    case "smithy-rpc-v2-cbor":
      return rpcV2CborProtocol(model, validationCode);
    default:
      return undefined;
  }
}

/**
 * Builds a service definition from a generated model. A model that lists several protocols
 * (`metadata.protocols`, in the model's order of preference) is served in every one of them
 * that Berth speaks, each request answered in the protocol it came in.
 */
export function defineService<Ops>(
  id: string,
  provider: Provider<Ops>,
  options: {
    validationCode: string;
    /** The query protocol's code for a value of the wrong type (default: the validation code). */
    typeErrorCode?: string;
    state?: () => ServiceState;
  },
): ServiceDefinition {
  const model = loadModel(id);
  const kinds = model.metadata.protocols?.length ? model.metadata.protocols : [model.metadata.protocol];
  const protocols = kinds
    .map((kind) => protocolFor(kind, model, options.validationCode, options.typeErrorCode))
    .filter((p): p is Protocol => p !== undefined);
  if (protocols.length === 0) throw new Error(`protocols ${kinds.join(", ")} of ${id} are not supported yet`);
  const protocol = protocols.length === 1 ? protocols[0] : perRequestProtocol(protocols);
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
