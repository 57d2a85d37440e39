import type {
  EncryptionConfigurationForRepositoryCreationTemplate,
  ImageTagMutability,
  ImageTagMutabilityExclusionFilter,
  RCTAppliedFor,
  Tag,
  UpstreamRegistry,
} from "../../protocol/generated/types/ecr.js";
import type { Collection, DocumentStore } from "../documents.js";

export const ECR_PULL_THROUGH_RULE_KIND = "ecr.pullThroughCacheRule";
export const ECR_CREATION_TEMPLATE_KIND = "ecr.repositoryCreationTemplate";
export const ECR_UPSTREAM_CHECK_KIND = "ecr.upstreamTagCheck";

/** A pull-through cache rule (CreatePullThroughCacheRule): names under `prefix/` come from the upstream. */
export interface PullThroughRuleRecord {
  /** Without a trailing slash; `ROOT` for every name. */
  ecrRepositoryPrefix: string;
  /** As the caller gave it (`registry-1.docker.io`, `127.0.0.1:5000`, …). */
  upstreamRegistryUrl: string;
  upstreamRegistry?: UpstreamRegistry;
  /** The upstream repository prefix names map onto (`ROOT`: the name after the ECR prefix as is). */
  upstreamRepositoryPrefix?: string;
  credentialArn?: string;
  customRoleArn?: string;
  registryId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A repository creation template (CreateRepositoryCreationTemplate). */
export interface CreationTemplateRecord {
  /** Without a trailing slash; `ROOT` applies where no other template's prefix matches. */
  prefix: string;
  description?: string;
  encryptionConfiguration?: EncryptionConfigurationForRepositoryCreationTemplate;
  resourceTags: Tag[];
  imageTagMutability: ImageTagMutability;
  imageTagMutabilityExclusionFilters?: ImageTagMutabilityExclusionFilter[];
  repositoryPolicy?: string;
  lifecyclePolicy?: string;
  appliedFor: RCTAppliedFor[];
  customRoleArn?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** When a cached tag of a pull-through repository was last compared with its upstream. */
export interface UpstreamCheckRecord {
  repositoryName: string;
  tag: string;
  checkedAt: Date;
}

export interface EcrPullThroughCollections {
  rules: Collection<PullThroughRuleRecord>;
  templates: Collection<CreationTemplateRecord>;
  checks: Collection<UpstreamCheckRecord>;
}

/** The pull-through rules, creation templates and upstream checks of every account and region. */
export function ecrPullThroughCollections(store: DocumentStore): EcrPullThroughCollections {
  return {
    rules: store.collection<PullThroughRuleRecord>(ECR_PULL_THROUGH_RULE_KIND, { id: (r) => r.ecrRepositoryPrefix }),
    templates: store.collection<CreationTemplateRecord>(ECR_CREATION_TEMPLATE_KIND, { id: (t) => t.prefix }),
    checks: store.collection<UpstreamCheckRecord>(ECR_UPSTREAM_CHECK_KIND, {
      id: (c) => `${c.repositoryName}:${c.tag}`,
    }),
  };
}
