import type { Operations } from "../../protocol/generated/types/sts.js";
import { defineService } from "../define.js";
import type { Provider } from "../service.js";

/** STS: GetCallerIdentity for now (it is how clients check who Berth thinks they are). */
export function stsService() {
  const provider: Provider<Operations> = {
    GetCallerIdentity: (_input, ctx) => ({
      Account: ctx.account,
      Arn: ctx.principal.arn,
      UserId: ctx.account,
    }),
  };
  return defineService("sts", provider, { validationCode: "ValidationError" });
}
