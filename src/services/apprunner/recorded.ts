/**
 * App Runner resources Berth records without running anything: connections (a local source
 * replaces GitHub and Bitbucket, so a connection is AVAILABLE at once) and VPC connectors
 * (named subnets and security groups; revisioned), and the tag operations for every ARN.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { arn } from "../../core/ids.js";
import { pageByKey } from "../../core/paginate.js";
import { mergeTags, removeTags } from "../../core/tags.js";
import { apprunnerErrors } from "../../protocol/generated/errors/apprunner.js";
import type { Operations, Tag } from "../../protocol/generated/types/apprunner.js";
import type { Provider } from "../../protocol/service.js";
import type { AppRunnerCollections, AppRunnerVpcConnectorRecord } from "../../store/schema/apprunner.js";

const invalid = apprunnerErrors.InvalidRequestException;
const notFound = apprunnerErrors.ResourceNotFoundException;
const badToken = () => invalid("The NextToken is not valid: pass the NextToken of the previous response unchanged.");
const TAG_LIMIT = {
  max: 50,
  missingValue: "",
  tooMany: (n: number) => invalid(`A resource takes at most 50 tags (got ${n}).`),
};

/** A connection's name: 4 to 32 letters, digits, hyphens and underscores, starting with a letter or digit. */
function checkName(member: string, value: string) {
  if (!/^[A-Za-z0-9][A-Za-z0-9\-_]{3,31}$/.test(value))
    throw invalid(
      `${member} '${value}' is not valid: 4 to 32 letters, digits, hyphens and underscores, starting with a letter or digit.`,
    );
}

