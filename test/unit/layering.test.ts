import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layers of src/, lowest first (docs/design.md): a file may import its own layer and the
 * layers below, never above. Layers on one line do not import each other.
 */
const LAYERS = [
  ["core"],
  ["config"],
  ["protocol"],
  ["store"],
  ["iam", "lb", "registry", "runtime", "kube"],
  ["scheduler"],
  ["hosts"],
  ["metrics"],
  ["task-endpoint"],
  ["controllers"],
  ["edge", "kube-api"],
  ["services", "agent"],
  ["main.ts"],
];
const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

const root = resolve(__dirname, "../../src");
const files: string[] = [];
const walk = (dir: string) => {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (f.endsWith(".ts")) files.push(p);
  }
};
walk(root);
const layerOf = (p: string) => relative(root, p).split("/")[0];

describe("layering", () => {
  it("no file imports a layer above its own", () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const m of readFileSync(file, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
        const target = resolve(dirname(file), m[1]).replace(/\.js$/, ".ts");
        const to = layerOf(target);
        if (to === from) continue;
        const edge = `${relative(root, file)} -> ${relative(root, target)}`;
        const a = rank.get(from);
        const b = rank.get(to);
        if (a === undefined || b === undefined || b >= a) wrong.push(edge);
      }
    }
    expect(wrong).toEqual([]);
  });
});
