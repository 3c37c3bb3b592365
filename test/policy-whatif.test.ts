// `netpulse policy what-if` as a user runs it (the real CLI through tsx), on the fixtures in
// test/fixtures/whatif: a cluster with a permissive policy set, 16 observed enriched flows, and a
// candidate that narrows Postgres (ops' metrics scrape and an external client newly denied), opens
// the cache to the web team (newly allowed), and carries rules no flow uses. The JSON report is
// compared byte for byte with report.json (UPDATE_GOLDEN=1 rewrites it); bad input exits 2 with
// one line naming file:line.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { netpulseCli, scratchFiles } from "./support/cli.js";

const FIXTURES = "test/fixtures/whatif";
const cluster = `${FIXTURES}/cluster.yaml`;
const flows = `${FIXTURES}/flows.jsonl`;
const candidate = `${FIXTURES}/candidate.yaml`;
const golden = `${FIXTURES}/report.json`;

const { file } = scratchFiles("netpulse-whatif-");

const netpulse = netpulseCli();

const whatIf = (...args: string[]) => netpulse("policy", "what-if", "--input", flows, "--manifests", cluster, ...args);

const T0 = 1_767_225_600_000_000_000n;
const at = (s: number): string => String(T0 + BigInt(s) * 1_000_000_000n);

interface Group {
  readonly src: { readonly name: string; readonly pods: readonly string[] };
  readonly dst: { readonly name: string };
  readonly dst_port: number;
  readonly flows: number;
  readonly first_seen_ns: string;
  readonly last_seen_ns: string;
}