export function recordedOperations(c: AppRunnerCollections, clock: Clock): Provider<Operations> {
  const connectorView = (r: AppRunnerVpcConnectorRecord) => ({
    VpcConnectorName: r.VpcConnectorName,
    VpcConnectorArn: r.VpcConnectorArn,
    VpcConnectorRevision: r.VpcConnectorRevision,
    Subnets: r.Subnets,
    SecurityGroups: r.SecurityGroups,
    Status: r.Status,
    CreatedAt: r.CreatedAt,
    ...(r.DeletedAt ? { DeletedAt: r.DeletedAt } : {}),
  });

  /** The record an ARN names in the caller's account and region, of any App Runner kind. */
  const tagged = (resourceArn: string) => {
    for (const col of [c.services, c.autoScaling, c.connections, c.vpcConnectors] as const) {
      const found = (col as typeof c.services).byArn(resourceArn) as
        | { scope: { account: string; region: string }; doc: { Tags: Tag[] } }
        | undefined;
      if (found) return { col: col as unknown as { put(s: unknown, d: unknown): void }, ...found };
    }
    throw notFound(`Resource ${resourceArn} was not found.`);
  };

  return {
    CreateConnection: (input, ctx) => {
      checkName("ConnectionName", input.ConnectionName);
      if (c.connections.get(ctx, input.ConnectionName))
        throw invalid(`Connection with the provided name already exists: ${input.ConnectionName}`);
      const r = c.connections.put(ctx, {
        ConnectionName: input.ConnectionName,
        ConnectionArn: arn("apprunner", ctx, `connection/${input.ConnectionName}/${randomBytes(16).toString("hex")}`),
        ProviderType: input.ProviderType,
        Status: "AVAILABLE",
        CreatedAt: clock.now(),
        Tags: input.Tags ?? [],
      });
      const { Tags: _, ...view } = r;
      return { Connection: view as never };
    },
    ListConnections: (input, ctx) => {
      if (input.ConnectionName !== undefined) checkName("ConnectionName", input.ConnectionName);
      const items = c.connections
        .list(ctx)
        .filter((r) => !input.ConnectionName || r.ConnectionName === input.ConnectionName);
      const { page, nextToken } = pageByKey(items, (r) => [r.ConnectionName], {
        nextToken: input.NextToken,
        limit: input.MaxResults ?? 100,
        invalidToken: badToken,
      });
      return {
        ConnectionSummaryList: page.map(({ Tags: _, ...v }) => v as never),
        ...(nextToken ? { NextToken: nextToken } : {}),
      };
    },
    DeleteConnection: (input, ctx) => {
      const found = c.connections.byArn(input.ConnectionArn);
      if (!found || found.scope.account !== ctx.account)
        throw notFound(`Connection ${input.ConnectionArn} was not found.`);
      c.connections.delete(ctx, found.doc.ConnectionName);
      const { Tags: _, ...view } = found.doc;
      return { Connection: { ...view, Status: "DELETED" } as never };
    },

    CreateVpcConnector: (input, ctx) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9\-_]{3,39}$/.test(input.VpcConnectorName))
        throw invalid(
          `VpcConnectorName '${input.VpcConnectorName}' is not valid: 4 to 40 letters, digits, hyphens and underscores.`,
        );
      if (!input.Subnets.length) throw invalid("Subnets must name at least one subnet.");
      for (const s of input.Subnets)
        if (!/^subnet-[0-9a-f]{8,17}$/.test(s)) throw invalid(`Subnet '${s}' is not a subnet id (subnet-…).`);
      for (const g of input.SecurityGroups ?? [])
        if (!/^sg-[0-9a-f]{8,17}$/.test(g)) throw invalid(`SecurityGroup '${g}' is not a security group id (sg-…).`);
      const previous = c.vpcConnectors.list(ctx).filter((r) => r.VpcConnectorName === input.VpcConnectorName);
      if (previous.some((r) => r.Status === "ACTIVE"))
        throw invalid(`VPC connector with the provided name already exists: ${input.VpcConnectorName}`);
      const revision = Math.max(0, ...previous.map((r) => r.VpcConnectorRevision)) + 1;
      const r = c.vpcConnectors.put(ctx, {
        VpcConnectorName: input.VpcConnectorName,
        VpcConnectorArn: arn(
          "apprunner",
          ctx,
          `vpcconnector/${input.VpcConnectorName}/${revision}/${randomBytes(16).toString("hex")}`,
        ),
        VpcConnectorRevision: revision,
        Subnets: input.Subnets,
        SecurityGroups: input.SecurityGroups ?? [],
        Status: "ACTIVE",
        CreatedAt: clock.now(),
        Tags: input.Tags ?? [],
      });
      return { VpcConnector: connectorView(r) };
    },
    DescribeVpcConnector: (input, ctx) => {
      const found = c.vpcConnectors.byArn(input.VpcConnectorArn);
      if (!found || found.scope.account !== ctx.account)
        throw notFound(`VPC connector ${input.VpcConnectorArn} was not found.`);
      return { VpcConnector: connectorView(found.doc) };
    },
    ListVpcConnectors: (input, ctx) => {
      const items = c.vpcConnectors.list(ctx).filter((r) => r.Status === "ACTIVE");
      const { page, nextToken } = pageByKey(items, (r) => [r.VpcConnectorName, r.VpcConnectorRevision], {
        nextToken: input.NextToken,
        limit: input.MaxResults ?? 100,
        invalidToken: badToken,
      });
      return { VpcConnectors: page.map(connectorView), ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    DeleteVpcConnector: (input, ctx) => {
      const found = c.vpcConnectors.byArn(input.VpcConnectorArn);
      if (!found || found.scope.account !== ctx.account || found.doc.Status !== "ACTIVE")
        throw notFound(`VPC connector ${input.VpcConnectorArn} was not found.`);
      const used = c.services
        .list(ctx)
        .some(
          (s) =>
            s.Status !== "DELETED" &&
            s.NetworkConfiguration.EgressConfiguration?.VpcConnectorArn === input.VpcConnectorArn,
        );
      if (used)
        throw apprunnerErrors.InvalidStateException(
          `VPC connector ${input.VpcConnectorArn} is used by a service; update or delete the service first.`,
        );
      const r = c.vpcConnectors.put(ctx, { ...found.doc, Status: "INACTIVE", DeletedAt: clock.now() });
      return { VpcConnector: connectorView(r) };
    },

    TagResource: (input) => {
      const t = tagged(input.ResourceArn);
      t.col.put(t.scope, { ...t.doc, Tags: mergeTags(t.doc.Tags, input.Tags as never, TAG_LIMIT) });
      return {};
    },
    UntagResource: (input) => {
      const t = tagged(input.ResourceArn);
      t.col.put(t.scope, { ...t.doc, Tags: removeTags(t.doc.Tags as never, input.TagKeys) });
      return {};
    },
    ListTagsForResource: (input) => ({ Tags: tagged(input.ResourceArn).doc.Tags }),
  };
}
