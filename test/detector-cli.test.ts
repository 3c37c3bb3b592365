// The detector's commands as a user runs them (the real CLI entry point through tsx):
// `replay` prints the anomalies of a file's traffic with the schema's field names, the same bytes
// every run; `rules apply` refuses a bad file with one line (exit 2) and publishes a good one as
// the next version, which `rules show` prints; `anomalies` reads the anomaly topic.
import { randomBytes } from "node:crypto";
import * as Effect from "effect/Effect";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { AnomalyCodec } from "@netpulse/runtime/codec/codecs";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { emptyEndpoint, type Anomaly } from "@netpulse/runtime/records";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { busLayer } from "./support/busHarness.js";
import * as k from "./support/kubeObjects.js";
import { rawFlow } from "./support/rawFlow.js";
import { netpulseCli, scratchFiles } from "./support/cli.js";

const { file } = scratchFiles("netpulse-detector-cli-");
const netpulse = netpulseCli({ env: () => ({ ...process.env, NETPULSE_BUS: "nats" }) });

const manifests = file(
  "cluster.yaml",
  stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      k.namespace("shop", { team: "web" }),
      k.namespace("data"),
      k.pod("shop", "web-0", { ip: "10.1.0.1", labels: { app: "web" }, owner: { kind: "StatefulSet", name: "web" } }),
      k.pod("data", "pg-0", { ip: "10.2.0.9", labels: { app: "pg" }, owner: { kind: "StatefulSet", name: "pg" } }),
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "pg-from-api", namespace: "data" },
        spec: {
          podSelector: { matchLabels: { app: "pg" } },
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "api" } } }] }],
        },
      },
    ],
  }),
);

const T0 = 1_767_225_600_000_000_000n;
const raw = file(
  "raw.jsonl",
  Array.from({ length: 12 }, (_, i) =>
    toJsonLine(
      rawFlow({
        flow_id: BigInt(100 + i),
        start_ns: T0 + BigInt(i) * 5_000_000_000n,
        end_ns: T0 + BigInt(i + 1) * 5_000_000_000n,
        src_ip: "10.1.0.1",
        dst_ip: "10.2.0.9",
        dst_port: 5432,
        srtt_us: i === 6 ? 240_000 : 1_500,
        retransmits: 0n,
      }),
    ),
  ).join("\n") + "\n",
);

afterAll(() => {
  // leave the built-in defaults in force for whatever runs next
  netpulse("rules", "apply", file("defaults.yaml", "rules: {}\n"));
});

describe("netpulse replay", () => {
  it("prints the anomalies of raw flows enriched from manifests, with the schema's field names, the same every run", () => {
    const a = netpulse("replay", "--input", raw, "--manifests", manifests);
    expect(a.stderr).toMatch(/replay: \d+ anomalies/);
    expect(a.status).toBe(0);
    const lines = a.stdout.trim().split("\n");
    const anomalies = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const kinds = anomalies.map((x) => x["kind"]);
    expect(kinds).toContain("rtt_high");
    expect(kinds).toContain("policy_denied");
    const rtt = anomalies.find((x) => x["kind"] === "rtt_high")!;
    expect(rtt).toMatchObject({
      rule_id: "rtt_high",
      rule_version: 0,
      window_start_ns: String(T0 + 30_000_000_000n), // beyond 2^53: a decimal string
      src: { namespace: "shop", pod: "web-0", workload_name: "web" },
      dst: { namespace: "data", pod: "pg-0", workload_name: "pg" },
      threshold: 100_000,
      observed: 240_000,
      sample_flow_ids: [106],
    });
    expect(anomalies.find((x) => x["kind"] === "policy_denied")!["policy_name"]).toContain("data/pg-from-api");
    for (const key of ["id", "window_end_ns", "baseline", "status", "count"]) expect(Object.keys(rtt)).toContain(key);

    const b = netpulse("replay", "--input", raw, "--manifests", manifests);
    expect(b.stdout).toBe(a.stdout);

    const table = netpulse("replay", "--input", raw, "--manifests", manifests, "--output", "table");
    expect(table.stdout.split("\n")[0]).toMatch(/^TIME\tKIND\tSEVERITY/);
    expect(table.stdout).toMatch(/rtt_high\twarning\topen\tshop\/web → data\/pg:5432\t240\.0ms > 100\.0ms/);
  });

  it("a rules file changes what replay finds", () => {
    const rules = file(
      "rtt300.yaml",
      "rules:\n  rtt_high: { threshold_ms: 300 }\n  policy_denied: { enabled: false }\n",
    );
    const r = netpulse("replay", "--input", raw, "--manifests", manifests, "--rules", rules);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
  });

  it("bad input: one line naming file:line or the flag, exit 2", () => {
    const bad = file("bad.jsonl", `${toJsonLine(rawFlow())}\n{"flow_id": "x"}\n`);
    const r = netpulse("replay", "--input", bad, "--manifests", manifests);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.jsonl:2/);
    const noManifests = netpulse("replay", "--input", raw);
    expect(noManifests.status).toBe(2);
    expect(noManifests.stderr).toMatch(/raw flows .* need --manifests/);
    const badRules = netpulse(
      "replay",
      "--input",
      raw,
      "--rules",
      file("r.yaml", "rules:\n  rtt_high: { threshold_ms: -1 }\n"),
    );
    expect(badRules.status).toBe(2);
    expect(badRules.stderr).toMatch(/r\.yaml.*rules\.rtt_high\.threshold_ms/);
  });
});

