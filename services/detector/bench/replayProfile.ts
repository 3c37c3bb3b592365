// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time by function and by module (a
// package under node_modules, a source file of this repo, or none: GC, idle, builtins and code
// compiled at run time, such as avsc's generated readers and writers), as
// shares of all samples: what dominates a replay that misses its goal.
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly hitCount?: number;
}

export interface Share {
  readonly name: string;
  readonly share: number;
}

const moduleOf = (f: ProfileNode["callFrame"]): string =>
  f.url === ""
    ? f.functionName.startsWith("(")
      ? f.functionName
      : "(no script: builtins, code made by new Function)"
    : f.url
        .replace(/^.*\/node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*$/, "$1")
        .replace(/^.*\/(packages|services)\/([^/]+)\/src\//, "$2/")
        .replace(/^file:\/\//, "");

const top = (m: Map<string, number>, total: number, n: number): Share[] =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, share: hits / total }));

export const selfTime = (file: string, n = 10): { readonly functions: Share[]; readonly modules: Share[] } => {
  const p = JSON.parse(readFileSync(file, "utf8")) as { readonly nodes: ReadonlyArray<ProfileNode> };
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const f = node.callFrame;
    const mod = moduleOf(f);
    // tsx's output keeps a source file on one line: the column tells its functions apart
    const fn = `${f.functionName === "" ? "(anonymous)" : f.functionName}${f.url === "" ? "" : ` ${mod}:${f.lineNumber + 1}:${f.columnNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
    byModule.set(mod, (byModule.get(mod) ?? 0) + hits);
  }
  return { functions: top(byFunction, total, n), modules: top(byModule, total, n) };
};
