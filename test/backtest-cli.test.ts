// `netpulse backtest` as a user runs it (the real CLI entry point through tsx), on a committed
// fixture (test/fixtures/backtest: 45 minutes of enriched flows with a slow pair, a lossy pair
// and a flapping pair; a candidate rules file): the JSON report is byte-identical to the golden
// file, its added/removed episodes are exactly what two separate replays give, the text report
// has the per-kind table, and bad input is one line with exit 2. Over the topic (real NATS) the
// baseline is what the detector recorded on the anomaly topic over the same window.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import { beforeAll, describe, expect, it } from "vitest";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { parseEnrichedFlowJson } from "@netpulse/runtime/codec/json";
import { jsonlBatches, readLines } from "@netpulse/runtime/stage/jsonlSource";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { defaultRules, detectMessage, DetectorEngine } from "@netpulse/detector";
import { busLayer } from "./support/busHarness.js";
import { netpulseCli } from "./support/cli.js";

const FIXTURES = "test/fixtures/backtest";
const flows = `${FIXTURES}/flows.jsonl`;
const candidate = `${FIXTURES}/candidate.yaml`;

const netpulse = netpulseCli();

interface AnomalyRecord {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly pair: string;
  readonly first_seen_ns: string | number;
}

interface Report {
  readonly baseline: { readonly anomalies_by_kind: Readonly<Record<string, number>>; readonly episodes: number };
  readonly candidate: {
    readonly anomalies_by_kind: Readonly<Record<string, number>>;
    readonly episodes: number;
    readonly open_at_end: number;
  };
  readonly matched: number;
  readonly added: ReadonlyArray<AnomalyRecord>;
  readonly removed: ReadonlyArray<AnomalyRecord>;
  readonly pairs: ReadonlyArray<{ readonly pair: string }>;
  readonly flapping: ReadonlyArray<{
    readonly kind: string;
    readonly pair: string;
    readonly baseline_episodes: number;
    readonly candidate_episodes: number;
  }>;
}

/** One replay's episodes: the newest record of each id (the resolution, when there is one). */
const episodesOfReplay = (stdout: string): AnomalyRecord[] => {
  const latest = new Map<string, AnomalyRecord>();
  for (const line of stdout
    .trim()
    .split("\n")
    .filter((l) => l !== "")) {
    const a = JSON.parse(line) as AnomalyRecord;
    if (latest.get(a.id)?.status !== "resolved") latest.set(a.id, a);
  }
  return [...latest.values()];
};

/** The documented matching rule: kind, subject, episode start. */
const key = (a: AnomalyRecord): string => `${a.kind} ${a.pair} ${a.first_seen_ns}`;
const only = (a: AnomalyRecord[], b: AnomalyRecord[]): AnomalyRecord[] => {
  const other = new Set(b.map(key));
  return a.filter((x) => !other.has(key(x)));
};
const byId = (a: AnomalyRecord, b: AnomalyRecord): number => (a.id < b.id ? -1 : 1);
const countByKind = (rs: AnomalyRecord[]) => {
  const c: Record<string, number> = {};
  for (const r of rs) c[r.kind] = (c[r.kind] ?? 0) + 1;
  return c;
};