describe("netpulse policy what-if", () => {
  const run = whatIf("--candidate", candidate, "--output", "json");
  const report = JSON.parse(run.stdout) as {
    summary: Record<string, unknown>;
    newly_denied: Array<Group & { policies: string[]; candidate_policies: string[]; nearest_rule: string }>;
    newly_allowed: Array<Group & { rules: Array<{ policy: string; rule: string }>; not_isolated: string[] }>;
    unused_rules: Array<{ policy: string; rule: string; reason: string }>;
  };
  const where = (g: Group) => `${g.src.name} → ${g.dst.name}:${g.dst_port}`;

  it("is the golden report, byte for byte, and the same every run", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    if (process.env["UPDATE_GOLDEN"] === "1") writeFileSync(golden, run.stdout);
    expect(run.stdout).toBe(readFileSync(golden, "utf8"));
    expect(whatIf("--candidate", candidate, "--output", "json").stdout).toBe(run.stdout);
  });

  it("newly denies the port the candidate narrows, naming the isolating policy and the nearest rule", () => {
    expect(report.newly_denied.map(where)).toEqual(["203.0.113.9 → data/pg:5432", "ops/prom → data/pg:9187"]);
    const scrape = report.newly_denied[1]!;
    expect(scrape).toMatchObject({
      flows: 4,
      first_seen_ns: at(12),
      last_seen_ns: at(206),
      direction: "ingress",
      policies: ["data/pg-open"],
      candidate_policies: ["data/pg-open"],
      nearest_rule: "data/pg-open ingress[1] admits ops/prom-0 but not 9187/TCP",
    });
    // the web team's own traffic to Postgres stays allowed, so it is nowhere in the report
    expect([...report.newly_denied, ...report.newly_allowed].map(where)).not.toContain("shop/web → data/pg:5432");
  });

  it("newly allows what was denied before, naming the candidate rule that admits it", () => {
    expect(report.newly_allowed.map(where)).toEqual(["shop/web → data/cache:6379"]);
    expect(report.newly_allowed[0]).toMatchObject({
      src: { name: "shop/web", pods: ["web-0", "web-1"] },
      flows: 3,
      first_seen_ns: at(50),
      last_seen_ns: at(90),
      direction: "ingress",
      rules: [{ policy: "data/cache-web", rule: "ingress[0]" }],
      not_isolated: [],
    });
  });

  it("lists the candidate rules no flow matched, and why", () => {
    expect(report.unused_rules).toEqual([
      { policy: "data/pg-open", rule: "ingress[1]", reason: "no observed flow matched" },
      { policy: "data/pg-open", rule: "ingress[2]", reason: "no observed flow matched" },
      {
        policy: "ops/prom-egress",
        rule: "ingress[0]",
        reason: "dead: policyTypes leaves out Ingress, so the rule is ignored",
      },
    ]);
  });

  it("counts flows and pairs; a flow denied on both sides is not reported", () => {
    expect(report.summary).toMatchObject({
      mode: "add",
      replaced: ["data/pg-open"],
      removed: [],
      flows_evaluated: 16,
      flows_newly_denied: 5,
      flows_newly_allowed: 3,
      flows_unchanged: 8,
      flows_still_denied: 1,
      pairs: 6,
      pairs_unchanged: 3,
    });
    expect(run.stdout).not.toContain('"dst_port": 6380');
  });

  it("text output: the same report as tables", () => {
    const text = whatIf("--candidate", candidate);
    expect(text.status).toBe(0);
    const lines = text.stdout.split("\n");
    const section = (title: string) => lines.slice(lines.indexOf(title) + 1, lines.indexOf(title) + 4);
    expect(section("NEWLY DENIED")[0]).toMatch(/^ {2}PAIR +PORT +FLOWS +FIRST SEEN +LAST SEEN +POLICY \/ RULE$/);
    expect(section("NEWLY DENIED")[2]).toMatch(
      /^ {2}ops\/prom → data\/pg +9187\/TCP +4 +2026-01-01T00:00:12\.000Z +2026-01-01T00:03:26\.000Z +ingress isolated by data\/pg-open; nearest: data\/pg-open ingress\[1\]/,
    );
    expect(section("NEWLY ALLOWED")[1]).toMatch(
      /^ {2}shop\/web → data\/cache +6379\/TCP +3 .* ingress allowed by data\/cache-web ingress\[0\]$/,
    );
    expect(text.stdout).toMatch(
      /UNUSED CANDIDATE RULES\n.*\n {2}data\/pg-open +ingress\[1\] +no observed flow matched\n/,
    );
  });

  it("--mode replace: a candidate's namespace keeps only the candidates (how a deletion is tried)", () => {
    const only = file(
      "pg-only.yaml",
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: pg-only, namespace: data }\n" +
        "spec:\n  podSelector: { matchLabels: { app: pg } }\n  ingress: [{}]\n",
    );
    const r = whatIf("--candidate", only, "--mode", "replace", "--output", "json");
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as typeof report;
    expect(doc.summary).toMatchObject({ removed: ["data/cache-local", "data/pg-open"], flows_newly_denied: 0 });
    expect(doc.newly_allowed.map((g) => [where(g), g.flows, g.not_isolated])).toEqual([
      ["shop/web → data/cache:6379", 3, ["ingress"]],
      ["shop/web → data/cache:6380", 1, ["ingress"]],
    ]);
    // the same file added: cache-local stays, nothing changes
    const added = JSON.parse(whatIf("--candidate", only, "--output", "json").stdout) as typeof report;
    expect([added.newly_allowed, added.newly_denied]).toEqual([[], []]);
  });

  it("bad input: one line naming file:line and the problem, exit 2", () => {
    const typo = file(
      "typo.yaml",
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: x, namespace: data }\n" +
        "spec:\n  podSelector: {}\n  ingress:\n    - form: [{ podSelector: {} }]\n",
    );
    const bad = whatIf("--candidate", typo);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe(
      `netpulse: --candidate ${typo}:1: NetworkPolicy data/x: spec.ingress[0].form: unknown field\n`,
    );

    const pod = whatIf("--candidate", cluster);
    expect(pod.status).toBe(2);
    expect(pod.stderr).toMatch(
      /^netpulse: --candidate test\/fixtures\/whatif\/cluster\.yaml:2: Namespace: .*NetworkPolicies only.*\n$/,
    );

    const lines = readFileSync(flows, "utf8").split("\n");
    const broken = file("broken.jsonl", [lines[0], lines[1], "{not json", lines[2]].join("\n"));
    const line = netpulse("policy", "what-if", "--input", broken, "--manifests", cluster, "--candidate", candidate);
    expect(line.status).toBe(2);
    expect(line.stderr.trim().split("\n")).toHaveLength(1);
    expect(line.stderr).toContain(`${broken}:3`);
  });
});
