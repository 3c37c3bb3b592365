// `netpulse policy check` end to end: the command's Effect in-process (outputs, warnings, usage
// errors) and the real CLI entry point spawned through tsx (stdout lines, stderr, exit codes).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { policyCheck } from "@netpulse/cli/commands/policy";

const dir = mkdtempSync(join(tmpdir(), "netpulse-policy-"));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const manifests = file(
  "cluster.yaml",
  `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: web}}
- {apiVersion: v1, kind: Namespace, metadata: {name: db}}
- apiVersion: v1
  kind: Pod
  metadata: {name: frontend, namespace: web, labels: {app: frontend}}
  status: {podIP: 10.0.1.5}
- apiVersion: v1
  kind: Pod
  metadata: {name: postgres, namespace: db, labels: {app: postgres}}
  spec: {containers: [{name: pg, ports: [{name: pg, containerPort: 5432}]}]}
  status: {podIP: 10.0.2.7}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: db}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: db}
spec:
  podSelector: {matchLabels: {app: postgres}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}, podSelector: {matchLabels: {app: frontend}}}]
    ports: [{port: pg}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: db}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]
`,
);

const probes = file(
  "probes.jsonl",
  [
    `{"from":"web/frontend","to":"db/postgres","port":5432}`,
    `{"from":"10.0.1.5","to":"10.0.2.7","port":5432,"protocol":"udp","id":7}`,
    ``,
    `{"from":"203.0.113.9","to":"db/postgres","port":5432}`,
  ].join("\n"),
);

const run = (opts: Parameters<typeof policyCheck>[0]) => Effect.runPromise(Effect.either(policyCheck(opts)));

describe("policy check (in process)", () => {
  it("prints one JSON line per probe in order, and one warning per invalid object", async () => {
    const r = await run({ manifests: [manifests], probes });
    expect(Either.isRight(r)).toBe(true);
    if (Either.isLeft(r)) return;
    const lines = r.right.lines.map((l): unknown => JSON.parse(l));
    expect(lines).toEqual([
      {
        from: "web/frontend",
        to: "db/postgres",
        port: 5432,
        protocol: "TCP",
        allowed: true,
        ingress: { verdict: "allowed", policies: ["db/allow-web"], rules: [{ policy: "db/allow-web", rule: 0 }] },
        egress: { verdict: "no-policy", policies: [], rules: [] },
      },
      {
        from: "10.0.1.5",
        to: "10.0.2.7",
        port: 5432,
        protocol: "UDP",
        id: 7,
        allowed: false,
        ingress: { verdict: "denied", policies: ["db/allow-web", "db/default-deny"], rules: [] },
        egress: { verdict: "no-policy", policies: [], rules: [] },
      },
      {
        from: "203.0.113.9",
        to: "db/postgres",
        port: 5432,
        protocol: "TCP",
        allowed: false,
        ingress: { verdict: "denied", policies: ["db/allow-web", "db/default-deny"], rules: [] },
        egress: { verdict: "no-policy", policies: [], rules: [] },
      },
    ]);
    expect(r.right.warnings).toEqual([
      `invalid: ${manifests}:30: NetworkPolicy db/broken: spec.ingress[0].from[0].ipBlock.except[0]: "11.0.0.0/16" must be a strict subset of cidr "10.0.0.0/8"`,
    ]);
  });

  it("answers a single probe from flags as text", async () => {
    const r = await run({
      manifests: [manifests],
      from: "web/frontend",
      to: "db/postgres",
      port: "5433",
      output: "text",
    });
    expect(Either.getOrThrow(r).lines).toEqual([
      "DENIED: web/frontend → db/postgres:5433/TCP — egress not restricted (no policy selects web/frontend for egress); ingress denied: db/postgres is isolated for ingress by db/allow-web, db/default-deny (no rule allows ingress from web/frontend on 5433/TCP)",
    ]);
  });

  it.each([
    [
      {
        probes: file(
          "bad-port.jsonl",
          `{"from":"web/frontend","to":"db/postgres","port":5432}\n{"from":"web/frontend","to":"db/postgres","port":99999}\n`,
        ),
      },
      /bad-port\.jsonl:2: port: 99999 must be a port number/,
    ],
    [{ probes: file("bad-json.jsonl", `{"from":"web/frontend"`) }, /bad-json\.jsonl:1: not valid JSON/],
    [
      { probes: file("bad-proto.jsonl", `{"from":"web/frontend","to":"db/postgres","port":1,"protocol":"ICMP"}`) },
      /bad-proto\.jsonl:1: protocol: "ICMP" must be TCP, UDP or SCTP/,
    ],
    [
      { probes: file("unknown.jsonl", `{"from":"web/ghost","to":"db/postgres","port":1}`) },
      /unknown\.jsonl:1: unknown pod web\/ghost/,
    ],
    [{ from: "web/frontend", to: "db/postgres" }, /--port/],
    [{ from: "web/frontend", to: "db/postgres", port: "80", output: "yaml" }, /--output/],
    [{ from: "web/frontend", to: "db/nobody", port: "80" }, /--to: unknown pod db\/nobody/],
  ])("rejects bad input with one line naming it (%#)", async (opts, message) => {
    const r = await run({ manifests: [manifests], ...opts });
    expect(Either.isLeft(r) && r.left._tag).toBe("UsageError");
    expect(Either.isLeft(r) && r.left.message).toMatch(message);
  });

  it("fails when the manifests give nothing usable", async () => {
    const r = await run({
      manifests: [file("empty.yaml", "kind: Service\nmetadata: {name: s}\n")],
      from: "1.1.1.1",
      to: "2.2.2.2",
      port: "1",
    });
    expect(Either.isLeft(r) && r.left.message).toMatch(/no usable Namespace, Pod or NetworkPolicy/);
    const missing = await run({ manifests: [join(dir, "missing.yaml")], from: "1.1.1.1", to: "2.2.2.2", port: "1" });
    expect(Either.isLeft(missing) && missing.left.message).toMatch(
      /--manifests .*missing\.yaml: cannot read \(ENOENT\)/,
    );
  });
});

describe("policy check (spawned CLI)", () => {
  const root = join(import.meta.dirname, "../../..");
  const cli = (...args: string[]) =>
    spawnSync(
      "npx",
      ["tsx", "--tsconfig", "tsconfig.eslint.json", "packages/cli/src/main.ts", "policy", "check", ...args],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      },
    );

  it("exits 0 with JSON lines on stdout and invalid objects on stderr", () => {
    const r = cli("--manifests", manifests, "--probes", probes);
    expect(r.status).toBe(0);
    const out = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { allowed: boolean });
    expect(out.map((l) => l.allowed)).toEqual([true, false, false]);
    expect(r.stderr).toContain("NetworkPolicy db/broken: spec.ingress[0].from[0].ipBlock.except[0]");
  });

  it("exits 2 with one line naming the bad probe field", () => {
    const bad = file("spawn-bad.jsonl", `{"from":"web/frontend","to":"db/postgres"}`);
    const r = cli("--manifests", manifests, "--probes", bad);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/netpulse: .*spawn-bad\.jsonl:1: port: missing must be a port number/);
  });
});
