// `netpulse policy what-if <source> --manifests CLUSTER... --candidate POLICY.yaml...`: the observed
// traffic (any replay source, flowSource.ts) judged under the policies in force and under the
// candidate set, and what changes: one JSON document or the same as tables. Nothing is published.
// Bad manifests, candidates or flow lines: one line naming file:line, exit 2.
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as LogLevel from "effect/LogLevel";
import * as Stream from "effect/Stream";
import { nowMs } from "@netpulse/runtime/clock";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import { enrichedSource, type SourceOptions } from "../flowSource.js";
import { writeOut } from "../stdout.js";
import { UsageError } from "../UsageError.js";
import { loadPolicySets, type WhatIfMode } from "./policySets.js";
import { WhatIf } from "./WhatIf.js";
import { whatIfReport } from "./whatIfReport.js";
import { whatIfText } from "./whatIfText.js";

export interface WhatIfOptions extends SourceOptions {
  readonly candidate: readonly string[];
  readonly mode: string;
  readonly output: string;
}

export const policyWhatIf = (o: WhatIfOptions) =>
  Effect.gen(function* () {
    if (o.output !== "text" && o.output !== "json")
      return yield* new UsageError({ message: `--output: "${o.output}" must be text or json` });
    if (o.mode !== "add" && o.mode !== "replace")
      return yield* new UsageError({ message: `--mode: "${o.mode}" must be add or replace` });
    const mode: WhatIfMode = o.mode;
    const sets = yield* loadPolicySets(o.manifests, o.candidate, mode);
    const source = yield* enrichedSource(o, yield* nowMs);
    const w = new WhatIf(sets);
    let skipped = 0;
    yield* Stream.runForEach(source, (m) =>
      Effect.sync(() => {
        const batch = EnrichedFlowCodec.decodeBatch(m.value);
        if (Either.isLeft(batch)) {
          skipped++;
          process.stderr.write(`skipped ${m.topic}@${m.offset}: ${batch.left.message}\n`);
          return;
        }
        for (const f of batch.right.records) w.observe(f);
      }),
    ).pipe(Effect.catchTags({ InputError: (e) => Effect.fail(new UsageError({ message: e.message })) }));
    const report = whatIfReport(w, mode, skipped);
    yield* writeOut(o.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : whatIfText(report));
  }).pipe(Effect.scoped, Effect.provide(pinoLogger("cli", LogLevel.Warning)));
