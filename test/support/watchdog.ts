// A vitest setup file: a watchdog thread in each test process. vitest's timeouts are timers on the
// test's own event loop, so a loop that never yields (a promise chain that always has the next
// step ready, a synchronous call that never returns) silences them and the whole run waits for
// the CI time limit with no word of where. The main thread stamps a shared clock every second;
// when the stamp is older than NETPULSE_TEST_STALL_S (default 180 s, 0 = off), the thread
// (watchdogThread.js) prints the main thread's stack and hottest functions and kills the process.
import { Worker } from "node:worker_threads";
import { expect } from "vitest";

const STALL_S = Number(process.env["NETPULSE_TEST_STALL_S"] ?? "180");

type Guarded = typeof globalThis & { __netpulseWatchdog?: Worker };

const start = (): Worker => {
  const shared = new SharedArrayBuffer(4);
  const stamp = new Int32Array(shared);
  const beat = () => Atomics.store(stamp, 0, Math.floor(Date.now() / 1000));
  beat();
  setInterval(beat, 1000).unref();
  const thread = new Worker(new URL("./watchdogThread.js", import.meta.url), {
    workerData: { shared, stallS: STALL_S },
  });
  thread.unref();
  return thread;
};

if (STALL_S > 0) {
  const g = globalThis as Guarded;
  g.__netpulseWatchdog ??= start();
  // One process may run several files: the thread names the one that stalled.
  g.__netpulseWatchdog.postMessage(expect.getState().testPath ?? "?");
}
