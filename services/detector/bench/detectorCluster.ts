// The detector bench's cluster: 50 namespaces × 100 pods (5 000), 20 NetworkPolicies each (1 000),
// as Kubernetes objects (the service reads them as a manifest file) and as the PolicyEngine the
// in-process runs use, built from the same objects by @netpulse/policy's parsers. Workloads are
// pairs of pods (`svc-<w>`, 2 500 in all), so 10 k or 100 k distinct workload pairs exist.
import { namespaceInfo, parsePod, parsePolicy, PolicyEngine, type EngineOptions } from "@netpulse/policy";
import { emptyEndpoint, type Endpoint } from "@netpulse/runtime/records";

export const NAMESPACES = 50;
export const PODS_PER_NS = 100;
export const WORKLOADS_PER_NS = 50;
const POLICIES_PER_NS = 20;
const NODES = 50;
const TIERS = ["web", "api", "db"] as const;
const PORTS = [80, 443, 8080, 9090];

export interface BenchPod {
  readonly ref: string;
  readonly ip: string;
  readonly endpoint: Endpoint;
}

export interface BenchWorkload {
  /** Its two pods. */
  readonly pods: readonly [BenchPod, BenchPod];
  /** The port its clients connect to. */
  readonly port: number;
}

const nsName = (n: number): string => `ns-${n}`;
const podIp = (n: number, p: number): string => `10.${n}.0.${p + 1}`;
const appOf = (w: number): string => `app-${w % 10}`;
const tierOf = (w: number): string => TIERS[w % 3]!;

/** Same-namespace peers, a team's namespaces, web/api tiers, an egress ipBlock with an exception, db ingress. */
const policySpec = (n: number, k: number): Record<string, unknown> => {
  const podSelector = { matchLabels: { app: `app-${k % 10}` } };
  switch (k % 5) {
    case 0:
      return {
        podSelector,
        ingress: [
          { from: [{ podSelector: {} }], ports: [{ port: PORTS[k % 4] }, { port: "http" }] },
          { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: "web" } } }] },
        ],
      };
    case 1:
      return {
        podSelector,
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: "team", operator: "NotIn", values: [`t-${(n + k) % 7}`] }],
                },
              },
            ],
          },
        ],
      };
    case 2:
      return {
        podSelector,
        ingress: [
          { from: [{ podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["web", "api"] }] } }] },
        ],
      };
    case 3:
      return {
        podSelector,
        policyTypes: ["Egress"],
        egress: [
          { to: [{ ipBlock: { cidr: "10.0.0.0/8", except: [`10.${(n + 1) % NAMESPACES}.0.0/16`] } }] },
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

/** Namespaces, Pods and NetworkPolicies, as a manifest file would hold them. */
export const clusterObjects = (): unknown[] => {
  const out: unknown[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    out.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: nsName(n), labels: { team: `t-${n % 7}` } } });
    for (let p = 0; p < PODS_PER_NS; p++) {
      const w = p % WORKLOADS_PER_NS;
      out.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `svc-${w}-${p}`, namespace: nsName(n), labels: { app: appOf(w), tier: tierOf(w) } },
        spec: {
          nodeName: `node-${(n * PODS_PER_NS + p) % NODES}`,
          containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }],
        },
        status: { podIP: podIp(n, p) },
      });
    }
    for (let k = 0; k < POLICIES_PER_NS; k++)
      out.push({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: `pol-${k}`, namespace: nsName(n) },
        spec: policySpec(n, k),
      });
  }
  return out;
};

const fail = (what: string, issues: unknown): never => {
  throw new Error(`${what}: ${JSON.stringify(issues)}`);
};

/** The objects loaded into a PolicyEngine through the package's own parsers. */
export const policyEngineOf = (objects: ReadonlyArray<unknown>, options: EngineOptions = {}): PolicyEngine => {
  const engine = new PolicyEngine(options);
  for (const o of objects) {
    const obj = o as { kind: string; metadata: { name: string; labels?: Record<string, string> } };
    if (obj.kind === "Namespace") engine.upsertNamespace(namespaceInfo(obj.metadata.name, obj.metadata.labels ?? {}));
    else if (obj.kind === "Pod") {
      const r = parsePod(o);
      if (r.ok) engine.upsertPod(r.value);
      else fail(obj.metadata.name, r.issues);
    } else {
      const r = parsePolicy(o);
      if (r.ok) engine.upsertPolicy(r.value);
      else fail(obj.metadata.name, r.issues);
    }
  }
  return engine;
};

/** Every workload with its pods' enriched endpoints, index = namespace × 50 + w. */
export const workloads = (): BenchWorkload[] => {
  const out: BenchWorkload[] = [];
  for (let n = 0; n < NAMESPACES; n++)
    for (let w = 0; w < WORKLOADS_PER_NS; w++) {
      const pod = (p: number): BenchPod => ({
        ref: `${nsName(n)}/svc-${w}-${p}`,
        ip: podIp(n, p),
        endpoint: {
          ...emptyEndpoint,
          kind: "pod",
          pod: `svc-${w}-${p}`,
          namespace: nsName(n),
          node: `node-${(n * PODS_PER_NS + p) % NODES}`,
          workload_kind: "Deployment",
          workload_name: `svc-${w}`,
          service: `svc-${w}`,
          labels: { app: appOf(w), tier: tierOf(w) },
        },
      });
      out.push({ pods: [pod(w), pod(w + WORKLOADS_PER_NS)], port: tierOf(w) === "db" ? 8080 : PORTS[w % 4]! });
    }
  return out;
};
