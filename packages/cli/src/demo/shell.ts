// Running the system tools the demo drives (ip, tc, nft, ethtool): a failing command becomes a
// DemoCommandError naming the command line and what it printed.
import { execFileSync } from "node:child_process";
import * as Data from "effect/Data";

export class DemoCommandError extends Data.TaggedError("DemoCommandError")<{
  readonly message: string;
  readonly cause: unknown;
}> {}

/** Runs `cmd args` and returns its stdout; throws DemoCommandError (callers wrap in Effect.try). */
export const sh = (cmd: string, args: ReadonlyArray<string>): string => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim() ?? "";
    throw new DemoCommandError({ message: `${cmd} ${args.join(" ")}: ${stderr || String(cause)}`, cause });
  }
};

/** `cmd args` inside network namespace `ns`. */
export const inNetns = (ns: string, args: ReadonlyArray<string>): string => sh("ip", ["netns", "exec", ns, ...args]);

/** Like sh, for cleanup: a failure (already gone) is not an error. */
export const shQuiet = (cmd: string, args: ReadonlyArray<string>): string | undefined => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return undefined;
  }
};
