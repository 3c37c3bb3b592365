// `netpulse sink --input FILE.jsonl`: flow records from a file (JSON lines of `netpulse capture
// --stdout` → raw flows, or `netpulse enrich` → enriched flows; the first record decides) go
// through the same exactly-once writer as the bus path, so loading a file twice changes nothing.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import * as Chunk from "effect/Chunk";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { parseEnrichedFlowJson, parseRawFlowJson } from "@netpulse/runtime/codec/json";
import { emptyEndpoint, type EnrichedFlow } from "@netpulse/runtime/records";
import { SinkWriter } from "./write/SinkWriter.js";

export class LoadInputError extends Data.TaggedError("LoadInputError")<{ readonly message: string }> {}

export interface LoadSummary {
  readonly records: number;
  readonly inserted: number;
  readonly duplicates: number;
  readonly refused: ReadonlyArray<string>;
}

type Mode = "raw" | "enriched";

const parseLine = (mode: Mode, line: string, where: string) =>
  mode === "enriched"
    ? parseEnrichedFlowJson(line, where)
    : Either.map(parseRawFlowJson(line, where), (raw): EnrichedFlow => ({
        ...raw,
        src: emptyEndpoint,
        dst: emptyEndpoint,
      }));

/** Enriched records carry `src`/`dst` objects; raw ones don't. */
const modeOf = (line: string): Mode => {
  const v: unknown = JSON.parse(line);
  return typeof v === "object" && v !== null && "src" in v && "dst" in v ? "enriched" : "raw";
};

export const loadFile = (file: string, batchRows: number) =>
  Effect.gen(function* () {
    const writer = yield* SinkWriter;
    let mode: Mode | undefined;
    const totals = { records: 0, inserted: 0, duplicates: 0, refused: [] as string[] };
    const lines = Stream.fromAsyncIterable(
      createInterface({ input: createReadStream(file), crlfDelay: Infinity }),
      (cause) =>
        new LoadInputError({
          message: `${file}: cannot read: ${cause instanceof Error ? cause.message : String(cause)}`,
        }),
    );
    yield* lines.pipe(
      Stream.zipWithIndex,
      Stream.filter(([line]) => line.trim() !== ""),
      Stream.mapEffect(([line, i]) => {
        const where = `${file}:${i + 1}`;
        if (mode === undefined) {
          const m = Either.try(() => modeOf(line));
          if (Either.isLeft(m)) return Effect.fail(new LoadInputError({ message: `${where}: not JSON` }));
          mode = m.right;
        }
        const r = parseLine(mode, line, where);
        return Either.isRight(r)
          ? Effect.succeed({ row: r.right, where })
          : Effect.fail(new LoadInputError({ message: r.left.message }));
      }),
      Stream.grouped(batchRows),
      Stream.map((chunk) => Chunk.toReadonlyArray(chunk)),
      writer.writeAll(writer.encoders.flows, (items: ReadonlyArray<{ row: EnrichedFlow; where: string }>) =>
        items.map((x) => x.row),
      ),
      Stream.map(([items, result]) => {
        const whereOf = new Map(items.map((x) => [x.row, x.where]));
        totals.records += items.length;
        totals.inserted += result.inserted;
        totals.duplicates += result.duplicates;
        for (const { row, reason } of result.rejected) totals.refused.push(`${whereOf.get(row) ?? file}: ${reason}`);
      }),
      Stream.runDrain,
    );
    const summary: LoadSummary = totals;
    return summary;
  });
