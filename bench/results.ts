// One writer for every bench's results file: bench/results/<section>.json (ignored by git: figures
// belong to one run on one machine), with when and where it ran next to the figures. The keys a
// section writes at its top level are what `scripts/bench.sh` merges into bench/results/latest.json
// (bench/aggregate.ts); raw numbers behind a ratio go under `raw`.
//   import { writeResults } from "<relative path>/bench/results.js";
//   await writeResults("sink", { sink_vs_clickhouse_client: 0.91, raw: { ... } });
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));

/** The file a section's results go to. */
export const resultsFile = (section: string): string => join(resultsDir, `${section}.json`);

/** JSON that keeps bigints (as numbers when safe, else strings) and turns non-finite numbers into null. */
const replacer = (_key: string, v: unknown): unknown => {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
};

/**
 * Writes `figures` to bench/results/<section>.json with the run's time, Node version, CPU count and
 * load average; returns the file's path. `section` is a plain name ([a-z0-9_-]).
 */
export const writeResults = async (section: string, figures: Record<string, unknown>): Promise<string> => {
  if (!/^[a-z0-9_-]+$/.test(section)) throw new Error(`writeResults: section "${section}" is not [a-z0-9_-]+`);
  const file = resultsFile(section);
  await mkdir(resultsDir, { recursive: true });
  const body = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg: loadavg(),
    ...figures,
  };
  await writeFile(file, JSON.stringify(body, replacer, 2) + "\n");
  return file;
};
