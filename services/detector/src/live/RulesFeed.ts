// The rules in force, live: the retained rules topic holds every version `netpulse rules apply`
// published (canonical JSON, one version per message). At start the detector reads the whole
// topic for the newest valid version; then it follows the topic with a group of its own (every
// replica sees every version) and switches on the next message it handles. An invalid version is
// logged and counted, and the rules in force stay.
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { Bus, type BusMessage } from "@netpulse/runtime/bus/Bus";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { Topics } from "@netpulse/runtime/topics";
import { decodeRules, encodeRules, type RuleSet } from "../rules/index.js";

/** A rules message → a rule set, or the one-line reason it is not one. */
export const rulesOf = (m: BusMessage) => decodeRules(m.value.toString("utf8"), `${m.topic}@${m.offset}`);

/** The newest valid version on the topic (in publish order), if any; invalid ones are skipped. */
export const newestRules = Effect.gen(function* () {
  const bus = yield* Bus;
  let newest: RuleSet | undefined;
  yield* bus.replay(Topics.rules, { _tag: "Time", fromMs: 0 }).pipe(
    Stream.runForEach((m) =>
      Either.match(rulesOf(m), {
        onLeft: (e) => Effect.logWarning(`rules version skipped: ${e.message}`),
        onRight: (r) => Effect.sync(() => (newest = newest === undefined || r.version > newest.version ? r : newest)),
      }),
    ),
  );
  return newest;
});

/** Every version of the topic in publish order, with the broker time it was published at (for `--rules live`). */
export const rulesHistory = Effect.gen(function* () {
  const bus = yield* Bus;
  const out: Array<{ readonly atMs: number; readonly rules: RuleSet }> = [];
  yield* bus.replay(Topics.rules, { _tag: "Time", fromMs: 0 }).pipe(
    Stream.runForEach((m) =>
      Either.match(rulesOf(m), {
        onLeft: (e) => Effect.logWarning(`rules version skipped: ${e.message}`),
        onRight: (rules) => Effect.sync(() => out.push({ atMs: m.timestampMs, rules })),
      }),
    ),
  );
  return out;
});

/** Publish a new version: the newest on the topic plus one. Returns the rule set as published. */
export const publishRules = (rules: RuleSet) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const newest = yield* newestRules;
    const published: RuleSet = { ...rules, version: (newest?.version ?? 0) + 1 };
    yield* bus.publish(Topics.rules, [{ key: "rules", value: Buffer.from(encodeRules(published), "utf8") }]);
    return published;
  });

/**
 * Follow the topic until interrupted: `apply` gets each version newer than `current()`. The group
 * is per instance, so every replica sees every version.
 */
export const followRules = (group: string, current: () => RuleSet, apply: (rules: RuleSet) => void) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    const metrics = yield* Metrics;
    const invalid = metrics.counter(
      "netpulse_detector_rules_invalid_total",
      "Rule versions refused (the old rules stay)",
    );
    yield* bus.consume(Topics.rules, { group, maxInFlight: 16 }).pipe(
      Stream.runForEach((d) =>
        Effect.zipRight(
          Either.match(rulesOf(d), {
            onLeft: (e) =>
              Effect.zipRight(
                Effect.sync(() => invalid.inc()),
                Effect.logError(`invalid rules version refused, keeping version ${current().version}: ${e.message}`),
              ),
            onRight: (r) =>
              r.version > current().version
                ? Effect.zipRight(
                    Effect.sync(() => apply(r)),
                    Effect.logInfo(`rules version ${r.version} in force`),
                  )
                : Effect.void,
          }),
          d.ack,
        ),
      ),
    );
  });
