import type { Scope } from "../core/ids.js";
import type { Protocol } from "./http.js";
import type { ServiceModel } from "./model.js";

/** Who is calling, as authentication established it. */
export interface Principal {
  accessKeyId: string;
  arn: string;
}

/** What a provider knows about the request: never HTTP, only identity and scope. */
export interface RequestContext extends Scope {
  requestId: string;
  principal: Principal;
}

type Handler<I, O> = (input: I, ctx: RequestContext) => Promise<O> | O;

/** A provider implements some of a model's operations with the generated types. */
export type Provider<Ops> = {
  [K in keyof Ops]?: Ops[K] extends { input: infer I; output: infer O } ? Handler<I, O> : never;
};

export type ServiceState = "starting" | "running" | "degraded";

/** One AWS service as the edge sees it. */
export interface ServiceDefinition {
  /** Berth's id for the service, also the generated model's file name. */
  id: string;
  model: ServiceModel;
  protocol: Protocol;
  /** SigV4 signing names that route to this service. */
  signingNames: string[];
  // biome-ignore lint/suspicious/noExplicitAny: the edge dispatches by operation name; types are checked at the provider
  provider: Record<string, Handler<any, any> | undefined>;
  state(): ServiceState;
}
