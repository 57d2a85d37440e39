import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  DescribeAlarmsForMetricCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  ListMetricsCommand,
  ListTagsForResourceCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  PutMetricDataCommand,
  ResourceNotFound,
  SetAlarmStateCommand,
  TagResourceCommand,
} from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningBerth, clientConfig, startBerth } from "../support/berth.js";

const run = promisify(execFile);
const unique = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

/** The AWS CLI v2 (Debian's 2.9, which speaks awsQuery to CloudWatch). */
const cli =
  (endpoint: string) =>
  async (...args: string[]) => {
    const { stdout } = await run(
      "/usr/bin/aws",
      ["--endpoint-url", endpoint, "--output", "json", "cloudwatch", ...args],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
      },
    );
    return stdout.trim() ? JSON.parse(stdout) : {};
  };

describe("CloudWatch metrics (SDK v3, awsJson1_0 query-compatible)", () => {
  const endpoint = inject("endpoint");
  const cw = new CloudWatchClient(clientConfig(endpoint));
  const now = Date.now();
  const minute = Math.floor(now / 60_000) * 60_000 - 5 * 60_000;

  it("PutMetricData with values, value lists, statistic sets and dimensions; GetMetricStatistics with percentiles", async () => {
    const ns = unique("Berth/Test");
    const dims = [
      { Name: "Service", Value: "web" },
      { Name: "Env", Value: "test" },
    ];
    await cw.send(
      new PutMetricDataCommand({
        Namespace: ns,
        MetricData: [
          {
            MetricName: "Latency",
            Dimensions: dims,
            Timestamp: new Date(minute + 1000),
            Value: 10,
            Unit: "Milliseconds",
          },
          {
            MetricName: "Latency",
            Dimensions: [...dims].reverse(),
            Timestamp: new Date(minute + 2000),
            Values: [20, 30, 100],
            Counts: [1, 2, 1],
            Unit: "Milliseconds",
          },
          {
            MetricName: "Latency",
            Dimensions: dims,
            Timestamp: new Date(minute + 60_000),
            StatisticValues: { SampleCount: 4, Sum: 40, Minimum: 5, Maximum: 15 },
            Unit: "Milliseconds",
          },
        ],
      }),
    );
    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: ns,
        MetricName: "Latency",
        Dimensions: dims,
        StartTime: new Date(minute),
        EndTime: new Date(minute + 120_000),
        Period: 60,
        Statistics: ["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
      }),
    );
    expect(stats.Label).toBe("Latency");
    const points = stats.Datapoints!.sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime());
    expect(points).toEqual([
      {
        Timestamp: new Date(minute),
        SampleCount: 5,
        Sum: 190,
        Average: 38,
        Minimum: 10,
        Maximum: 100,
        Unit: "Milliseconds",
      },
      {
        Timestamp: new Date(minute + 60_000),
        SampleCount: 4,
        Sum: 40,
        Average: 10,
        Minimum: 5,
        Maximum: 15,
        Unit: "Milliseconds",
      },
    ]);
    const pct = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: ns,
        MetricName: "Latency",
        Dimensions: dims,
        StartTime: new Date(minute),
        EndTime: new Date(minute + 120_000),
        Period: 60,
        ExtendedStatistics: ["p50", "p99"],
      }),
    );
    const first = pct.Datapoints!.find((d) => d.Timestamp!.getTime() === minute)!;
    expect(first.ExtendedStatistics).toEqual({ p50: 30, p99: 100 });
    // A statistic set with min ≠ max has no percentiles.
    expect(pct.Datapoints!.find((d) => d.Timestamp!.getTime() === minute + 60_000)!.ExtendedStatistics).toEqual({});

    // Other dimension sets are other metrics.
    const other = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: ns,
        MetricName: "Latency",
        Dimensions: [dims[0]],
        StartTime: new Date(minute),
        EndTime: new Date(minute + 120_000),
        Period: 60,
        Statistics: ["Sum"],
      }),
    );
    expect(other.Datapoints).toEqual([]);

    const listed = await cw.send(new ListMetricsCommand({ Namespace: ns }));
    expect(listed.Metrics).toEqual([
      {
        Namespace: ns,
        MetricName: "Latency",
        Dimensions: [
          { Name: "Env", Value: "test" },
          { Name: "Service", Value: "web" },
        ],
      },
    ]);
    const filtered = await cw.send(
      new ListMetricsCommand({ Namespace: ns, Dimensions: [{ Name: "Service", Value: "api" }] }),
    );
    expect(filtered.Metrics).toEqual([]);
  });

  it("GetMetricData with metric math, high-resolution periods and ScanBy", async () => {
    const ns = unique("Berth/Math");
    const base = Math.floor(now / 10_000) * 10_000 - 60_000;
    await cw.send(
      new PutMetricDataCommand({
        Namespace: ns,
        MetricData: [0, 1, 2].flatMap((i) => [
          { MetricName: "Hits", Timestamp: new Date(base + i * 10_000), Value: 10 * (i + 1), StorageResolution: 1 },
          { MetricName: "Misses", Timestamp: new Date(base + i * 10_000), Value: 10, StorageResolution: 1 },
        ]),
      }),
    );
    const metric = (name: string) => ({ Metric: { Namespace: ns, MetricName: name }, Period: 10, Stat: "Sum" });
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(base),
        EndTime: new Date(base + 30_000),
        ScanBy: "TimestampAscending",
        MetricDataQueries: [
          { Id: "hits", MetricStat: metric("Hits"), ReturnData: false },
          { Id: "misses", MetricStat: metric("Misses"), ReturnData: false },
          { Id: "ratio", Expression: "100 * hits / (hits + misses)", Label: "Hit ratio" },
          { Id: "total", Expression: "SUM(METRICS())" },
        ],
      }),
    );
    expect(out.MetricDataResults).toEqual([
      {
        Id: "ratio",
        Label: "Hit ratio",
        Timestamps: [0, 1, 2].map((i) => new Date(base + i * 10_000)),
        Values: [50, (100 * 20) / 30, 75],
        StatusCode: "Complete",
      },
      {
        Id: "total",
        Label: "total",
        Timestamps: [0, 1, 2].map((i) => new Date(base + i * 10_000)),
        Values: [20, 30, 40],
        StatusCode: "Complete",
      },
    ]);
    const desc = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(base),
        EndTime: new Date(base + 30_000),
        MetricDataQueries: [{ Id: "h", MetricStat: metric("Hits") }],
      }),
    );
    expect(desc.MetricDataResults![0].Values).toEqual([30, 20, 10]);
  });

  it("rejects bad input with CloudWatch's errors and stores nothing", async () => {
    const ns = unique("Berth/Bad");
    const fail = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as Error & { Code?: string },
      );
    const reserved = await fail(
      cw.send(new PutMetricDataCommand({ Namespace: "AWS/ECS", MetricData: [{ MetricName: "m", Value: 1 }] })),
    );
    expect(reserved).toBeInstanceOf(InvalidParameterValueException);
    const both = await fail(
      cw.send(
        new PutMetricDataCommand({
          Namespace: ns,
          MetricData: [
            { MetricName: "ok", Value: 1 },
            { MetricName: "m", Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } },
          ],
        }),
      ),
    );
    expect(both).toBeInstanceOf(InvalidParameterCombinationException);
    expect((await cw.send(new ListMetricsCommand({ Namespace: ns }))).Metrics).toEqual([]);
    const sizes = await fail(
      cw.send(
        new PutMetricDataCommand({ Namespace: ns, MetricData: [{ MetricName: "m", Values: [1, 2], Counts: [1] }] }),
      ),
    );
    expect(sizes).toBeInstanceOf(InvalidParameterValueException);
    expect(sizes!.message).toMatch(/must be of the same size/);
    const old = await fail(
      cw.send(
        new PutMetricDataCommand({
          Namespace: ns,
          MetricData: [{ MetricName: "m", Value: 1, Timestamp: new Date(Date.now() - 15 * 86400_000) }],
        }),
      ),
    );
    expect(old!.message).toMatch(/two weeks in the past/);
    const period = await fail(
      cw.send(
        new GetMetricStatisticsCommand({
          Namespace: ns,
          MetricName: "m",
          StartTime: new Date(now - 3600_000),
          EndTime: new Date(now),
          Period: 45,
          Statistics: ["Average"],
        }),
      ),
    );
    expect(period).toBeInstanceOf(InvalidParameterValueException);
    const tooMany = await fail(
      cw.send(
        new GetMetricStatisticsCommand({
          Namespace: ns,
          MetricName: "m",
          StartTime: new Date(now - 86400_000),
          EndTime: new Date(now),
          Period: 1,
          Statistics: ["Average"],
        }),
      ),
    );
    expect(tooMany).toBeInstanceOf(InvalidParameterCombinationException);
    expect(tooMany!.message).toMatch(/exceeds the limit of 1440/);
    const badExpr = await fail(
      cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 3600_000),
          EndTime: new Date(now),
          MetricDataQueries: [{ Id: "e", Expression: "nope * 2" }],
        }),
      ),
    );
    // The SDK names the query code ValidationError by its shape, ValidationException.
    expect(badExpr!.name).toBe("ValidationException");
    expect(badExpr!.message).toMatch(/Error in expression e: Unrecognized id "nope"/);
  });
});

