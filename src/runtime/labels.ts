/** The labels every container Berth creates carries (how Berth finds its containers again after a restart). */
export const LABEL = {
  managed: "berth.managed",
  instance: "berth.instance",
  store: "berth.store",
  dataDir: "berth.data-dir",
  taskArn: "berth.task-arn",
  account: "berth.account",
  region: "berth.region",
  container: "berth.container",
} as const;