describe("netpulse backtest", () => {
  let json: ReturnType<typeof netpulse>;
  beforeAll(() => {
    json = netpulse("backtest", "--input", flows, "--rules", candidate, "--output", "json");
  });

  it("gives the golden JSON report, byte for byte", () => {
    expect(json.stderr).toBe("");
    expect(json.status).toBe(0);
    expect(json.stdout).toBe(readFileSync(`${FIXTURES}/report.json`, "utf8"));
  });

  it("adds and removes exactly the episodes two separate replays differ by", () => {
    const report = JSON.parse(json.stdout) as Report;
    const base = episodesOfReplay(netpulse("replay", "--input", flows).stdout);
    const cand = episodesOfReplay(netpulse("replay", "--input", flows, "--rules", candidate).stdout);
    expect(base.length).toBeGreaterThan(0);
    expect(report.baseline.anomalies_by_kind).toEqual(expect.objectContaining(countByKind(base)));
    expect(report.candidate.anomalies_by_kind).toEqual(expect.objectContaining(countByKind(cand)));
    expect(report.baseline.episodes).toBe(base.length);
    expect(report.candidate.episodes).toBe(cand.length);
    expect([...report.added].sort(byId)).toEqual(only(cand, base).sort(byId));
    expect([...report.removed].sort(byId)).toEqual(only(base, cand).sort(byId));
    expect(report.matched).toBe(cand.length - report.added.length);

    // what the fixture was made for: the slow pair's episode goes (180 ms < 200 ms), the lossy
    // pair's 2-retransmit episode comes, and the 5-minute cooldown folds the flapping bursts
    expect(report.removed.map((r) => `${r.kind} ${r.pair}`)).toContain("rtt_high data/pg|shop/web");
    expect(report.added.map((r) => `${r.kind} ${r.pair}`)).toContain("retransmits_high shop/cart|shop/web");
    expect(report.flapping).toContainEqual({
      kind: "rtt_high",
      pair: "api/gw|shop/web",
      baseline_episodes: 9,
      candidate_episodes: 1,
    });
    expect(report.candidate.open_at_end).toBe(1);
    expect(report.pairs.map((p) => p.pair)).toEqual(["api/gw|shop/web", "data/pg|shop/web", "shop/cart|shop/web"]);
  });

  it("compares against --baseline-rules: the same rules on both sides change nothing", () => {
    const same = netpulse(
      "backtest",
      "--input",
      flows,
      "--rules",
      candidate,
      "--baseline-rules",
      candidate,
      "--output",
      "json",
    );
    expect(same.status).toBe(0);
    const report = JSON.parse(same.stdout) as Report;
    expect(report.added).toEqual([]);
    expect(report.removed).toEqual([]);
    expect(report.matched).toBe(report.candidate.episodes);
    expect(report.baseline.anomalies_by_kind).toEqual(report.candidate.anomalies_by_kind);
  });

  it("prints the report for a person: the per-kind table, top pairs, flapping and a timeline", () => {
    const text = netpulse("backtest", "--input", flows, "--rules", candidate);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^KIND +BASELINE +CANDIDATE +DELTA$/m);
    expect(text.stdout).toMatch(/^rtt_high +10 +1 +-9$/m);
    expect(text.stdout).toMatch(/^retransmits_high +1 +1 +0$/m);
    expect(text.stdout).toMatch(/^total +14 +5 +-9$/m);
    expect(text.stdout).toMatch(/^removed \(baseline only\): 10$/m);
    expect(text.stdout).toMatch(/^api\/gw\|shop\/web +4\.5 +9 +43\.5 +1$/m);
    expect(text.stdout).toMatch(/^rtt_high +api\/gw\|shop\/web +9 +1$/m);
    expect(text.stdout).toMatch(/^2026-01-01 00:10 {2}b {3}3 █+$/m);
  });

  it("bad input: one line, exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "netpulse-backtest-"));
    const cases: ReadonlyArray<[ReadonlyArray<string>, RegExp]> = [
      [["--input", flows], /--rules CANDIDATE is required/],
      [["--input", flows, "--rules", candidate, "--output", "yaml"], /--output: "yaml" must be text or json/],
      [["--rules", candidate], /a source is required/],
      [
        ["--input", flows, "--rules", candidate, "--baseline-rules", `${FIXTURES}/missing.yaml`],
        /--baseline-rules .*missing\.yaml: cannot read/,
      ],
    ];
    const badRules = join(dir, "bad.yaml");
    writeFileSync(badRules, "rules:\n  rtt_high: { threshold_ms: -1 }\n");
    const badFlows = join(dir, "bad.jsonl");
    writeFileSync(badFlows, `${readFileSync(flows, "utf8").split("\n")[0]}\n{"flow_id": "x"}\n`);
    for (const [args, message] of [
      ...cases,
      [["--input", flows, "--rules", badRules], /--rules .*bad\.yaml.*rules\.rtt_high\.threshold_ms/],
      [["--input", badFlows, "--rules", candidate], /bad\.jsonl:2/],
    ] as const) {
      const r = netpulse("backtest", ...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }

    // --skip-bad: the bad line is counted in the report instead
    const skipping = netpulse("backtest", "--input", badFlows, "--rules", candidate, "--skip-bad", "--output", "json");
    expect(skipping.status).toBe(0);
    expect((JSON.parse(skipping.stdout) as { input: unknown }).input).toEqual({
      messages: 1,
      records: 1,
      skipped_messages: 0,
      skipped_lines: 1,
    });
  });
});

describe("netpulse backtest over the topic (real NATS)", () => {
  it("compares against the anomalies the detector recorded over the same window", async () => {
    // the fixture's flows on the enriched topic, and what the detector (default rules) published for them
    const before = Date.now();
    await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(TopicSpecs.flowsEnriched);
        yield* bus.provision(TopicSpecs.anomalies);
        const batches = yield* Stream.runCollect(
          jsonlBatches(
            readLines(flows),
            flows,
            { codec: EnrichedFlowCodec, parse: parseEnrichedFlowJson, eventNs: (f) => f.end_ns },
            { topic: Topics.flowsEnriched },
          ),
        );
        const detect = detectMessage(
          new DetectorEngine(),
          () => ({ rules: defaultRules, policies: undefined }),
          "live",
        );
        for (const m of batches) {
          yield* bus.publish(Topics.flowsEnriched, [{ key: m.key, value: m.value }]);
          for (const p of detect(m).publish) yield* bus.publish(p.topic, p.messages);
        }
      }).pipe(Effect.provide(busLayer("nats")), Effect.scoped),
    );
    const after = Date.now() + 1;
    const r = netpulse(
      "backtest",
      "--from",
      new Date(before).toISOString(),
      "--to",
      new Date(after).toISOString(),
      "--bus",
      "nats",
      "--rules",
      candidate,
      "--output",
      "json",
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const golden = JSON.parse(readFileSync(`${FIXTURES}/report.json`, "utf8")) as {
      baseline: Record<string, unknown>;
    };
    expect(JSON.parse(r.stdout)).toEqual({
      ...golden,
      baseline: { ...golden.baseline, rules: "recorded (netpulse.anomalies)", rules_version: null },
    });
  });
});
