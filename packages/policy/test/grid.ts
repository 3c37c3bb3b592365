// Test fixture in the style of the upstream network-policy e2e suite: namespaces x, y, z with
// pods a, b, c each (dual-stack IPs, several named ports), plus helpers that turn a policy
// manifest into a reachability matrix and compare it with an expected grid written as text.
import * as Either from "effect/Either";
import { engineFromManifests, loadManifests, type PolicyEngine, type Protocol, type Verdict } from "../src/index.js";

export const NAMESPACES = ["x", "y", "z"] as const;
export const PODS = ["a", "b", "c"] as const;
export const ALL = NAMESPACES.flatMap((ns) => PODS.map((p) => `${ns}/${p}`));

export const v4 = (ns: string, pod: string): string =>
  `10.0.${NAMESPACES.indexOf(ns as "x") + 1}.${PODS.indexOf(pod as "a") + 1}`;
export const v6 = (ns: string, pod: string): string =>
  `fd00::${NAMESPACES.indexOf(ns as "x") + 1}:${PODS.indexOf(pod as "a") + 1}`;

/** Every pod serves web 80/TCP, alt 81/TCP, dns 53/UDP, sig 80/SCTP; pod b serves web on 8080. */
const podYaml = (ns: string, pod: string): string => `
apiVersion: v1
kind: Pod
metadata: {name: ${pod}, namespace: ${ns}, labels: {pod: ${pod}${pod === "c" ? ", tier: db" : ""}}}
spec:
  containers:
  - name: main
    ports:
    - {name: web, containerPort: ${pod === "b" ? 8080 : 80}}
    - {name: alt, containerPort: 81, protocol: TCP}
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: sig, containerPort: 80, protocol: SCTP}
status:
  podIP: ${v4(ns, pod)}
  podIPs: [{ip: ${v4(ns, pod)}}, {ip: "${v6(ns, pod)}"}]
`;

const nsYaml = (ns: string): string => `
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}, labels: {ns: ${ns}${ns === "x" ? "" : ", env: prod"}}}
`;

export const GRID_YAML = [
  ...NAMESPACES.map(nsYaml),
  ...NAMESPACES.flatMap((ns) => PODS.map((p) => podYaml(ns, p))),
].join("---\n");

/** Engine over the grid plus the given policy documents; fails the test on any manifest issue. */
export const gridEngine = (...policies: string[]): PolicyEngine => {
  const loaded = loadManifests([{ file: "grid.yaml", text: [GRID_YAML, ...policies].join("\n---\n") }]);
  if (loaded.issues.length > 0) throw new Error(`fixture invalid: ${JSON.stringify(loaded.issues)}`);
  return engineFromManifests(loaded);
};

export const verdict = (
  engine: PolicyEngine,
  src: string,
  dst: string,
  port: number,
  protocol: Protocol = "TCP",
): Verdict => {
  const r = engine.evaluate({ src, dst, port, protocol });
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

/** The reachability grid, rows = source, columns = destination, "." allowed, "X" denied. */
export const matrix = (engine: PolicyEngine, port: number, protocol: Protocol = "TCP"): string => {
  const rows = ALL.map(
    (src) => `${src} ${ALL.map((dst) => (verdict(engine, src, dst, port, protocol).allowed ? "." : "X")).join("   ")}`,
  );
  return [`    ${ALL.join(" ")}`, ...rows].join("\n");
};

/** Normalizes an expected grid written in a test (indentation and spacing free). */
export const grid = (text: string): string => {
  const lines = text
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/));
  const rows = lines.slice(1).map(([src, ...cells]) => `${src} ${cells.join("   ")}`);
  return [`    ${ALL.join(" ")}`, ...rows].join("\n");
};

/** Grid where only the listed (src→dst) pairs differ from `base`. */
export const gridWhere = (allowed: (src: string, dst: string) => boolean): string =>
  grid(
    [`h ${ALL.join(" ")}`, ...ALL.map((s) => `${s} ${ALL.map((d) => (allowed(s, d) ? "." : "X")).join(" ")}`)].join(
      "\n",
    ),
  );

/** A NetworkPolicy document; the spec is written as a JS object (YAML parses JSON). */
export const policy = (ns: string, name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns },
    spec,
  });
