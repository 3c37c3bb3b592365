// The capture's CPU scheduling policy (NETPULSE_CAPTURE_SCHED), set by the service on its own process
// at start, before it spawns the loader (which inherits it), so the DaemonSet needs no wrapper.
// `idle` (default): SCHED_IDLE. The capture's work comes in bursts (once a second the loader's flush
// and stats record, every active timeout the window flush and the bus batch: a few ms of CPU each);
// at normal policy a burst that lands on a core serving requests holds them up until the scheduler's
// slice ends (latency.bench.ts: paced p99 ×2.5–3.9, mean ×1.1; nice 10 did not help). A SCHED_IDLE
// task is preempted at once when any other task wakes, so the burst only fills idle time. It still
// gets CPU on a busy node: its pod's cgroup keeps its own share; only against tasks in the same
// cgroup (a bare host) is its weight minimal, and records it then cannot read in time are dropped
// and counted (ringbuf_full), never waited for.
// `batch`: SCHED_BATCH (never preempts others on wake-up, normal share). `normal`: SCHED_OTHER.
import { execFile } from "node:child_process";
import * as Effect from "effect/Effect";

export const SCHED_POLICIES = ["idle", "batch", "normal"] as const;
export type SchedPolicy = (typeof SCHED_POLICIES)[number];

/** chrt's flag for each policy (util-linux, present in every Debian-based image). */
const CHRT_FLAG: Record<SchedPolicy, string> = { idle: "--idle", batch: "--batch", normal: "--other" };

/** Linux policy numbers as /proc/<tid>/stat reports them (field 41). */
export const LINUX_POLICY: Record<SchedPolicy, number> = { normal: 0, batch: 3, idle: 5 };

/**
 * Sets `policy` on every thread of `pid` (threads and children started later inherit it).
 * A failure (no chrt, not permitted) is logged and the capture runs on at its current policy.
 */
export const applySchedPolicy = (policy: SchedPolicy, pid: number = process.pid): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    execFile("chrt", [CHRT_FLAG[policy], "--all-tasks", "--pid", "0", String(pid)], (err, _out, stderr) =>
      resume(
        err === null
          ? Effect.logDebug(`scheduling policy ${policy}`)
          : Effect.logWarning(
              `cannot set scheduling policy ${policy} (NETPULSE_CAPTURE_SCHED): ${stderr.trim() || err.message}; running at the current policy`,
            ),
      ),
    );
  });
