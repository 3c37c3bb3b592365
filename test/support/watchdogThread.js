// The watchdog thread of test/support/watchdog.ts, plain JavaScript (a worker thread runs without
// vitest's transform). Every 5 s it reads the stamp the test process's main thread writes each
// second; once the stamp is older than workerData.stallS, it prints where the main thread is (its
// stack, and the functions a 2 s CPU profile finds it in) and kills the process.
import { writeSync } from "node:fs";
import { Session } from "node:inspector";
import { parentPort, workerData } from "node:worker_threads";

const stamp = new Int32Array(workerData.shared);
let file = "?";
parentPort.on("message", (m) => (file = String(m)));
const say = (text) => writeSync(2, `${text}\n`);

const post = (session, method, params = {}) =>
  new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const frame = (f) => `${f.functionName || "<anonymous>"} (${f.url}:${f.lineNumber + 1}:${f.columnNumber + 1})`;

// The stack where a pause request finds the main thread. Served between JavaScript operations, so
// also inside a loop that never yields; in a promise chain that only shows the microtask runner.
const pausedStack = async (session) => {
  const urls = new Map();
  const parsed = (m) => urls.set(m.params.scriptId, m.params.url);
  session.on("Debugger.scriptParsed", parsed);
  const paused = new Promise((resolve) => session.once("Debugger.paused", (m) => resolve(m.params.callFrames)));
  await post(session, "Debugger.enable");
  await post(session, "Debugger.pause");
  const frames = await paused;
  await post(session, "Debugger.resume");
  await post(session, "Debugger.disable");
  session.off("Debugger.scriptParsed", parsed);
  return frames.map((f) => `    at ${frame({ ...f, ...f.location, url: urls.get(f.location.scriptId) ?? "?" })}`);
};

// The functions the main thread runs, by share of 2 s of samples, and the call path of the top three.
const hottest = async (session) => {
  await post(session, "Profiler.enable");
  await post(session, "Profiler.setSamplingInterval", { interval: 200 });
  await post(session, "Profiler.start");
  await sleep(2_000);
  const { profile } = await post(session, "Profiler.stop");
  const own = new Map();
  for (const id of profile.samples) own.set(id, (own.get(id) ?? 0) + 1);
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = Math.max(1, profile.samples.length);
  const top = [...own].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return top.flatMap(([id, n]) => {
    const path = [];
    for (let node = byId.get(id); node !== undefined; node = parent.get(node.id))
      if (node.callFrame.url !== "" || node.callFrame.functionName !== "(root)") path.push(frame(node.callFrame));
    return [`  ${((100 * n) / total).toFixed(0)}% of samples in:`, ...path.slice(0, 25).map((p) => `    at ${p}`)];
  });
};

const diagnose = async () => {
  const session = new Session();
  session.connectToMainThread();
  say("[watchdog] main thread stack:");
  say((await pausedStack(session)).join("\n"));
  say("[watchdog] main thread CPU profile (2 s):");
  say((await hottest(session)).join("\n"));
};

const tick = async () => {
  const idle = Math.floor(Date.now() / 1000) - Atomics.load(stamp, 0);
  if (idle < workerData.stallS) return void setTimeout(tick, 5_000);
  say(
    `[watchdog] test process ${process.pid} (${file}): its event loop has not run for ${idle} s ` +
      `(NETPULSE_TEST_STALL_S=${workerData.stallS}), so vitest's own timeouts cannot fire`,
  );
  // Blocked outside JavaScript (a synchronous system call), the inspector is never served.
  const outside = sleep(30_000).then(() => say("[watchdog] no answer in 30 s: blocked outside JavaScript"));
  await Promise.race([diagnose().catch((e) => say(`[watchdog] inspector failed: ${e}`)), outside]);
  say(`[watchdog] killing test process ${process.pid}: this run fails here instead of at the CI time limit`);
  process.kill(process.pid, "SIGKILL");
};
setTimeout(tick, 5_000);
