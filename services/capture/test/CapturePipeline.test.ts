// The pipeline's stream wiring without a kernel (Loader.layerTest replays bytes): closes come out
// as they arrive, still-open flows emit their last window when the loader ends, and records
// split across chunk boundaries are framed back together.
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import { describe, expect, it } from "vitest";
import { pipelineSettings } from "../src/CaptureConfig.js";
import { capturePipeline } from "../src/CapturePipeline.js";
import { CaptureStats } from "../src/CaptureStats.js";
import { Loader } from "../src/LoaderProcess.js";
import { flowRecord, statsRecord } from "./recordBuilder.js";

const S = 1_000_000_000;
const settings = pipelineSettings({
  node: "unit",
  binary: "/nonexistent",
  ports: [],
  cidrs: [],
  sampling: 1,
  activeTimeoutMs: 60_000,
  maxFlows: 1024,
});

const run = (chunks: Buffer[]) => {
  const stats = new CaptureStats();
  return Effect.runPromise(
    capturePipeline(settings, stats).pipe(
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray),
      Effect.provide(Loader.layerTest(chunks)),
    ),
  ).then((flows) => ({ flows, stats }));
};

describe("capture pipeline (replayed loader bytes)", () => {
  it("emits closes, then the last window of still-open flows when the loader ends", async () => {
    const bytes = Buffer.concat([
      statsRecord(10n * 1_000_000_000n, 1_800_000_010n * 1_000_000_000n),
      flowRecord({ kind: 1, flowId: 1, tsNs: 11 * S, startNs: 11 * S }),
      flowRecord({ kind: 1, flowId: 2, tsNs: 11 * S, startNs: 11 * S, lport: 40001 }),
      flowRecord({ kind: 2, flowId: 2, tsNs: 12 * S, dBytesOut: 500 }),
      flowRecord({ kind: 3, flowId: 1, tsNs: 13 * S, state: 7, closeReason: 2, dBytesOut: 10 }),
    ]);
    // split mid-record: the framer must put records back together
    const { flows, stats } = await run([bytes.subarray(0, 300), bytes.subarray(300, 777), bytes.subarray(777)]);
    expect(flows).toHaveLength(2);
    expect(flows[0]).toMatchObject({
      src_port: 40000,
      close_reason: "rst_sent",
      state: "CLOSE",
      bytes_sent: 10n,
      start_ns: 1_800_000_011n * 1_000_000_000n,
    });
    expect(flows[1]).toMatchObject({ src_port: 40001, close_reason: "open", state: "ESTABLISHED", bytes_sent: 500n });
    expect(stats).toMatchObject({ recordsIn: 4, flowsOut: 2, queueDrops: 0 });
  });
});