describe("CloudWatch alarms", () => {
  const endpoint = inject("endpoint");
  const cw = new CloudWatchClient(clientConfig(endpoint));
  const alarm = (name: string, over: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput => ({
    AlarmName: name,
    Namespace: "Berth/Alarms",
    MetricName: "Queue",
    Dimensions: [{ Name: "Queue", Value: name }],
    Statistic: "Average",
    Period: 60,
    EvaluationPeriods: 3,
    Threshold: 100,
    ComparisonOperator: "GreaterThanThreshold",
    ...over,
  });

  it("PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, SetAlarmState, actions on/off, history, tags, DeleteAlarms", async () => {
    const name = unique("queue-high");
    await cw.send(new PutMetricAlarmCommand({ ...alarm(name), Tags: [{ Key: "team", Value: "a" }] }));
    const described = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms!;
    expect(described).toHaveLength(1);
    expect(described[0]).toMatchObject({
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:us-east-1:000000000000:alarm:${name}`,
      StateValue: "INSUFFICIENT_DATA",
      StateReason: "Unchecked: Initial alarm creation",
      ActionsEnabled: true,
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 100,
    });
    const forMetric = await cw.send(
      new DescribeAlarmsForMetricCommand({
        Namespace: "Berth/Alarms",
        MetricName: "Queue",
        Dimensions: [{ Name: "Queue", Value: name }],
      }),
    );
    expect(forMetric.MetricAlarms!.map((a) => a.AlarmName)).toEqual([name]);
    expect(
      (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: name.slice(0, -3) }))).MetricAlarms,
    ).toHaveLength(1);

    await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "testing" }));
    const set = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name], StateValue: "ALARM" }))).MetricAlarms!;
    expect(set[0]).toMatchObject({ StateValue: "ALARM", StateReason: "testing" });

    await cw.send(new DisableAlarmActionsCommand({ AlarmNames: [name] }));
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms![0].ActionsEnabled).toBe(
      false,
    );
    await cw.send(new EnableAlarmActionsCommand({ AlarmNames: [name] }));
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms![0].ActionsEnabled).toBe(
      true,
    );

    const history = (await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: name }))).AlarmHistoryItems!;
    // Newest first. A set state lasts until the next evaluation (as on AWS), so with no data the
    // evaluator may already have moved the alarm back: that item may lead the list.
    const items = history.map((h) => [h.HistoryItemType, h.HistorySummary]);
    expect(items.slice(-2)).toEqual([
      ["StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"],
      ["ConfigurationUpdate", `Alarm "${name}" created`],
    ]);
    expect(items.slice(0, -2)).toEqual(
      items.length > 2 ? [["StateUpdate", "Alarm updated from ALARM to INSUFFICIENT_DATA"]] : [],
    );

    const arn = described[0].AlarmArn!;
    await cw.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: "env", Value: "dev" }] }));
    expect((await cw.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([
      { Key: "team", Value: "a" },
      { Key: "env", Value: "dev" },
    ]);

    const missing = await cw
      .send(new DeleteAlarmsCommand({ AlarmNames: [name, unique("nope")] }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFound);
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms).toHaveLength(1);
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: [name] }));
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms).toEqual([]);
  });

  it("rejects invalid alarms with CloudWatch's errors", async () => {
    const fail = async (input: PutMetricAlarmCommandInput) =>
      (await cw.send(new PutMetricAlarmCommand(input)).catch((e: unknown) => e)) as Error & { name: string };
    const name = unique("bad");
    expect((await fail(alarm(name, { Period: 45 }))).message).toMatch(/Period is invalid/);
    expect((await fail(alarm(name, { Period: 3600, EvaluationPeriods: 200 }))).name).toMatch(
      /^Validation(Error|Exception)$/,
    );
    expect((await fail(alarm(name, { Period: 60, EvaluationPeriods: 1441 }))).message).toMatch(
      /more than a day \(EvaluationPeriods \* Period must be <= 86400/,
    );
    expect((await fail(alarm(name, { DatapointsToAlarm: 5 }))).message).toMatch(/DatapointsToAlarm/);
    expect(await fail(alarm(name, { ExtendedStatistic: "p99" }))).toBeInstanceOf(InvalidParameterCombinationException);
    expect((await fail(alarm(name, { AlarmActions: ["not-an-arn"] }))).message).toMatch(/Invalid arn/);
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms).toEqual([]);
  });
});

describe("CloudWatch alarm evaluation (own Berth, 10-second periods)", () => {
  let berth: RunningBerth;
  let cw: CloudWatchClient;
  beforeAll(async () => {
    berth = await startBerth({ env: { BERTH_ALARM_TICK_MS: "500", BERTH_ALARM_DELAY_MS: "500" } });
    cw = new CloudWatchClient(clientConfig(berth.endpoint));
  });
  afterAll(async () => {
    await berth?.stop();
  });

  it("goes to ALARM once M of N high-resolution periods breach, and back to OK", async () => {
    const ns = "Berth/Eval";
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: "busy",
        Namespace: ns,
        MetricName: "Load",
        Statistic: "Maximum",
        Period: 10,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 50,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      }),
    );
    const state = async () => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["busy"] }))).MetricAlarms![0];
    const waitFor = async (want: string, ms: number, feed?: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (feed !== undefined)
          await cw.send(
            new PutMetricDataCommand({
              Namespace: ns,
              MetricData: [{ MetricName: "Load", Value: feed, StorageResolution: 1 }],
            }),
          );
        const a = await state();
        if (a.StateValue === want) return a;
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new Error(`alarm did not reach ${want}: ${JSON.stringify(await state())}`);
    };
    // No data, treated as not breaching: OK at the first evaluation.
    await waitFor("OK", 20_000);
    const alarmed = await waitFor("ALARM", 45_000, 80);
    expect(alarmed.StateReason).toMatch(
      /^Threshold Crossed: \d out of the last 3 datapoints \[80\.0 .*greater than or equal to the threshold \(50\.0\)/,
    );
    expect(JSON.parse(alarmed.StateReasonData!)).toMatchObject({ version: "1.0", period: 10, threshold: 50 });
    await waitFor("OK", 45_000, 10);
    const history = (
      await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: "busy", HistoryItemType: "StateUpdate" }))
    ).AlarmHistoryItems!;
    expect(history.map((h) => h.HistorySummary)).toEqual([
      "Alarm updated from ALARM to OK",
      "Alarm updated from OK to ALARM",
      "Alarm updated from INSUFFICIENT_DATA to OK",
    ]);
  }, 150_000);
});

describe("CloudWatch state survives a restart", () => {
  it("keeps metrics, alarms (with their state) and history across a Berth restart", async () => {
    let berth = await startBerth();
    try {
      let cw = new CloudWatchClient(clientConfig(berth.endpoint));
      const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
      await cw.send(
        new PutMetricDataCommand({
          Namespace: "Berth/Durable",
          MetricData: [{ MetricName: "m", Value: 3, Timestamp: at }],
        }),
      );
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName: "durable",
          Namespace: "Berth/Durable",
          MetricName: "m",
          Statistic: "Sum",
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: "GreaterThanThreshold",
        }),
      );
      await cw.send(
        new SetAlarmStateCommand({ AlarmName: "durable", StateValue: "ALARM", StateReason: "before restart" }),
      );
      const dataDir = berth.dataDir;
      await berth.stop();
      berth = await startBerth({ dataDir });
      cw = new CloudWatchClient(clientConfig(berth.endpoint));
      const stats = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: "Berth/Durable",
          MetricName: "m",
          StartTime: at,
          EndTime: new Date(at.getTime() + 60_000),
          Period: 60,
          Statistics: ["Sum"],
        }),
      );
      expect(stats.Datapoints).toEqual([{ Timestamp: at, Sum: 3, Unit: "None" }]);
      const [alarm] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["durable"] }))).MetricAlarms!;
      expect(alarm).toMatchObject({ Threshold: 1, Period: 60, Statistic: "Sum" });
      // (The state itself may already have moved on: the alarm is evaluated again after the restart.)
      const history = (await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: "durable" }))).AlarmHistoryItems!;
      expect(history.map((h) => h.HistorySummary)).toContain('Alarm "durable" created');
      expect(history.some((h) => /^Alarm updated from .* to ALARM$/.test(h.HistorySummary!))).toBe(true);
    } finally {
      await berth.stop();
    }
  });
});

/** botocore with Smithy RPC v2 CBOR support (1.36+), when this machine's Python has one. */
const botocoreWithCbor = (() => {
  try {
    return (
      execFileSync("python3", ["-c", "import botocore.serialize as s; print('smithy-rpc-v2-cbor' in s.SERIALIZERS)"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim() === "True"
    );
  } catch {
    return false;
  }
})();

describe.skipIf(!botocoreWithCbor)("CloudWatch in Smithy RPC v2 CBOR (botocore's CBOR client)", () => {
  const endpoint = inject("endpoint");
  it("put-metric-data, get-metric-statistics and errors round-trip in CBOR", async () => {
    const script = `
import sys, json, datetime
import botocore.model, botocore.session
botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor",)
cw = botocore.session.get_session().create_client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id="test", aws_secret_access_key="test")
assert cw.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
ns = sys.argv[2]
at = datetime.datetime.fromtimestamp(int(sys.argv[3]), datetime.timezone.utc)
cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 2.5, "Timestamp": at, "Dimensions": [{"Name": "a", "Value": "b"}]}])
out = cw.get_metric_statistics(Namespace=ns, MetricName="m", Dimensions=[{"Name": "a", "Value": "b"}],
    StartTime=at, EndTime=at + datetime.timedelta(minutes=1), Period=60, Statistics=["Sum", "SampleCount"])
result = {"datapoints": [{"t": d["Timestamp"].timestamp(), "sum": d["Sum"], "n": d["SampleCount"]} for d in out["Datapoints"]]}
try:
    cw.delete_alarms(AlarmNames=["no-such-alarm-cbor"])
except Exception as e:
    result["error"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(result))
`;
    const at = Math.floor(Date.now() / 60_000) * 60 - 120;
    const { stdout } = await run("python3", ["-c", script, endpoint, unique("Berth/Cbor"), String(at)]);
    expect(JSON.parse(stdout)).toEqual({ datapoints: [{ t: at, sum: 2.5, n: 1 }], error: ["ResourceNotFound", 404] });
  });
});

describe("CloudWatch through the AWS CLI v2 (awsQuery)", () => {
  const endpoint = inject("endpoint");
  const aws = cli(endpoint);

  it("put-metric-data, get-metric-statistics, list-metrics, put-metric-alarm, describe-alarms, errors", async () => {
    const ns = unique("Berth/Cli");
    await aws(
      "put-metric-data",
      "--namespace",
      ns,
      "--metric-name",
      "Jobs",
      "--value",
      "7",
      "--unit",
      "Count",
      "--dimensions",
      "Queue=q1",
    );
    await aws(
      "put-metric-data",
      "--namespace",
      ns,
      "--metric-data",
      JSON.stringify([
        {
          MetricName: "Jobs",
          Dimensions: [{ Name: "Queue", Value: "q1" }],
          Values: [1, 2],
          Counts: [1, 1],
          Unit: "Count",
        },
      ]),
    );
    const start = new Date(Date.now() - 600_000).toISOString();
    const end = new Date(Date.now() + 60_000).toISOString();
    const stats = await aws(
      "get-metric-statistics",
      "--namespace",
      ns,
      "--metric-name",
      "Jobs",
      "--dimensions",
      "Name=Queue,Value=q1",
      "--start-time",
      start,
      "--end-time",
      end,
      "--period",
      "3600",
      "--statistics",
      "Sum",
      "SampleCount",
    );
    expect(stats.Label).toBe("Jobs");
    const total = stats.Datapoints.reduce((n: number, d: { Sum: number }) => n + d.Sum, 0);
    expect(total).toBe(10);
    expect((await aws("list-metrics", "--namespace", ns)).Metrics).toEqual([
      { Namespace: ns, MetricName: "Jobs", Dimensions: [{ Name: "Queue", Value: "q1" }] },
    ]);
    const name = unique("cli-alarm");
    await aws(
      "put-metric-alarm",
      "--alarm-name",
      name,
      "--namespace",
      ns,
      "--metric-name",
      "Jobs",
      "--statistic",
      "Sum",
      "--period",
      "60",
      "--evaluation-periods",
      "1",
      "--threshold",
      "5",
      "--comparison-operator",
      "GreaterThanThreshold",
      "--dimensions",
      "Name=Queue,Value=q1",
    );
    const alarms = await aws("describe-alarms", "--alarm-names", name);
    expect(alarms.MetricAlarms[0]).toMatchObject({ AlarmName: name, Threshold: 5 });
    // Not evaluated yet, or evaluated over the last complete minute, which may hold the data (Sum 10 > 5).
    expect(["INSUFFICIENT_DATA", "ALARM"]).toContain(alarms.MetricAlarms[0].StateValue);
    const err = await aws(
      "put-metric-alarm",
      "--alarm-name",
      name,
      "--namespace",
      ns,
      "--metric-name",
      "Jobs",
      "--statistic",
      "Sum",
      "--period",
      "45",
      "--evaluation-periods",
      "1",
      "--threshold",
      "5",
      "--comparison-operator",
      "GreaterThanThreshold",
    ).catch((e: { stderr: string }) => e);
    expect(err.stderr).toMatch(/InvalidParameterValue/);
    await aws("delete-alarms", "--alarm-names", name);
    expect((await aws("describe-alarms", "--alarm-names", name)).MetricAlarms).toEqual([]);
  });
});
