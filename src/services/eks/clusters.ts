import { hexId, uuid } from "../../core/ids.js";
import { callerOf } from "../../iam/identity.js";
import { eksErrors } from "../../protocol/generated/errors/eks.js";
import type {
  ClusterVersionInformation,
  CreateClusterRequest,
  Logging,
  Operations,
  UpdateParam,
  UpdateType,
} from "../../protocol/generated/types/eks.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import type { ClusterChange, EksClusterRecord, EksUpdateRecord } from "../../store/schema/eks.js";
import { bootstrapCreatorEntry } from "./access-entries.js";
import { canonicalArn } from "./authenticator.js";
import { type EksContext, invalidParameter, invalidRequest, namePage, resourceInUse } from "./context.js";
import { createClusterPki, serverNames } from "./pki.js";
import { allocatePort } from "./ports.js";
import { checkTagMap } from "./tags.js";
import {
  checkAuthenticationModeChange,
  checkClusterName,
  checkRoleArn,
  checkServiceCidr,
  firstServiceIp,
  loggingOf,
  mergeLogging,
} from "./validate.js";
import { EKS_VERSIONS, checkUpgrade, chooseVersion, versionInfo } from "./versions.js";

const DEFAULT_SERVICE_CIDR = "10.100.0.0/16";
const AUTH_MODES = ["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"];

/** Whether a repeated CreateCluster (same clientRequestToken) asks for what the cluster already is. */
const sameRequest = (c: EksClusterRecord, input: CreateClusterRequest) =>
  c.clientRequestToken !== undefined &&
  c.clientRequestToken === input.clientRequestToken &&
  c.roleArn === input.roleArn;