describe("netpulse rules and anomalies (real NATS)", () => {
  it("rules apply refuses a bad file (exit 2, nothing published) and publishes a good one as the next version", () => {
    const before = JSON.parse(netpulse("rules", "show").stdout) as { version: number };
    const bad = netpulse("rules", "apply", file("bad-rules.yaml", "rules:\n  rtt_hihg: { threshold_ms: 5 }\n"));
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/bad-rules\.yaml.*rtt_hihg/);
    expect((JSON.parse(netpulse("rules", "show").stdout) as { version: number }).version).toBe(before.version);

    const good = netpulse("rules", "apply", file("good-rules.yaml", "rules:\n  rtt_high: { threshold_ms: 250 }\n"));
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(new RegExp(`rules version ${before.version + 1} published`));
    const shown = JSON.parse(netpulse("rules", "show").stdout) as {
      version: number;
      rules: { rtt_high: { threshold_ms: number } };
    };
    expect(shown.version).toBe(before.version + 1);
    expect(shown.rules.rtt_high.threshold_ms).toBe(250);
  });

  it("anomalies prints what is on the topic, filtered by kind, as JSON lines or a table", async () => {
    const id = `cli-${randomBytes(4).toString("hex")}`;
    const anomaly: Anomaly = {
      id,
      kind: "retransmits_high",
      severity: "warning",
      rule_id: "retransmits_high",
      rule_version: 0,
      detected_ns: BigInt(Date.now()) * 1_000_000n,
      window_start_ns: BigInt(Date.now() - 5_000) * 1_000_000n,
      window_end_ns: BigInt(Date.now()) * 1_000_000n,
      node: "node-a",
      src_ip: "10.1.0.1",
      dst_ip: "10.2.0.9",
      dst_port: 5432,
      src: { ...emptyEndpoint, kind: "pod", namespace: "shop", pod: "web-0", workload_name: "web" },
      dst: { ...emptyEndpoint, kind: "pod", namespace: "data", pod: "pg-0", workload_name: "pg" },
      threshold: 3,
      baseline: null,
      observed: 9,
      sample_flow_ids: [1n],
      cause_hint: "",
      policy_verdict: "",
      policy_name: "",
      policy_rule: "",
      message: "9 retransmitted segments",
    };
    await Effect.runPromise(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(TopicSpecs.anomalies);
        yield* bus.publish(Topics.anomalies, [
          { key: id, value: AnomalyCodec.encodeBatch([anomaly], { producer: "test", sequence: 0n }) },
        ]);
      }).pipe(Effect.provide(busLayer("nats")), Effect.scoped),
    );
    const json = netpulse("anomalies", "--since", "5m", "--kind", "retransmits_high", "--output", "json");
    expect(json.status).toBe(0);
    const ids = json.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toContain(id);
    const other = netpulse("anomalies", "--since", "5m", "--kind", "rtt_high", "--output", "json");
    expect(other.stdout).not.toContain(id);
    const table = netpulse("anomalies", "--since", "5m", "--namespace", "data");
    expect(table.stdout).toMatch(/retransmits_high\twarning\topen\tshop\/web → data\/pg:5432\t9 > 3/);
  });
});
