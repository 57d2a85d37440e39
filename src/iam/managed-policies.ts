/**
 * AWS managed policies that ECS, ECR and container workloads commonly attach, under their real
 * ARNs and with the statements AWS publishes (for the services Berth serves; statements about
 * services Berth does not serve are kept, they simply never match a Berth request).
 */

export interface AwsManagedPolicy {
  name: string;
  path: string;
  description: string;
  versionId: string;
  document: { Version: "2012-10-17"; Statement: Record<string, unknown>[] };
}

const allow = (Action: string[] | string, Resource: string[] | string = "*", extra: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Action,
  Resource,
  ...extra,
});

const ECR_READ = [
  "ecr:GetAuthorizationToken",
  "ecr:BatchCheckLayerAvailability",
  "ecr:GetDownloadUrlForLayer",
  "ecr:GetRepositoryPolicy",
  "ecr:DescribeRepositories",
  "ecr:ListImages",
  "ecr:DescribeImages",
  "ecr:BatchGetImage",
  "ecr:GetLifecyclePolicy",
  "ecr:GetLifecyclePolicyPreview",
  "ecr:ListTagsForResource",
  "ecr:DescribeImageScanFindings",
];

export const AWS_MANAGED_POLICIES: AwsManagedPolicy[] = [
  {
    name: "AdministratorAccess",
    path: "/",
    description: "Provides full access to AWS services and resources.",
    versionId: "v1",
    document: { Version: "2012-10-17", Statement: [allow("*")] },
  },
  {
    name: "PowerUserAccess",
    path: "/",
    description:
      "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
    versionId: "v5",
    document: {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", NotAction: ["iam:*", "organizations:*", "account:*"], Resource: "*" },
        allow([
          "account:GetAccountInformation",
          "account:GetPrimaryEmail",
          "account:ListRegions",
          "iam:CreateServiceLinkedRole",
          "iam:DeleteServiceLinkedRole",
          "iam:ListRoles",
          "organizations:DescribeOrganization",
        ]),
      ],
    },
  },
  {
    name: "ReadOnlyAccess",
    path: "/",
    description: "Provides read-only access to AWS services and resources.",
    versionId: "v1",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "application-autoscaling:Describe*",
          "apprunner:Describe*",
          "apprunner:List*",
          "cloudwatch:Describe*",
          "cloudwatch:Get*",
          "cloudwatch:List*",
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:Describe*",
          "ecr:Get*",
          "ecr:List*",
          "ecs:Describe*",
          "ecs:List*",
          "eks:Describe*",
          "eks:List*",
          "elasticfilesystem:Describe*",
          "elasticloadbalancing:Describe*",
          "iam:Generate*",
          "iam:Get*",
          "iam:List*",
          "iam:Simulate*",
          "logs:Describe*",
          "logs:FilterLogEvents",
          "logs:Get*",
          "logs:List*",
          "logs:StartQuery",
          "logs:StopQuery",
          "logs:TestMetricFilter",
          "secretsmanager:DescribeSecret",
          "secretsmanager:GetResourcePolicy",
          "secretsmanager:ListSecrets",
          "secretsmanager:ListSecretVersionIds",
          "ssm:Describe*",
          "ssm:Get*",
          "ssm:List*",
          "sts:GetCallerIdentity",
        ]),
      ],
    },
  },
  {
    name: "AmazonECSTaskExecutionRolePolicy",
    path: "/service-role/",
    description: "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
    versionId: "v1",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "ecr:GetAuthorizationToken",
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]),
      ],
    },
  },
  {
    name: "AmazonEC2ContainerServiceforEC2Role",
    path: "/service-role/",
    description: "Default policy for the Amazon EC2 Role for Amazon EC2 Container Service.",
    versionId: "v8",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "ec2:DescribeTags",
          "ecs:CreateCluster",
          "ecs:DeregisterContainerInstance",
          "ecs:DiscoverPollEndpoint",
          "ecs:Poll",
          "ecs:RegisterContainerInstance",
          "ecs:StartTelemetrySession",
          "ecs:UpdateContainerInstancesState",
          "ecs:Submit*",
          "ecr:GetAuthorizationToken",
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]),
        allow("ecs:TagResource", "*", {
          Condition: { StringEquals: { "ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"] } },
        }),
      ],
    },
  },
  {
    name: "AmazonEC2ContainerServiceRole",
    path: "/service-role/",
    description: "Default policy for Amazon ECS service role.",
    versionId: "v2",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:Describe*",
          "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
          "elasticloadbalancing:DeregisterTargets",
          "elasticloadbalancing:Describe*",
          "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
          "elasticloadbalancing:RegisterTargets",
        ]),
      ],
    },
  },
  {
    name: "AmazonEC2ContainerServiceAutoscaleRole",
    path: "/service-role/",
    description: "Policy to enable Task Autoscaling for Amazon EC2 Container Service",
    versionId: "v1",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow(["ecs:DescribeServices", "ecs:UpdateService"]),
        allow(["cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"]),
      ],
    },
  },
  {
    name: "AmazonECS_FullAccess",
    path: "/",
    description:
      "Provides administrative access to Amazon ECS resources and enables ECS features through access to other AWS service resources, including VPCs, Auto Scaling groups, and CloudFormation stacks.",
    versionId: "v1",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ECSIntegrationsManagementPolicy",
          ...allow([
            "application-autoscaling:DeleteScalingPolicy",
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:DescribeScalingActivities",
            "application-autoscaling:DescribeScalingPolicies",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:RegisterScalableTarget",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:GetMetricData",
            "cloudwatch:PutMetricAlarm",
            "ec2:Describe*",
            "ecs:*",
            "elasticfilesystem:DescribeAccessPoints",
            "elasticfilesystem:DescribeFileSystems",
            "elasticloadbalancing:*",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfiles",
            "iam:ListRoles",
            "logs:CreateLogGroup",
            "logs:DescribeLogGroups",
            "logs:FilterLogEvents",
            "servicediscovery:*",
            "sns:ListTopics",
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParametersByPath",
          ]),
        },
        {
          Sid: "PassRoleForECS",
          ...allow("iam:PassRole", "*", {
            Condition: { StringLike: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
          }),
        },
        {
          Sid: "ServiceLinkedRoleCreation",
          ...allow("iam:CreateServiceLinkedRole", "*", {
            Condition: {
              StringLike: {
                "iam:AWSServiceName": [
                  "ecs.amazonaws.com",
                  "autoscaling.amazonaws.com",
                  "ecs.application-autoscaling.amazonaws.com",
                ],
              },
            },
          }),
        },
      ],
    },
  },
  {
    name: "AmazonEC2ContainerRegistryReadOnly",
    path: "/",
    description: "Provides read-only access to Amazon EC2 Container Registry repositories.",
    versionId: "v3",
    document: { Version: "2012-10-17", Statement: [allow(ECR_READ)] },
  },
  {
    name: "AmazonEC2ContainerRegistryPullOnly",
    path: "/",
    description: "Provides read-only access to Amazon EC2 Container Registry repositories to pull images.",
    versionId: "v1",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "ecr:GetAuthorizationToken",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchImportUpstreamImage",
        ]),
      ],
    },
  },
  {
    name: "AmazonEC2ContainerRegistryPowerUser",
    path: "/",
    description:
      "Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.",
    versionId: "v3",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          ...ECR_READ.filter((a) => a !== "ecr:ListTagsForResource" && a !== "ecr:DescribeImageScanFindings"),
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
        ]),
      ],
    },
  },
  {
    name: "AmazonEC2ContainerRegistryFullAccess",
    path: "/",
    description: "Provides administrative access to Amazon ECR resources",
    versionId: "v2",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow(["ecr:*", "cloudtrail:LookupEvents"]),
        allow("iam:CreateServiceLinkedRole", "*", {
          Condition: { StringEquals: { "iam:AWSServiceName": ["replication.ecr.amazonaws.com"] } },
        }),
      ],
    },
  },
  {
    name: "CloudWatchLogsFullAccess",
    path: "/",
    description: "Provides full access to CloudWatch Logs",
    versionId: "v2",
    document: {
      Version: "2012-10-17",
      Statement: [{ Sid: "CloudWatchLogsFullAccess", ...allow(["logs:*", "cloudwatch:GenerateQuery"]) }],
    },
  },
  {
    name: "CloudWatchLogsReadOnlyAccess",
    path: "/",
    description: "Provides read only access to CloudWatch Logs",
    versionId: "v3",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CloudWatchLogsReadOnlyAccess",
          ...allow([
            "logs:Describe*",
            "logs:Get*",
            "logs:List*",
            "logs:StartQuery",
            "logs:StopQuery",
            "logs:TestMetricFilter",
            "logs:FilterLogEvents",
            "logs:StartLiveTail",
            "logs:StopLiveTail",
            "cloudwatch:GenerateQuery",
          ]),
        },
      ],
    },
  },
  {
    name: "CloudWatchFullAccess",
    path: "/",
    description: "Provides full access to CloudWatch.",
    versionId: "v4",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "application-autoscaling:DescribeScalableTargets",
          "application-autoscaling:DescribeScalingActivities",
          "application-autoscaling:DescribeScalingPolicies",
          "autoscaling:Describe*",
          "cloudwatch:*",
          "logs:*",
          "sns:*",
          "iam:GetPolicy",
          "iam:GetPolicyVersion",
          "iam:GetRole",
        ]),
        allow(
          "iam:CreateServiceLinkedRole",
          "arn:aws:iam::*:role/aws-service-role/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents*",
          {
            Condition: { StringLike: { "iam:AWSServiceName": "events.amazonaws.com" } },
          },
        ),
      ],
    },
  },
  {
    name: "CloudWatchAgentServerPolicy",
    path: "/",
    description: "Permissions required to use AmazonCloudWatchAgent on servers",
    versionId: "v2",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "cloudwatch:PutMetricData",
          "ec2:DescribeVolumes",
          "ec2:DescribeTags",
          "logs:PutLogEvents",
          "logs:PutRetentionPolicy",
          "logs:DescribeLogStreams",
          "logs:DescribeLogGroups",
          "logs:CreateLogStream",
          "logs:CreateLogGroup",
        ]),
        allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*"),
      ],
    },
  },
  {
    name: "AmazonSSMReadOnlyAccess",
    path: "/",
    description: "Provides read only access to Amazon SSM.",
    versionId: "v1",
    document: { Version: "2012-10-17", Statement: [allow(["ssm:Describe*", "ssm:Get*", "ssm:List*"])] },
  },
  {
    name: "AmazonSSMFullAccess",
    path: "/",
    description: "Provides full access to Amazon SSM.",
    versionId: "v5",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "cloudwatch:PutMetricData",
          "ds:CreateComputer",
          "ds:DescribeDirectories",
          "ec2:DescribeInstanceStatus",
          "logs:*",
          "ssm:*",
          "ec2messages:*",
        ]),
        allow(
          "iam:CreateServiceLinkedRole",
          "arn:aws:iam::*:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM*",
          {
            Condition: { StringLike: { "iam:AWSServiceName": "ssm.amazonaws.com" } },
          },
        ),
        allow(
          ["iam:DeleteServiceLinkedRole", "iam:GetServiceLinkedRoleDeletionStatus"],
          "arn:aws:iam::*:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM*",
        ),
        allow([
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ]),
      ],
    },
  },
  {
    name: "AmazonSSMManagedInstanceCore",
    path: "/",
    description: "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.",
    versionId: "v2",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "ssm:DescribeAssociation",
          "ssm:GetDeployablePatchSnapshotForInstance",
          "ssm:GetDocument",
          "ssm:DescribeDocument",
          "ssm:GetManifest",
          "ssm:GetParameter",
          "ssm:GetParameters",
          "ssm:ListAssociations",
          "ssm:ListInstanceAssociations",
          "ssm:PutInventory",
          "ssm:PutComplianceItems",
          "ssm:PutConfigurePackageResult",
          "ssm:UpdateAssociationStatus",
          "ssm:UpdateInstanceAssociationStatus",
          "ssm:UpdateInstanceInformation",
        ]),
        allow([
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ]),
        allow([
          "ec2messages:AcknowledgeMessage",
          "ec2messages:DeleteMessage",
          "ec2messages:FailMessage",
          "ec2messages:GetEndpoint",
          "ec2messages:GetMessages",
          "ec2messages:SendReply",
        ]),
      ],
    },
  },
  {
    name: "SecretsManagerReadWrite",
    path: "/",
    description:
      "Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM actions, so combine with IAMFullAccess if rotation configuration is required.",
    versionId: "v5",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "BasePermissions",
          ...allow([
            "secretsmanager:*",
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:DescribeStackResource",
            "cloudformation:DescribeStacks",
            "cloudformation:ExecuteChangeSet",
            "docdb-elastic:GetCluster",
            "docdb-elastic:ListClusters",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "kms:DescribeKey",
            "kms:ListAliases",
            "kms:ListKeys",
            "lambda:ListFunctions",
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "redshift:DescribeClusters",
            "tag:GetResources",
          ]),
        },
        {
          Sid: "LambdaPermissions",
          ...allow(
            [
              "lambda:AddPermission",
              "lambda:CreateFunction",
              "lambda:GetFunction",
              "lambda:InvokeFunction",
              "lambda:UpdateFunctionConfiguration",
            ],
            "arn:aws:lambda:*:*:function:SecretsManager*",
          ),
        },
        {
          Sid: "SARPermissions",
          ...allow(
            ["serverlessrepo:CreateCloudFormationChangeSet", "serverlessrepo:GetApplication"],
            "arn:aws:serverlessrepo:*:*:applications/SecretsManager*",
          ),
        },
        {
          Sid: "S3Permissions",
          ...allow(
            ["s3:GetObject"],
            ["arn:aws:s3:::awsserverlessrepo-changesets*", "arn:aws:s3:::secrets-manager-rotation-apps-*/*"],
          ),
        },
      ],
    },
  },
  {
    name: "IAMFullAccess",
    path: "/",
    description: "Provides full access to IAM via the AWS Management Console.",
    versionId: "v2",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "iam:*",
          "organizations:DescribeAccount",
          "organizations:DescribeOrganization",
          "organizations:DescribeOrganizationalUnit",
          "organizations:DescribePolicy",
          "organizations:ListChildren",
          "organizations:ListParents",
          "organizations:ListPoliciesForTarget",
          "organizations:ListRoots",
          "organizations:ListPolicies",
          "organizations:ListTargetsForPolicy",
        ]),
      ],
    },
  },
  {
    name: "IAMReadOnlyAccess",
    path: "/",
    description: "Provides read only access to IAM via the AWS Management Console.",
    versionId: "v4",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "iam:GenerateCredentialReport",
          "iam:GenerateServiceLastAccessedDetails",
          "iam:Get*",
          "iam:List*",
          "iam:SimulateCustomPolicy",
          "iam:SimulatePrincipalPolicy",
        ]),
      ],
    },
  },
  {
    name: "ElasticLoadBalancingFullAccess",
    path: "/",
    description:
      "Provides full access to Amazon ElasticLoadBalancing, and limited access to other services necessary to provide ElasticLoadBalancing features.",
    versionId: "v5",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow("elasticloadbalancing:*"),
        allow([
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcClassicLink",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeClassicLinkInstances",
          "ec2:DescribeRouteTables",
          "ec2:DescribeCoipPools",
          "ec2:GetCoipPoolUsage",
          "ec2:DescribeVpcPeeringConnections",
          "cognito-idp:DescribeUserPoolClient",
        ]),
        allow("iam:CreateServiceLinkedRole", "*", {
          Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
        }),
      ],
    },
  },
  {
    name: "AWSAppRunnerServicePolicyForECRAccess",
    path: "/service-role/",
    description: "This policy grants AWS App Runner permissions to read Amazon ECR images in your account.",
    versionId: "v1",
    document: {
      Version: "2012-10-17",
      Statement: [
        allow([
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:DescribeImages",
          "ecr:GetAuthorizationToken",
        ]),
      ],
    },
  },
  {
    name: "AmazonS3ReadOnlyAccess",
    path: "/",
    description: "Provides read only access to all buckets via the AWS Management Console.",
    versionId: "v3",
    document: {
      Version: "2012-10-17",
      Statement: [allow(["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"])],
    },
  },
  {
    name: "AmazonS3FullAccess",
    path: "/",
    description: "Provides full access to all buckets via the AWS Management Console.",
    versionId: "v2",
    document: { Version: "2012-10-17", Statement: [allow(["s3:*", "s3-object-lambda:*"])] },
  },
];

export const awsManagedPolicyArn = (p: AwsManagedPolicy) => `arn:aws:iam::aws:policy${p.path}${p.name}`;

const BY_ARN = new Map(AWS_MANAGED_POLICIES.map((p) => [awsManagedPolicyArn(p), p]));

export const awsManagedPolicy = (arn: string): AwsManagedPolicy | undefined => BY_ARN.get(arn);

/** The date AWS managed policies report as created (they predate every Berth). */
export const AWS_MANAGED_CREATED = new Date("2015-02-06T18:40:00Z");
