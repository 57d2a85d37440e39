/** ECR's repository name pattern, 2–256 characters (AWS-FACTS §5). */
export const REPOSITORY_NAME =
  /^(?=.{2,256}$)[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
