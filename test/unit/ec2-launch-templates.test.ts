import { describe, expect, it } from "vitest";
import { selectVersions } from "../../src/services/ec2/launch-templates.js";
import type { LaunchTemplateRecord } from "../../src/store/schema/ec2.js";

const at = new Date("2026-01-01T00:00:00Z");
const template: LaunchTemplateRecord = {
  LaunchTemplateId: "lt-0123456789abcdef0",
  LaunchTemplateName: "hosts",
  CreateTime: at,
  CreatedBy: "arn:aws:iam::000000000000:root",
  DefaultVersionNumber: 2,
  Versions: [1, 2, 3].map((n) => ({ VersionNumber: n, CreateTime: at, Data: { ImageId: `ami-${n}` } })),
  Tags: [],
};
const numbers = (input: Parameters<typeof selectVersions>[1]) =>
  selectVersions(template, input).map((v) => v.VersionNumber);

describe("launch template versions", () => {
  it.each([
    [{}, [1, 2, 3]],
    [{ Versions: ["$Latest"] }, [3]],
    [{ Versions: ["$Default"] }, [2]],
    [{ Versions: ["1", "$Latest", "3"] }, [1, 3]],
    [{ MinVersion: "2" }, [2, 3]],
    [{ MinVersion: "1", MaxVersion: "2" }, [1, 2]],
  ])("%j → %j", (input, expected) => expect(numbers(input)).toEqual(expected));

  it.each([["4"], ["$Oldest"], ["one"]])("refuses version %s", (v) =>
    expect(() => numbers({ Versions: [v] })).toThrow(
      expect.objectContaining({ code: "InvalidLaunchTemplateId.VersionNotFound" }),
    ),
  );
});
