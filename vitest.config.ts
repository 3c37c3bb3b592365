// Tests import workspaces by package name; point those names at the TypeScript sources so
// `vitest run` needs no prior build.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
// Libraries: the entry point and any module by subpath.
const packages: Record<string, string> = {
  runtime: "packages/runtime",
  kube: "packages/kube",
  clickhouse: "packages/clickhouse",
  policy: "packages/policy",
  cli: "packages/cli",
};
// Services: the public entry point only (their package.json exports "." alone).
const services: Record<string, string> = {
  capture: "services/capture",
  enricher: "services/enricher",
  detector: "services/detector",
  sink: "services/sink",
};

export default defineConfig({
  resolve: {
    alias: [
      ...Object.entries(packages).flatMap(([name, dir]) => [
        { find: new RegExp(`^@netpulse/${name}$`), replacement: `${root}${dir}/src/index.ts` },
        { find: new RegExp(`^@netpulse/${name}/(.*)$`), replacement: `${root}${dir}/src/$1.ts` },
      ]),
      ...Object.entries(services).map(([name, dir]) => ({
        find: new RegExp(`^@netpulse/${name}$`),
        replacement: `${root}${dir}/src/index.ts`,
      })),
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real servers and the real kernel are shared per machine: files run one at a time.
    fileParallelism: false,
    pool: "forks",
    // A test process whose event loop stops is named, with its stack, and killed (see the file).
    setupFiles: ["test/support/watchdog.ts"],
  },
});
