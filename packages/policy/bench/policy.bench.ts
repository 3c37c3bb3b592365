// Verdicts per second with 1000 policies and 5000 pods (50 namespaces × 100 pods, 20 policies
// each), cached and uncached, next to a bare Map.get per probe measured in the same run.
// Run: npx tsx packages/policy/bench/policy.bench.ts   (goals: ≥ 1 M/s cached, ≥ 100 k/s uncached)
import * as Either from "effect/Either";
import { namespaceInfo, parsePod, parsePolicy, PolicyEngine, type Probe } from "../src/index.js";

const NAMESPACES = 50;
const PODS_PER_NS = 100;
const POLICIES_PER_NS = 20;
const PORTS = [80, 443, 5432, 8080, 9090];

let seed = 42;
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

const nsName = (i: number): string => `ns-${i}`;
const ip = (ns: number, pod: number): string => `10.${ns}.${pod >> 8}.${pod & 255}`;

const policySpec = (ns: number, k: number): Record<string, unknown> => {
  const app = { matchLabels: { app: `app-${k % 10}` } };
  switch (k % 5) {
    case 0:
      return { podSelector: app };
    case 1:
      return {
        podSelector: app,
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { team: `t-${(ns + k) % 7}` } } }],
            ports: [{ port: PORTS[k % 5] }],
          },
        ],
      };
    case 2:
      return {
        podSelector: app,
        ingress: [
          { from: [{ podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["web", "api"] }] } }] },
        ],
      };
    case 3:
      return {
        podSelector: app,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                ipBlock: { cidr: `10.${(ns + 1) % NAMESPACES}.0.0/16`, except: [`10.${(ns + 1) % NAMESPACES}.0.0/24`] },
              },
            ],
          },
          { ports: [{ port: 53, protocol: "UDP" }] },
        ],
      };
    default:
      return {
        podSelector: { matchLabels: { tier: "db" } },
        ingress: [
          {
            from: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: "api" } } }],
            ports: [{ port: "http" }, { port: 8000, endPort: 9000 }],
          },
        ],
      };
  }
};

const build = (cacheSize: number): PolicyEngine => {
  const engine = new PolicyEngine({ cacheSize });
  for (let n = 0; n < NAMESPACES; n++) {
    engine.upsertNamespace(namespaceInfo(nsName(n), { team: `t-${n % 7}` }));
    for (let p = 0; p < PODS_PER_NS; p++) {
      const pod = parsePod({
        metadata: {
          name: `pod-${p}`,
          namespace: nsName(n),
          labels: { app: `app-${p % 10}`, tier: ["web", "api", "db"][p % 3]! },
        },
        spec: { containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }] },
        status: { podIP: ip(n, p) },
      });
      if (pod.ok) engine.upsertPod(pod.value);
    }
    for (let k = 0; k < POLICIES_PER_NS; k++) {
      const r = parsePolicy({ metadata: { name: `pol-${k}`, namespace: nsName(n) }, spec: policySpec(n, k) });
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      engine.upsertPolicy(r.value);
    }
  }
  return engine;
};

const randomEnd = (): string => {
  const n = rand(NAMESPACES);
  const p = rand(PODS_PER_NS);
  const r = rand(10);
  return r < 6 ? `${nsName(n)}/pod-${p}` : r < 9 ? ip(n, p) : `192.0.2.${rand(255)}`;
};
const probes = (count: number): Probe[] =>
  Array.from({ length: count }, () => ({
    src: randomEnd(),
    dst: randomEnd(),
    port: PORTS[rand(PORTS.length)]!,
    protocol: "TCP" as const,
  }));

const rate = (label: string, items: number, fn: () => number): number => {
  fn(); // warm-up
  const runs: number[] = [];
  let sink = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    sink += fn();
    runs.push(items / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  const median = runs.sort((a, b) => a - b)[2]!;
  console.log(`${label.padEnd(44)} ${(median / 1e6).toFixed(2).padStart(7)} M/s  (check ${sink})`);
  return median;
};

const t0 = process.hrtime.bigint();
const cached = build(1 << 20);
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
const uncached = build(0);
console.log(`state: ${JSON.stringify(cached.counts)}, built in ${buildMs.toFixed(0)} ms`);

const hot = probes(10_000);
const cold = probes(100_000);
const keyed = new Map(hot.map((p) => [`${p.src}\n${p.dst}\n${p.port}\n${p.protocol}`, p]));
let allowed = 0;
for (const p of hot) allowed += Either.getOrThrow(cached.evaluate(p)).allowed ? 1 : 0;
console.log(`probes: ${hot.length} hot (${allowed} allowed), ${cold.length} cold`);

const ROUNDS = 50;
const baseline = rate("baseline: key + Map.get per probe", hot.length * ROUNDS, () => {
  let n = 0;
  for (let r = 0; r < ROUNDS; r++)
    for (const p of hot) if (keyed.get(`${p.src}\n${p.dst}\n${p.port}\n${p.protocol}`) !== undefined) n++;
  return n;
});
const hit = rate("engine, cached (warm)", hot.length * ROUNDS, () => {
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) for (const p of hot) if (Either.isRight(cached.evaluate(p))) n++;
  return n;
});
const miss = rate("engine, uncached (cache disabled)", cold.length, () => {
  let n = 0;
  for (const p of cold) if (Either.isRight(uncached.evaluate(p))) n++;
  return n;
});
console.log(`cached   / baseline: ${(hit / baseline).toFixed(2)}  (goal ≥ 1 M/s: ${hit >= 1e6 ? "met" : "NOT met"})`);
console.log(
  `uncached / baseline: ${(miss / baseline).toFixed(3)}  (goal ≥ 100 k/s: ${miss >= 1e5 ? "met" : "NOT met"})`,
);
