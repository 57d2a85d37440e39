import type { Scope } from "../../core/ids.js";
import type { Operations, ResourceType, Tag, TagDescription } from "../../protocol/generated/types/ec2.js";
import type { Provider } from "../../protocol/service.js";
import type { Collection } from "../../store/documents.js";
import type { LaunchTemplateRecord, SecurityGroupRecord, SubnetRecord, VpcRecord } from "../../store/schema/ec2.js";
import { type Ec2Context, checkTags, pageOf } from "./context.js";
import { ec2Errors } from "./errors.js";
import { type FilterSpec, applyFilters } from "./filters.js";

/** The taggable kinds Berth keeps, by id prefix. */
interface Taggable {
  type: ResourceType;
  collection: Collection<{ Tags: Tag[] }>;
  idOf: (doc: never) => string;
  notFound: (id: string) => Error;
}

function taggables(ec2: Ec2Context): Record<string, Taggable> {
  const r = ec2.records;
  return {
    vpc: {
      type: "vpc",
      collection: r.vpcs as unknown as Collection<{ Tags: Tag[] }>,
      idOf: (v: VpcRecord) => v.VpcId,
      notFound: (id) => ec2Errors.InvalidVpcIdNotFound(`The vpc ID '${id}' does not exist`),
    },
    subnet: {
      type: "subnet",
      collection: r.subnets as unknown as Collection<{ Tags: Tag[] }>,
      idOf: (s: SubnetRecord) => s.SubnetId,
      notFound: (id) => ec2Errors.InvalidSubnetIdNotFound(`The subnet ID '${id}' does not exist`),
    },
    sg: {
      type: "security-group",
      collection: r.securityGroups as unknown as Collection<{ Tags: Tag[] }>,
      idOf: (g: SecurityGroupRecord) => g.GroupId,
      notFound: (id) => ec2Errors.InvalidGroupNotFound(`The security group '${id}' does not exist`),
    },
    lt: {
      type: "launch-template",
      collection: r.launchTemplates as unknown as Collection<{ Tags: Tag[] }>,
      idOf: (t: LaunchTemplateRecord) => t.LaunchTemplateId,
      notFound: (id) =>
        ec2Errors.InvalidLaunchTemplateIdNotFound(
          `The specified launch template, with template ID ${id}, does not exist.`,
        ),
    },
  };
}

const TAG_FILTERS: FilterSpec<TagDescription> = {
  names: {
    "resource-id": (t) => [t.ResourceId],
    "resource-type": (t) => [t.ResourceType],
    key: (t) => [t.Key],
    value: (t) => [t.Value],
  },
};

export function tagOperations(ec2: Ec2Context): Provider<Operations> {
  const kinds = taggables(ec2);
  const kindOf = (id: string) => {
    const kind = kinds[id.slice(0, id.indexOf("-"))];
    if (!kind || id.indexOf("-") < 0) throw ec2Errors.InvalidID(`The ID '${id}' is not valid`);
    return kind;
  };
  /** Applies `change` to every resource named, all or none. */
  const update = (scope: Scope, ids: readonly string[], change: (tags: Tag[]) => Tag[]) =>
    ec2.store.transaction(() => {
      for (const id of ids) {
        const kind = kindOf(id);
        const current = kind.collection.getVersioned(scope, id);
        if (!current) throw kind.notFound(id);
        kind.collection.put(scope, { ...current.doc, Tags: change(current.doc.Tags) }, { expect: current.rev });
      }
    });

  return {
    CreateTags: (input, ctx) => {
      if (!input.Resources.length)
        throw ec2Errors.MissingParameter("The request must contain the parameter resourceIdSet");
      update(ctx, input.Resources, (tags) => checkTags(tags, input.Tags));
      return {};
    },

    DeleteTags: (input, ctx) => {
      // A tag with a value deletes only when the value matches; without one, whatever the value.
      const drop = (t: Tag) =>
        (input.Tags ?? []).some((d) => d.Key === t.Key && (d.Value === undefined || d.Value === t.Value));
      update(ctx, input.Resources, (tags) => (input.Tags === undefined ? [] : tags.filter((t) => !drop(t))));
      return {};
    },

    DescribeTags: (input, ctx) => {
      const all: TagDescription[] = [];
      for (const kind of Object.values(kinds))
        for (const doc of kind.collection.list(ctx)) {
          const id = kind.idOf(doc as never);
          for (const t of doc.Tags) all.push({ ResourceId: id, ResourceType: kind.type, Key: t.Key, Value: t.Value });
        }
      const matched = applyFilters(all, input.Filters, TAG_FILTERS);
      const { page, nextToken } = pageOf(matched, (t) => `${t.ResourceId}\u0000${t.Key}`, input);
      return { Tags: page, NextToken: nextToken };
    },
  };
}
