import { describe, expect, it } from "vitest";
import { commonErrors } from "../../src/core/errors.js";

// The edge's authentication failures: AWS's awsQuery front ends send the short code with 403,
// its JSON front ends the `…Exception` spelling with 400.
const SIGV4_PAIRS = [
  ["SignatureDoesNotMatch", "InvalidSignatureException"],
  ["MissingAuthenticationToken", "MissingAuthenticationTokenException"],
  ["ExpiredToken", "ExpiredTokenException"],
  ["InvalidClientTokenId", "UnrecognizedClientException"],
] as const;

describe("common errors the edge and the authorizer send", () => {
  it.each(SIGV4_PAIRS)("%s is 403 on the query wire, %s 400 on JSON", (query, json) => {
    expect(commonErrors[query]("m")).toMatchObject({ code: query, status: 403, fault: "Sender", message: "m" });
    expect(commonErrors[json]("m")).toMatchObject({ code: json, status: 400, fault: "Sender", message: "m" });
  });

  it("has one AccessDenied per protocol family, as the authorizer sends them", () => {
    expect(commonErrors.AccessDenied("m")).toMatchObject({ code: "AccessDenied", status: 403 });
    expect(commonErrors.RestJsonAccessDeniedException("m")).toMatchObject({
      code: "AccessDeniedException",
      status: 403,
    });
    expect(commonErrors.AccessDeniedException("m")).toMatchObject({ code: "AccessDeniedException", status: 400 });
  });

  it("names the edge's unknown-service error", () =>
    expect(commonErrors.UnknownService("m")).toMatchObject({ code: "UnknownService", status: 400 }));
});
