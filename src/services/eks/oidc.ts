/** A cluster's OIDC issuer: DescribeCluster's identity.oidc.issuer and the `iss` of its service account tokens. */
export const oidcIssuer = (region: string, oidcId: string) => `https://oidc.eks.${region}.amazonaws.com/id/${oidcId}`;
