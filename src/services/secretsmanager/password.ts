import { randomInt } from "node:crypto";
import type { Operations } from "../../protocol/generated/types/secretsmanager.js";
import type { Provider } from "../../protocol/service.js";
import { invalidParameter } from "./context.js";

/** GetRandomPassword: each included character class at least once unless told otherwise. */
export const passwordOperations: Provider<Operations> = {
  GetRandomPassword: (input) => {
    const length = input.PasswordLength ?? 32;
    if (!Number.isInteger(length) || length < 1 || length > 4096)
      throw invalidParameter("PasswordLength must be between 1 and 4096.");
    const exclude = new Set(input.ExcludeCharacters ?? "");
    const classes = [
      input.ExcludeLowercase ? "" : "abcdefghijklmnopqrstuvwxyz",
      input.ExcludeUppercase ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
      input.ExcludeNumbers ? "" : "0123456789",
      input.ExcludePunctuation ? "" : "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
      input.IncludeSpace ? " " : "",
    ]
      .map((c) => [...c].filter((ch) => !exclude.has(ch)).join(""))
      .filter(Boolean);
    if (!classes.length) throw invalidParameter("The password cannot be generated: every character is excluded.");
    const all = classes.join("");
    const required = input.RequireEachIncludedType ?? true;
    if (required && length < classes.length)
      throw invalidParameter("PasswordLength is too short to include each character type.");
    for (;;) {
      let out = "";
      for (let i = 0; i < length; i++) out += all[randomInt(all.length)];
      if (!required || classes.every((c) => [...out].some((ch) => c.includes(ch)))) return { RandomPassword: out };
    }
  },
};
