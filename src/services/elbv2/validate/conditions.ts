import { conditionRegexValues, conditionValues, parseCidr } from "../../../lb/rules.js";
import type { RuleCondition } from "../../../protocol/generated/types/elbv2.js";
import { invalid } from "./invalid.js";

/** Rule conditions: which fields, how many values, what each value may contain. */

const SINGLE_FIELDS = new Set(["host-header", "path-pattern", "http-request-method", "source-ip"]);
const FIELDS = new Set([...SINGLE_FIELDS, "http-header", "query-string"]);
const HOST_CHARS = /^[A-Za-z0-9\-.*?]+$/;
const PATH_CHARS = /^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/;
const METHOD = /^[A-Z_-]{1,40}$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,40}$/;
/** AWS: up to three values per condition and five per rule. */
const MAX_VALUES_PER_CONDITION = 3;
const MAX_VALUES_PER_RULE = 5;

function checkRegex(field: string, re: string) {
  if (re.length > 128) throw invalid(`A regular expression in a '${field}' condition cannot exceed 128 characters`);
  try {
    new RegExp(re);
  } catch {
    throw invalid(`'${re}' in a '${field}' condition is not a valid regular expression`);
  }
}

/**
 * Validates a rule's conditions and returns them as DescribeRules reports them (host-header
 * and path-pattern carry both Values and their Config, as AWS echoes them).
 */
export function normalizeConditions(conditions: RuleCondition[]): RuleCondition[] {
  if (conditions.length === 0) throw invalid("A rule must have at least one condition");
  const seen = new Set<string>();
  let total = 0;
  const out: RuleCondition[] = [];
  for (const c of conditions) {
    const field = c.Field;
    if (!field) throw invalid("A condition field must be specified");
    if (!FIELDS.has(field))
      throw invalid(
        `Condition field '${field}' is not valid; use one of host-header, path-pattern, http-header, http-request-method, query-string, source-ip`,
      );
    if (SINGLE_FIELDS.has(field) && seen.has(field)) throw invalid(`A rule can only have one '${field}' condition`);
    seen.add(field);
    const configs = {
      "host-header": c.HostHeaderConfig,
      "path-pattern": c.PathPatternConfig,
      "http-header": c.HttpHeaderConfig,
      "http-request-method": c.HttpRequestMethodConfig,
      "query-string": c.QueryStringConfig,
      "source-ip": c.SourceIpConfig,
    };
    for (const [f, cfg] of Object.entries(configs))
      if (cfg !== undefined && f !== field)
        throw invalid(`A '${field}' condition cannot have a configuration for '${f}'`);
    const hasConfig = configs[field as keyof typeof configs] !== undefined;
    if (c.Values !== undefined && c.Values.length > 0) {
      if (field !== "host-header" && field !== "path-pattern")
        throw invalid(
          `'Values' can only be specified for host-header and path-pattern conditions; use the ${field} configuration`,
        );
      if (hasConfig) throw invalid(`A '${field}' condition cannot have both 'Values' and a configuration`);
    }
    if (c.RegexValues !== undefined && c.RegexValues.length > 0 && hasConfig)
      throw invalid(`A '${field}' condition cannot have both 'RegexValues' and a configuration`);
    const values = conditionValues(c);
    const regexValues = conditionRegexValues(c);
    for (const re of regexValues) checkRegex(field, re);
    const count =
      field === "query-string" ? (c.QueryStringConfig?.Values ?? []).length : values.length + regexValues.length;
    if (count === 0) throw invalid(`A '${field}' condition must have at least one value`);
    if (count > MAX_VALUES_PER_CONDITION && field !== "source-ip")
      throw invalid(`A '${field}' condition can have at most ${MAX_VALUES_PER_CONDITION} values`);
    total += count;
    switch (field) {
      case "host-header":
        for (const v of values) {
          if (v.length > 128) throw invalid(`Host header value '${v}' cannot exceed 128 characters`);
          if (!HOST_CHARS.test(v))
            throw invalid(`Host header value '${v}' can only contain A-Z, a-z, 0-9, '-', '.', '*' and '?'`);
        }
        out.push(
          regexValues.length
            ? { Field: field, HostHeaderConfig: { RegexValues: regexValues } }
            : { Field: field, Values: values, HostHeaderConfig: { Values: values } },
        );
        break;
      case "path-pattern":
        for (const v of values) {
          if (v.length > 128) throw invalid(`Path pattern '${v}' cannot exceed 128 characters`);
          if (!PATH_CHARS.test(v))
            throw invalid(
              `Path pattern '${v}' can only contain A-Z, a-z, 0-9, _ - . $ / ~ " ' @ : + & and the wildcards * and ?`,
            );
        }
        out.push(
          regexValues.length
            ? { Field: field, PathPatternConfig: { RegexValues: regexValues } }
            : { Field: field, Values: values, PathPatternConfig: { Values: values } },
        );
        break;
      case "http-header": {
        const name = c.HttpHeaderConfig?.HttpHeaderName;
        if (!name) throw invalid("An http-header condition must name the header (HttpHeaderConfig.HttpHeaderName)");
        if (!HEADER_NAME.test(name))
          throw invalid(`HTTP header name '${name}' must be a valid header name of at most 40 characters`);
        if (name.toLowerCase() === "host")
          throw invalid("An http-header condition cannot use the Host header; use a host-header condition");
        for (const v of values)
          if (v.length > 128) throw invalid(`HTTP header value '${v}' cannot exceed 128 characters`);
        out.push({
          Field: field,
          HttpHeaderConfig: {
            HttpHeaderName: name,
            ...(values.length ? { Values: values } : {}),
            ...(regexValues.length ? { RegexValues: regexValues } : {}),
          },
        });
        break;
      }
      case "http-request-method":
        for (const v of values)
          if (!METHOD.test(v))
            throw invalid(`HTTP request method '${v}' can only contain A-Z, '-' and '_' (at most 40 characters)`);
        out.push({ Field: field, HttpRequestMethodConfig: { Values: values } });
        break;
      case "query-string": {
        const pairs = c.QueryStringConfig?.Values ?? [];
        for (const p of pairs) {
          if (p.Value === undefined || p.Value === "")
            throw invalid("Each query-string condition value must have a 'Value'");
          if (p.Value.length > 128 || (p.Key?.length ?? 0) > 128)
            throw invalid("Query string keys and values cannot exceed 128 characters");
        }
        out.push({
          Field: field,
          QueryStringConfig: {
            Values: pairs.map((p) => (p.Key === undefined ? { Value: p.Value } : { Key: p.Key, Value: p.Value })),
          },
        });
        break;
      }
      case "source-ip":
        for (const v of values)
          if (!parseCidr(v)) throw invalid(`Source IP '${v}' is not a valid CIDR block (for example 10.0.0.0/16)`);
        out.push({ Field: field, SourceIpConfig: { Values: values } });
        break;
    }
  }
  if (total > MAX_VALUES_PER_RULE)
    throw invalid(`A rule can have at most ${MAX_VALUES_PER_RULE} condition values in total; got ${total}`);
  return out;
}
