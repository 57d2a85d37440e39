import type { Config } from "../config/config.js";
import type { EdgeIdentity } from "../iam/index.js";
import { type Clock, systemClock } from "../core/clock.js";
import { ServiceError, commonErrors, internalError, notImplemented } from "../core/errors.js";
import { uuid } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import type { Protocol, WireRequest, WireResponse } from "../protocol/http.js";
import { errorStatus } from "../protocol/model.js";
import {
  type PresignedClaim,
  type SigV4Claim,
  presignedSignatureMatches,
  readClaim,
  readPresignedClaim,
  signatureMatches,
  signatureTimeProblem,
} from "../protocol/sigv4.js";
import { resolveAccessKey } from "../iam/credentials.js";
import { type CallerIdentity, rootIdentity } from "../iam/identity.js";
import type { RequestContext, ServiceDefinition } from "../protocol/service.js";

/** State one request accumulates as it passes the chain's steps in order. */
export interface Exchange {
  requestId: string;
  started: number;
  req: WireRequest;
  service?: ServiceDefinition;
  /** The protocol the request came in, which answers it (a service may speak several). */
  protocol?: Protocol;
  /** The caller's SigV4 claim: from the Authorization header, or a presigned URL's query. */
  claim?: SigV4Claim | PresignedClaim;
  ctx?: RequestContext;
  /** Who is calling, once authenticated (also `ctx.principal`). */
  caller?: CallerIdentity;
  operation?: string;
  input?: Record<string, unknown>;
  output?: unknown;
  response?: WireResponse;
}

export type Step = (ex: Exchange) => Promise<void> | void;

export interface ChainDeps {
  config: Config;
  /** Server time for the SigV4 date check; the system clock by default. */
  clock?: Clock;
  services: ServiceDefinition[];
  logger: Logger;
  identity?: EdgeIdentity;
}

const isPresigned = (c: SigV4Claim | PresignedClaim): c is PresignedClaim => "expiresSec" in c;

/**
 * The ordered handler chain: detect service → authenticate → parse → provider → serialize.
 * (Request id and body reading happen in the HTTP listener before the chain starts.)
 * Any step may throw a ServiceError; it is rendered in the detected service's protocol.
 */
