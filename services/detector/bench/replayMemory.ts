// A child of replay.bench.ts: one replay of a topic window (or a file) in a fresh process, so its
// peak RSS is the replay's alone. Options as JSON in REPLAY_MEMORY ({ from, to, bus } or
// { input }, and sampleEvery); prints one JSON line: the run and its memory samples.
import { replaySource } from "./replayRun.js";

const o = JSON.parse(process.env["REPLAY_MEMORY"] ?? "{}") as {
  readonly from?: string;
  readonly to?: string;
  readonly bus?: string;
  readonly input?: string;
  readonly sampleEvery: number;
};
const run = await replaySource({ from: o.from, to: o.to, bus: o.bus, input: o.input, manifests: [] }, o.sampleEvery);
process.stdout.write(`${JSON.stringify(run)}\n`);
process.exit(0);