export function clusterOperations(eks: EksContext): Provider<Operations> {
  const { clusters, updates } = eks.records;

  async function newCluster(input: CreateClusterRequest, ctx: RequestContext): Promise<EksClusterRecord> {
    const name = input.name;
    const nameError = checkClusterName(name);
    if (nameError) throw invalidParameter(nameError, name);
    const roleError = checkRoleArn(input.roleArn);
    if (roleError) throw invalidParameter(roleError, name);
    const chosen = chooseVersion(input.version);
    if ("error" in chosen) throw invalidParameter(chosen.error, name);
    const net = input.kubernetesNetworkConfig ?? {};
    if ((net.ipFamily ?? "ipv4") !== "ipv4")
      throw invalidParameter("Berth's EKS clusters use the ipv4 IP family only.", name);
    const serviceCidr = net.serviceIpv4Cidr ?? DEFAULT_SERVICE_CIDR;
    const cidrError = checkServiceCidr(serviceCidr);
    if (cidrError) throw invalidParameter(cidrError, name);
    const mode = input.accessConfig?.authenticationMode ?? "API_AND_CONFIG_MAP";
    if (!AUTH_MODES.includes(mode)) throw invalidParameter(`The authentication mode ${mode} is invalid.`, name);
    const logging = mergeLogging(loggingOf(new Set()), input.logging ?? {});
    if ("error" in logging) throw invalidParameter(logging.error, name);
    if (input.tags) checkTagMap(input.tags);
    const vpc = input.resourcesVpcConfig ?? {};
    const taken = new Set([...clusters.listAll().map((c) => c.doc.port), ...eks.reservedPorts]);
    const port = await allocatePort(eks.config.ports, taken, eks.config.host);
    if (port === undefined)
      throw eksErrors.ResourceLimitExceededException(
        `No free port for another cluster's API server in ${eks.config.ports.base}–${eks.config.ports.base + eks.config.ports.count - 1} (BERTH_EKS_PORT_BASE, BERTH_EKS_PORT_COUNT).`,
        { clusterName: name },
      );
    eks.reservedPorts.add(port);
    try {
      const pki = await createClusterPki(serverNames(firstServiceIp(serviceCidr)), eks.clock.now());
      const caller = callerOf(ctx);
      return {
        name,
        arn: eks.clusterArn(ctx, name),
        id: uuid(),
        createdAt: eks.clock.now(),
        version: chosen.version,
        platformVersion: versionInfo(chosen.version)!.platformVersion,
        roleArn: input.roleArn,
        status: "CREATING",
        transitionAt: eks.after(eks.config.createDelayMs),
        resourcesVpcConfig: {
          subnetIds: vpc.subnetIds ?? [],
          securityGroupIds: vpc.securityGroupIds ?? [],
          clusterSecurityGroupId: `sg-${hexId(9).slice(0, 17)}`,
          vpcId: `vpc-${hexId(9).slice(0, 17)}`,
          endpointPublicAccess: vpc.endpointPublicAccess ?? true,
          endpointPrivateAccess: vpc.endpointPrivateAccess ?? false,
          publicAccessCidrs: vpc.publicAccessCidrs ?? ["0.0.0.0/0"],
        },
        kubernetesNetworkConfig: {
          serviceIpv4Cidr: serviceCidr,
          ipFamily: "ipv4",
          elasticLoadBalancing: net.elasticLoadBalancing ?? { enabled: false },
        },
        logging,
        accessConfig: {
          authenticationMode: mode as EksClusterRecord["accessConfig"]["authenticationMode"],
          bootstrapClusterCreatorAdminPermissions: input.accessConfig?.bootstrapClusterCreatorAdminPermissions ?? true,
        },
        tags: input.tags ?? {},
        ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
        creatorArn: canonicalArn(caller),
        oidcId: hexId(16).toUpperCase(),
        port,
        pki,
        upgradePolicy: { supportType: input.upgradePolicy?.supportType ?? "EXTENDED" },
        deletionProtection: input.deletionProtection ?? false,
      };
    } finally {
      eks.reservedPorts.delete(port);
    }
  }

  /** Starts an update: the cluster is UPDATING until it completes. */
  async function startUpdate(
    ctx: RequestContext,
    c: EksClusterRecord,
    type: UpdateType,
    params: UpdateParam[],
    change: ClusterChange,
    token: string | undefined,
  ) {
    const record: EksUpdateRecord = {
      id: uuid(),
      clusterName: c.name,
      status: "InProgress",
      type,
      params,
      createdAt: eks.clock.now(),
      errors: [],
      ...(token ? { clientRequestToken: token } : {}),
      completeAt: eks.after(eks.config.updateDelayMs),
      change,
    };
    eks.store.transaction(() => {
      updates.put(ctx, record);
      clusters.put(ctx, { ...c, status: "UPDATING" });
    });
    if (eks.config.updateDelayMs <= 0) await eks.settle(ctx, c.name);
    return { update: eks.updateView(updates.get(ctx, record.id) ?? record) };
  }

  /** An update request on a cluster that can take one now (ACTIVE, none in progress), or the existing one for a repeated token. */
  async function updatable(ctx: RequestContext, name: string, token: string | undefined) {
    const c = await eks.requireCluster(ctx, name);
    const previous = token ? updates.children(ctx, name).find((u) => u.clientRequestToken === token) : undefined;
    if (previous) return { c, previous };
    if (c.status !== "ACTIVE") {
      const inProgress = updates.children(ctx, name).find((u) => u.status === "InProgress");
      if (inProgress)
        throw resourceInUse(
          `Cluster ${name} has an update in progress (${inProgress.id}); wait until it is Successful.`,
          name,
        );
      throw resourceInUse(`Cluster ${name} is ${c.status}; updates need an ACTIVE cluster.`, name);
    }
    return { c };
  }

  return {
    CreateCluster: async (input, ctx) => {
      const existing = clusters.get(ctx, input.name);
      if (existing) {
        if (sameRequest(existing, input)) return { cluster: eks.view(ctx, existing) };
        throw resourceInUse(`Cluster already exists with name: ${input.name}`, input.name);
      }
      const record = await newCluster(input, ctx);
      const created = eks.store.transaction(() => {
        // Another CreateCluster may have won while the certificates were made.
        if (clusters.get(ctx, record.name))
          throw resourceInUse(`Cluster already exists with name: ${record.name}`, record.name);
        clusters.put(ctx, record);
        const entry = bootstrapCreatorEntry(eks, ctx, record);
        if (entry) eks.records.accessEntries.put(ctx, entry);
        return record;
      });
      if (eks.config.createDelayMs <= 0) await eks.settle(ctx, created.name);
      return { cluster: eks.view(ctx, created) };
    },

    DescribeCluster: async (input, ctx) => ({ cluster: eks.view(ctx, await eks.requireCluster(ctx, input.name)) }),

    ListClusters: async (input, ctx) => {
      const names: string[] = [];
      for (const c of clusters.list(ctx)) if (await eks.settle(ctx, c.name)) names.push(c.name);
      const { page, nextToken } = namePage(names, input.nextToken, input.maxResults);
      return { clusters: page, ...(nextToken ? { nextToken } : {}) };
    },

    DeleteCluster: async (input, ctx) => {
      const c = await eks.requireCluster(ctx, input.name);
      if (c.status === "DELETING") return { cluster: eks.view(ctx, c) };
      if (c.deletionProtection)
        throw invalidRequest(
          `Cluster ${c.name} has deletion protection enabled; turn it off with update-cluster-config --no-deletion-protection first.`,
          c.name,
        );
      for (const guard of eks.guards) {
        const reason = guard({ scope: ctx, name: c.name });
        if (reason) throw resourceInUse(reason, c.name);
      }
      const deleting: EksClusterRecord = {
        ...c,
        status: "DELETING",
        transitionAt: eks.after(eks.config.deleteDelayMs),
      };
      clusters.put(ctx, deleting);
      if (eks.config.deleteDelayMs <= 0) await eks.settle(ctx, c.name);
      return { cluster: eks.view(ctx, deleting) };
    },

    UpdateClusterVersion: async (input, ctx) => {
      const { c, previous } = await updatable(ctx, input.name, input.clientRequestToken);
      if (previous) return { update: eks.updateView(previous) };
      const check = checkUpgrade(c.version, input.version);
      if ("error" in check) throw invalidParameter(check.error, c.name);
      const platformVersion = versionInfo(input.version)!.platformVersion;
      return startUpdate(
        ctx,
        c,
        "VersionUpdate",
        [
          { type: "Version", value: input.version },
          { type: "PlatformVersion", value: platformVersion },
        ],
        { version: input.version, platformVersion },
        input.clientRequestToken,
      );
    },

    UpdateClusterConfig: async (input, ctx) => {
      const { c, previous } = await updatable(ctx, input.name, input.clientRequestToken);
      if (previous) return { update: eks.updateView(previous) };
      const kinds = (
        [
          ["logging", input.logging],
          ["resourcesVpcConfig", input.resourcesVpcConfig],
          ["accessConfig", input.accessConfig],
          ["deletionProtection", input.deletionProtection],
        ] as const
      ).filter(([, v]) => v !== undefined);
      const unsupported = (
        [
          "upgradePolicy",
          "zonalShiftConfig",
          "computeConfig",
          "kubernetesNetworkConfig",
          "storageConfig",
          "remoteNetworkConfig",
          "controlPlaneScalingConfig",
        ] as const
      ).filter((k) => input[k] !== undefined);
      if (unsupported.length) throw invalidParameter(`Berth's EKS does not update ${unsupported.join(", ")}.`, c.name);
      if (kinds.length === 0) throw invalidParameter("No update was specified; name one setting to change.", c.name);
      if (kinds.length > 1) throw invalidParameter("Only one type of update can be allowed.", c.name);
      const token = input.clientRequestToken;
      if (input.logging) {
        const logging = mergeLogging(c.logging, input.logging);
        if ("error" in logging) throw invalidParameter(logging.error, c.name);
        if (sameLogging(logging, c.logging))
          throw invalidParameter("No changes needed for the logging config provided", c.name);
        return startUpdate(
          ctx,
          c,
          "LoggingUpdate",
          [{ type: "ClusterLogging", value: JSON.stringify(logging) }],
          { logging },
          token,
        );
      }
      if (input.resourcesVpcConfig) {
        const v = input.resourcesVpcConfig;
        if (v.subnetIds !== undefined || v.securityGroupIds !== undefined)
          throw invalidParameter("Berth's EKS updates only the endpoint access of resourcesVpcConfig.", c.name);
        const cur = c.resourcesVpcConfig;
        const pub = v.endpointPublicAccess ?? cur.endpointPublicAccess ?? true;
        const priv = v.endpointPrivateAccess ?? cur.endpointPrivateAccess ?? false;
        const cidrs = v.publicAccessCidrs ?? cur.publicAccessCidrs ?? ["0.0.0.0/0"];
        if (!pub && !priv)
          throw invalidParameter("Either endpointPublicAccess or endpointPrivateAccess must be enabled.", c.name);
        if (
          pub === cur.endpointPublicAccess &&
          priv === cur.endpointPrivateAccess &&
          JSON.stringify(cidrs) === JSON.stringify(cur.publicAccessCidrs)
        )
          throw invalidParameter(
            `Cluster is already at the desired configuration with endpointPrivateAccess: ${priv} , endpointPublicAccess: ${pub}, and Public Endpoint Restrictions: [${cidrs.join(", ")}]`,
            c.name,
          );
        return startUpdate(
          ctx,
          c,
          "EndpointAccessUpdate",
          [
            { type: "EndpointPublicAccess", value: String(pub) },
            { type: "EndpointPrivateAccess", value: String(priv) },
            { type: "PublicAccessCidrs", value: JSON.stringify(cidrs) },
          ],
          { endpointPublicAccess: pub, endpointPrivateAccess: priv, publicAccessCidrs: cidrs },
          token,
        );
      }
      if (input.accessConfig) {
        const to = input.accessConfig.authenticationMode;
        if (!to) throw invalidParameter("accessConfig needs an authenticationMode.", c.name);
        const error = checkAuthenticationModeChange(c.accessConfig.authenticationMode, to);
        if (error) throw invalidParameter(error, c.name);
        return startUpdate(
          ctx,
          c,
          "AccessConfigUpdate",
          [{ type: "AuthenticationMode", value: to }],
          { authenticationMode: to },
          token,
        );
      }
      const protect = input.deletionProtection!;
      if (protect === c.deletionProtection)
        throw invalidParameter(
          `Cluster is already at the desired configuration with deletionProtection: ${protect}`,
          c.name,
        );
      return startUpdate(
        ctx,
        c,
        "DeletionProtectionUpdate",
        [{ type: "DeletionProtection", value: String(protect) }],
        { deletionProtection: protect },
        token,
      );
    },

    DescribeUpdate: async (input, ctx) => {
      await eks.requireCluster(ctx, input.name);
      if (input.nodegroupName || input.addonName || input.capabilityName)
        throw eksErrors.ResourceNotFoundException(`No update found for ID: ${input.updateId}`, {
          clusterName: input.name,
        });
      const u = updates.get(ctx, input.updateId);
      if (!u || u.clusterName !== input.name)
        throw eksErrors.ResourceNotFoundException(`No update found for ID: ${input.updateId}`, {
          clusterName: input.name,
        });
      return { update: eks.updateView(u) };
    },

    ListUpdates: async (input, ctx) => {
      await eks.requireCluster(ctx, input.name);
      const list =
        input.nodegroupName || input.addonName || input.capabilityName ? [] : updates.children(ctx, input.name);
      // Oldest first, as EKS lists them; the token is the last id returned.
      const ordered = list.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((u) => u.id);
      const start = input.nextToken ? ordered.indexOf(input.nextToken) + 1 : 0;
      if (input.nextToken && start === 0) throw invalidParameter("The nextToken is not valid.", input.name);
      const limit = input.maxResults ?? 100;
      const page = ordered.slice(start, start + limit);
      const more = start + page.length < ordered.length;
      return { updateIds: page, ...(more ? { nextToken: page[page.length - 1] } : {}) };
    },

    DescribeClusterVersions: (input) => {
      let list = [...EKS_VERSIONS].reverse();
      if (input.clusterType && input.clusterType !== "eks") list = [];
      if (input.clusterVersions?.length) list = list.filter((v) => input.clusterVersions!.includes(v.version));
      if (input.versionStatus) list = list.filter((v) => v.versionStatus === input.versionStatus);
      const defaultVersion = chooseVersion(undefined) as { version: string };
      if (input.defaultOnly) list = list.filter((v) => v.version === defaultVersion.version);
      const clusterVersions: ClusterVersionInformation[] = list.map((v) => ({
        clusterVersion: v.version,
        clusterType: "eks",
        defaultPlatformVersion: v.platformVersion,
        defaultVersion: v.version === defaultVersion.version,
        releaseDate: new Date(`${v.releaseDate}T00:00:00Z`),
        endOfStandardSupportDate: new Date(`${v.endOfStandardSupportDate}T00:00:00Z`),
        endOfExtendedSupportDate: new Date(`${v.endOfExtendedSupportDate}T00:00:00Z`),
        status: v.versionStatus === "STANDARD_SUPPORT" ? "standard-support" : "extended-support",
        versionStatus: v.versionStatus,
        kubernetesPatchVersion: v.patch,
      }));
      const { page, nextToken } = namePage(
        clusterVersions.map((v) => v.clusterVersion!),
        input.nextToken,
        input.maxResults,
      );
      return {
        clusterVersions: clusterVersions.filter((v) => page.includes(v.clusterVersion!)),
        ...(nextToken ? { nextToken } : {}),
      };
    },
  };
}

const sameLogging = (a: Logging, b: Logging) => JSON.stringify(a) === JSON.stringify(b);
