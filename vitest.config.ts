// Tests import workspaces by package name; point those names at the TypeScript sources so
// `vitest run` needs no prior build.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const workspaces: Record<string, string> = {
  runtime: "packages/runtime",
  policy: "packages/policy",
  cli: "packages/cli",
  capture: "services/capture",
  enricher: "services/enricher",
  detector: "services/detector",
  sink: "services/sink",
};

export default defineConfig({
  resolve: {
    alias: Object.entries(workspaces).flatMap(([name, dir]) => [
      { find: new RegExp(`^@netpulse/${name}$`), replacement: `${root}${dir}/src/index.ts` },
      { find: new RegExp(`^@netpulse/${name}/(.*)$`), replacement: `${root}${dir}/src/$1.ts` },
    ]),
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real servers and the real kernel are shared per machine: files run one at a time.
    fileParallelism: false,
    pool: "forks",
  },
});
