// NETPULSE_CAPTURE_SCHED: the policy reaches every thread of the process and what it spawns later.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import * as ConfigProvider from "effect/ConfigProvider";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { afterEach, describe, expect, it } from "vitest";
import { captureConfig } from "../src/CaptureConfig.js";
import { LINUX_POLICY, applySchedPolicy } from "../src/schedPolicy.js";

/** Policy of every thread of `pid` (/proc/<pid>/task/<tid>/stat field 41). */
const policies = (pid: number): number[] =>
  readdirSync(`/proc/${pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return Number(fields[38]);
  });

const kids: number[] = [];
afterEach(() => {
  for (const pid of kids.splice(0)) process.kill(pid);
});

describe("scheduling policy", () => {
  it("defaults to idle and refuses an unknown policy naming the variable", () => {
    const load = (env: Record<string, string>) =>
      Effect.runSync(
        Effect.either(Effect.withConfigProvider(captureConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))),
      );
    const ok = load({});
    expect(Either.isRight(ok) && ok.right.sched).toBe("idle");
    const batch = load({ NETPULSE_CAPTURE_SCHED: "batch" });
    expect(Either.isRight(batch) && batch.right.sched).toBe("batch");
    const bad = load({ NETPULSE_CAPTURE_SCHED: "realtime" });
    expect(Either.isLeft(bad)).toBe(true);
    expect(JSON.stringify(Either.isLeft(bad) ? bad.left : "")).toContain("NETPULSE_CAPTURE_SCHED");
  });

  it("sets every thread of a running node process, and the child it spawns afterwards inherits it", async () => {
    // a node process with its worker threads up; on a line from stdin it spawns a child and prints its pid
    const node = spawn(
      process.execPath,
      [
        "-e",
        `setInterval(() => {}, 1000); require("readline").createInterface({ input: process.stdin }).on("line", () =>
           console.log(require("child_process").spawn("sleep", ["30"], { stdio: "ignore" }).pid));
         console.log("up");`,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    kids.push(node.pid ?? 0);
    const lines = createInterface({ input: node.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe("up");
    expect(policies(node.pid ?? 0).length).toBeGreaterThan(1);
    expect(new Set(policies(node.pid ?? 0))).toEqual(new Set([LINUX_POLICY.normal]));

    await Effect.runPromise(applySchedPolicy("idle", node.pid));
    expect(new Set(policies(node.pid ?? 0))).toEqual(new Set([LINUX_POLICY.idle]));
    node.stdin.write("spawn\n");
    const child = Number((await lines.next()).value);
    kids.push(child);
    expect(policies(child)).toEqual([LINUX_POLICY.idle]);

    await Effect.runPromise(applySchedPolicy("batch", node.pid));
    expect(new Set(policies(node.pid ?? 0))).toEqual(new Set([LINUX_POLICY.batch]));
    await Effect.runPromise(applySchedPolicy("normal", node.pid));
    expect(new Set(policies(node.pid ?? 0))).toEqual(new Set([LINUX_POLICY.normal]));
  });
});