export function buildChain({ config, services, logger, identity, clock = systemClock }: ChainDeps) {
  const byTarget = new Map<string, ServiceDefinition>();
  const bySigningName = new Map<string, ServiceDefinition>();
  for (const s of services) {
    if (s.model.metadata.targetPrefix) byTarget.set(s.model.metadata.targetPrefix, s);
    for (const name of s.signingNames) if (!bySigningName.has(name)) bySigningName.set(name, s);
  }

  const detectService: Step = (ex) => {
    const target = ex.req.headers["x-amz-target"];
    if (target) ex.service = byTarget.get(target.slice(0, target.lastIndexOf(".")));
    ex.claim = readClaim(ex.req) ?? readPresignedClaim(ex.req.query);
    if (!ex.service && ex.claim) ex.service = bySigningName.get(ex.claim.service);
    // Unsigned query-protocol calls name their service only by Action and Version.
    if (!ex.service) ex.service = queryServiceOf(ex.req, services);
    if (!ex.service)
      throw commonErrors.UnknownService(
        `Berth could not tell which AWS service this request is for (X-Amz-Target ${target ?? "absent"}, signing name ${ex.claim?.service ?? "absent"}). Served: ${services.map((s) => s.id).join(", ")}.`,
      );
    ex.protocol = ex.service.protocol.forRequest?.(ex.req) ?? ex.service.protocol;
  };

  const authenticate: Step = async (ex) => {
    const { claim } = ex;
    const json = ex.protocol!.kind !== "query" && ex.protocol!.kind !== "ec2";
    // The query wire's code (403) or the JSON wire's `…Exception` spelling (400).
    const signatureMismatch = json ? commonErrors.InvalidSignatureException : commonErrors.SignatureDoesNotMatch;
    const unrecognizedKey = json ? commonErrors.UnrecognizedClientException : commonErrors.InvalidClientTokenId;
    const region = claim?.region ?? config.defaultRegion;
    let account = config.defaultAccount;
    let caller: CallerIdentity | undefined;
    const verify = async (c: SigV4Claim | PresignedClaim, secret: string) => {
      const presigned = isPresigned(c);
      const late = signatureTimeProblem(c.amzDate, clock.now(), presigned ? c.expiresSec : undefined);
      if (late) throw signatureMismatch(late);
      const matches = presigned
        ? await presignedSignatureMatches(ex.req, c, secret)
        : await signatureMatches(ex.req, c, secret);
      if (!matches)
        throw signatureMismatch(
          "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        );
    };
    const resolved = claim
      ? resolveAccessKey(
          config,
          (id, token) => identity?.lookup(id, token) ?? { kind: "unknown" },
          claim.accessKeyId,
          claim.sessionToken,
        )
      : undefined;
    if (!claim || !resolved) {
      if (config.auth === "strict")
        throw (json ? commonErrors.MissingAuthenticationTokenException : commonErrors.MissingAuthenticationToken)(
          "Request is missing Authentication Token",
        );
    } else if (resolved.kind === "signed") {
      // The root key, or a key Berth issued (an IAM user's, or temporary credentials): its own secret signs.
      await verify(claim, resolved.secretAccessKey);
      caller = resolved.identity;
      account = caller.account;
    } else if (resolved.kind === "unsigned") {
      // A 12-digit key id selects that account; an unknown key in lenient mode is the default account's root.
      caller = resolved.identity;
      account = caller.account;
    } else if (resolved.reason === "expired") {
      throw (json ? commonErrors.ExpiredTokenException : commonErrors.ExpiredToken)(resolved.message);
    } else {
      throw unrecognizedKey(resolved.message);
    }
    ex.caller = caller ?? rootIdentity(account, claim?.accessKeyId ?? "anonymous");
    ex.ctx = { requestId: ex.requestId, account, region, principal: ex.caller };
  };

  const parseOperation: Step = (ex) => {
    const parsed = ex.protocol!.parse(ex.req);
    ex.operation = parsed.operation;
    ex.input = parsed.input;
  };

  const authorize: Step = (ex) => {
    if (!identity || ex.caller!.permissive) return;
    const meta = ex.service!.model.metadata;
    identity.authorize(
      ex.caller!,
      { id: ex.service!.id, signingName: meta.signingName ?? meta.endpointPrefix, protocol: ex.protocol!.kind },
      ex.operation!,
      ex.input!,
      { account: ex.ctx!.account, region: ex.ctx!.region, sourceIp: ex.req.sourceIp },
    );
  };

  const invokeProvider: Step = async (ex) => {
    const handler = ex.service!.provider[ex.operation!];
    if (!handler) throw notImplemented(ex.service!.model.metadata.serviceId, ex.operation!);
    ex.output = await handler(ex.input, ex.ctx!);
  };

  const serialize: Step = (ex) => {
    ex.response = ex.protocol!.serialize(ex.operation!, ex.output, ex.requestId);
  };

  const steps: Step[] = [detectService, authenticate, parseOperation, authorize, invokeProvider, serialize];

  function renderError(ex: Exchange, err: unknown): WireResponse {
    let e: ServiceError;
    if (err instanceof ServiceError) e = err;
    else {
      logger.error({ err, requestId: ex.requestId, operation: ex.operation }, "unhandled error");
      e = internalError(ex.requestId);
    }
    if (!ex.service || !ex.protocol)
      return {
        status: e.status,
        headers: { "content-type": "application/json", "x-amzn-requestid": ex.requestId, "x-amzn-errortype": e.code },
        body: JSON.stringify({ __type: e.code, message: e.message }),
      };
    const status = errorStatus(ex.service.model, e.code, e.status);
    return ex.protocol.renderError(e.code, e.message, status, e.fault, ex.requestId, e.fields);
  }

  async function handle(req: WireRequest): Promise<{ response: WireResponse; ex: Exchange }> {
    const ex: Exchange = { requestId: uuid(), started: performance.now(), req };
    try {
      for (const step of steps) await step(ex);
    } catch (err) {
      ex.response = renderError(ex, err);
    }
    return { response: ex.response!, ex };
  }

  /**
   * Authenticates and authorises a request that is not an API call (a WebSocket upgrade signed
   * like one, e.g. the agent's channel, whose action is `ecs:Poll`): the caller's context, or the
   * error response AWS would send.
   */
  async function authorizeCall(
    req: WireRequest,
    operation: string,
    input: Record<string, unknown> = {},
  ): Promise<{ ctx: RequestContext; caller: CallerIdentity } | { response: WireResponse }> {
    const ex: Exchange = { requestId: uuid(), started: performance.now(), req, operation, input };
    try {
      for (const step of [detectService, authenticate, authorize]) await step(ex);
      return { ctx: ex.ctx!, caller: ex.caller! };
    } catch (err) {
      return { response: renderError(ex, err) };
    }
  }

  return Object.assign(handle, { authorizeCall });
}

export type Chain = ReturnType<typeof buildChain>;

/** The query-protocol service an Action/Version pair (in the query string or a form body) belongs to. */
export function queryServiceOf(req: WireRequest, services: ServiceDefinition[]): ServiceDefinition | undefined {
  const params = new URLSearchParams(req.query);
  if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded"))
    for (const [k, v] of new URLSearchParams(req.body.toString("utf8"))) params.set(k, v);
  const action = params.get("Action");
  if (!action) return undefined;
  const version = params.get("Version");
  const candidates = services.filter((s) => {
    const meta = s.model.metadata;
    const query = meta.protocol === "query" || meta.protocol === "ec2" || meta.protocols?.includes("query");
    return query && action in s.model.operations && (!version || meta.apiVersion === version);
  });
  return candidates.length === 1 ? candidates[0] : undefined;
}
