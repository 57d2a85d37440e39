/**
 * GetMetricData metric math as CloudWatch documents it (issue 16): arithmetic between series and
 * scalars, METRICS() / METRICS('id part'), SEARCH, IF, FILL, comparisons, ReturnData and Label,
 * and ValidationError naming the expression for bad math — through the SDK v3 and the AWS CLI v2.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { clientConfig } from "../support/berth.js";

const run = promisify(execFile);

describe("CloudWatch metric math", () => {
  const endpoint = inject("endpoint");
  const cw = new CloudWatchClient(clientConfig(endpoint));
  const ns = `Berth/Math-${randomUUID().slice(0, 8)}`;
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const start = new Date(minute);
  const end = new Date(minute + 3 * 60_000);
  const stat = (name: string, service: string) => ({
    Metric: { Namespace: ns, MetricName: name, Dimensions: [{ Name: "Service", Value: service }] },
    Period: 60,
    Stat: "Sum",
  });

  beforeAll(async () => {
    // Requests: web 10, 20, 30; api 1, 2 (no third minute). Errors: web 1, 0, 3.
    const datum = (name: string, service: string, i: number, v: number) => ({
      MetricName: name,
      Dimensions: [{ Name: "Service", Value: service }],
      Timestamp: new Date(minute + i * 60_000 + 1000),
      Value: v,
    });
    await cw.send(
      new PutMetricDataCommand({
        Namespace: ns,
        MetricData: [
          datum("Requests", "web", 0, 10),
          datum("Requests", "web", 1, 20),
          datum("Requests", "web", 2, 30),
          datum("Requests", "api", 0, 1),
          datum("Requests", "api", 1, 2),
          datum("Errors", "web", 0, 1),
          datum("Errors", "web", 1, 0),
          datum("Errors", "web", 2, 3),
        ],
      }),
    );
  });

  const query = async (queries: ConstructorParameters<typeof GetMetricDataCommand>[0]["MetricDataQueries"]) => {
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        ScanBy: "TimestampAscending",
        MetricDataQueries: queries,
      }),
    );
    return (out.MetricDataResults ?? []).map((r) => ({ id: r.Id, label: r.Label, values: r.Values }));
  };

  it("arithmetic between series and scalars, METRICS('id part'), IF, FILL, comparisons; ReturnData false hides a query", async () => {
    const results = await query([
      { Id: "req_web", MetricStat: stat("Requests", "web"), ReturnData: false },
      { Id: "req_api", MetricStat: stat("Requests", "api"), ReturnData: false },
      { Id: "err_web", MetricStat: stat("Errors", "web"), ReturnData: false },
      { Id: "rate", Expression: "100 * err_web / req_web", Label: "Error rate" },
      { Id: "both", Expression: "req_web + req_api" },
      { Id: "total", Expression: "SUM(METRICS('req'))" },
      { Id: "filled", Expression: "FILL(req_api, REPEAT)" },
      { Id: "busy", Expression: "IF(req_web > 15, req_web, 0)" },
      { Id: "peak", Expression: "MAX(req_web) - MIN(req_web)" },
    ]);
    expect(results).toEqual([
      { id: "rate", label: "Error rate", values: [10, 0, 10] },
      { id: "both", label: "both", values: [11, 22] },
      { id: "total", label: "total", values: [11, 22, 30] },
      { id: "filled", label: "filled", values: [1, 2, 2] },
      { id: "busy", label: "busy", values: [0, 20, 30] },
      { id: "peak", label: "peak", values: [20, 20, 20] },
    ]);
  });

  it("SEARCH finds metrics by schema and terms, one result per metric with its label", async () => {
    const results = await query([
      { Id: "all", Expression: `SEARCH('{${ns},Service} MetricName="Requests"', 'Sum', 60)` },
      { Id: "web", Expression: `SUM(SEARCH('{${ns},Service} Service="web"', 'Sum', 60))`, Label: "web total" },
    ]);
    expect(results).toEqual([
      { id: "all", label: "Requests api", values: [1, 2] },
      { id: "all", label: "Requests web", values: [10, 20, 30] },
      { id: "web", label: "web total", values: [11, 20, 33] },
    ]);
  });

  it("bad math is a ValidationError naming the expression (SDK and CLI)", async () => {
    const failure = async (expression: string) => {
      try {
        await query([{ Id: "e1", Expression: expression }]);
      } catch (e) {
        const err = e as { name: string; message: string; $metadata: { httpStatusCode?: number } };
        return { name: err.name, message: err.message, status: err.$metadata.httpStatusCode };
      }
      throw new Error(`${expression} was accepted`);
    };
    // Query code ValidationError; the SDK names it by its shape, ValidationException.
    expect(await failure("m9 * 2")).toEqual({
      name: "ValidationException",
      message: 'Error in expression e1: Unrecognized id "m9" in the expression.',
      status: 400,
    });
    expect((await failure("ANOMALY_DETECTION_BAND(m1)")).message).toMatch(
      /^Error in expression e1: Berth does not support the metric math function ANOMALY_DETECTION_BAND/,
    );
    expect((await failure("(1 + ")).message).toMatch(/^Error in expression e1: The expression ends too early/);
    expect((await failure("METRICS() + METRICS()")).message).toMatch(/cannot combine two arrays/);

    const cli = await run(
      "/usr/bin/aws",
      [
        "--endpoint-url",
        endpoint,
        "cloudwatch",
        "get-metric-data",
        "--start-time",
        start.toISOString(),
        "--end-time",
        end.toISOString(),
        "--metric-data-queries",
        JSON.stringify([{ Id: "e1", Expression: "SUM(" }]),
      ],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
        },
      },
    ).then(
      () => "",
      (e: { stderr: string }) => e.stderr,
    );
    expect(cli).toMatch(/\(ValidationError\).*Error in expression e1/);
  });
});
