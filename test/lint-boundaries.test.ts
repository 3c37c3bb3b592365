// The workspace boundary rules in eslint.config.js, run through ESLint's Node API on a fixture
// linted under different names: inside services/enricher every import of another service fails;
// in the CLI only the reach into a service's folder does (entry points are its way in).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixture = join(root, "test/fixtures/lint/crossServiceImport.ts");

/** Boundary messages for the fixture's text as if it were `asFile`; only the import rule runs (no type information needed). */
const boundaryErrors = async (asFile: string, text?: string) => {
  const eslint = new ESLint({
    cwd: root,
    ruleFilter: ({ ruleId }) => ruleId === "no-restricted-imports",
    overrideConfig: { languageOptions: { parserOptions: { project: null, projectService: false } } },
  });
  const source = text ?? (await readFile(fixture, "utf8"));
  const [result] = await eslint.lintText(source, { filePath: join(root, asFile) });
  return (result?.messages ?? []).map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
};

describe("service boundaries (eslint no-restricted-imports)", () => {
  it("fails a service that imports another service by name, by subpath or by relative path", async () => {
    const errors = await boundaryErrors("services/enricher/src/crossServiceImport.ts");
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5]);
    for (const e of errors) {
      expect(e.rule).toBe("no-restricted-imports");
      expect(e.message).toMatch(/services\/enricher must not/);
    }
    const subpath = await boundaryErrors(
      "services/detector/src/x.ts",
      'export { x } from "@netpulse/enricher/k8s/KubeSource";\n',
    );
    expect(subpath).toHaveLength(1);
  });

  it("lets a service import packages, and the CLI import services' entry points only", async () => {
    const packages = 'export { slim } from "@netpulse/kube";\nexport { ClickHouse } from "@netpulse/clickhouse";\n';
    expect(await boundaryErrors("services/enricher/src/x.ts", packages)).toEqual([]);
    expect(await boundaryErrors("services/sink/src/x.ts", 'export { sinkDefaults } from "./index.js";\n')).toEqual([]);
    const cliErrors = await boundaryErrors("packages/cli/src/commands/x.ts");
    expect(cliErrors.map((e) => e.line)).toEqual([5]);
    expect(cliErrors[0]?.message).toMatch(/the CLI imports a service by its entry point/);
  });

  it("keeps libraries free of services, and the effect barrel ban everywhere", async () => {
    const lib = await boundaryErrors("packages/kube/src/x.ts", 'export { Index } from "@netpulse/enricher";\n');
    expect(lib).toHaveLength(1);
    expect(lib[0]?.message).toMatch(/a library package must not import a service/);
    const errors = await boundaryErrors("services/sink/src/x.ts", 'export { Effect } from "effect";\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/Import the module by path/);
  });
});
