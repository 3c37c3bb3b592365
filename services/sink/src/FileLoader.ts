// `netpulse sink --input FILE.jsonl`: flow records from a file (JSON lines of `netpulse capture
// --stdout` → raw flows with empty endpoints, or `netpulse enrich` → enriched flows; the first
// record decides) become the Avro batches the enricher publishes and go through the service's own
// transform (sinkTransform: decode, batch, exactly-once write), so loading a file runs at the
// service's speed and loading it twice changes nothing.
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Option from "effect/Option";
import * as Stream from "effect/Stream";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { isEnrichedFlowJson, parseEnrichedFlowJson, parseRawFlowJson } from "@netpulse/runtime/codec/json";
import { emptyEndpoint, type EnrichedFlow } from "@netpulse/runtime/records";
import { jsonlBatches, readLines } from "@netpulse/runtime/stage/jsonlSource";
import { runOffline } from "@netpulse/runtime/stage/runStage";
import { Topics } from "@netpulse/runtime/topics";
import { flowsInput, sinkTransform, type SinkOutput } from "./SinkPipeline.js";
import { SinkWriter } from "./write/SinkWriter.js";

export class LoadInputError extends Data.TaggedError("LoadInputError")<{ readonly message: string }> {}

export interface LoadSummary {
  readonly records: number;
  readonly inserted: number;
  readonly duplicates: number;
  readonly refused: ReadonlyArray<string>;
}

const parseRawAsEnriched = (line: string, where: string) =>
  Either.map(parseRawFlowJson(line, where), (raw): EnrichedFlow => ({
    ...raw,
    src: emptyEndpoint,
    dst: emptyEndpoint,
  }));

export const loadFile = (file: string, batchRows: number) =>
  Effect.gen(function* () {
    const writer = yield* SinkWriter;
    const label = `--input ${file}`;
    const first = yield* readLines(file, label).pipe(
      Stream.filter((l) => l.trim() !== ""),
      Stream.runHead,
    );
    const enriched = Option.match(first, { onNone: () => true, onSome: isEnrichedFlowJson });
    const source = jsonlBatches(
      readLines(file, label),
      file,
      {
        codec: EnrichedFlowCodec,
        parse: enriched ? parseEnrichedFlowJson : parseRawAsEnriched,
        eventNs: (f) => f.end_ns,
      },
      { topic: Topics.flowsEnriched, batchRecords: batchRows },
    );
    const totals = { records: 0, inserted: 0, duplicates: 0, refused: [] as string[] };
    yield* runOffline(
      source,
      // a file is read as fast as it parses: no linger needed beyond the batch filling up
      sinkTransform(flowsInput(writer.encoders), { batchRows, lingerMs: 100 }, writer),
      (out: SinkOutput) =>
        Effect.sync(() => {
          totals.records += out.records;
          totals.inserted += out.inserted;
          totals.duplicates += out.duplicates;
          for (const r of out.rejected) totals.refused.push(`${r.message.offset}: ${r.reason}`);
        }),
    );
    const summary: LoadSummary = totals;
    return summary;
  }).pipe(Effect.catchTag("InputError", (e) => Effect.fail(new LoadInputError({ message: e.message }))));
