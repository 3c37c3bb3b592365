// The real `netpulse` command line as a user runs it, from the sources (through tsx), for the
// CLI tests; and a scratch folder of their own for the files they feed it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** tsx's arguments that run the CLI's entry point from source. */
export const CLI_ARGS = ["--tsconfig", "tsconfig.eslint.json", "packages/cli/src/main.ts"] as const;

export interface CliOptions {
  readonly timeoutMs?: number;
  /** The environment of each run, read when it starts (default: this process's). */
  readonly env?: () => NodeJS.ProcessEnv;
}

/** A function running `netpulse <args>` to completion: status, stdout and stderr as text. */
export const netpulseCli =
  (o: CliOptions = {}) =>
  (...args: string[]) =>
    spawnSync("node_modules/.bin/tsx", [...CLI_ARGS, ...args], {
      encoding: "utf8",
      timeout: o.timeoutMs ?? 120_000,
      ...(o.env === undefined ? {} : { env: o.env() }),
    });

/** A temporary folder, and `file(name, text)` writing a file there and returning its path. */
export const scratchFiles = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  return { dir, file };
};
