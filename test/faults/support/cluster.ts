// The fault suite's small cluster and rules, as files the enricher and detector read: one
// namespace, PAIRS client pods for the steady traffic and SLOW_PAIRS more that each carry one slow
// window only (no owners, so each pod is its own workload), and one database pod, all on the
// run's own node. Baselines and capture_silent are off: a restarted detector relearns
// baselines from scratch (docs/detector.md, known limits), so only rtt_high, which a single slow
// window decides, gives anomaly ids that must not depend on where a process was killed.
export const PAIRS = 100;
export const SLOW_PAIRS = 150;
export const DB_IP = "10.60.255.1";
export const clientIp = (k: number): string => `10.60.${k >> 8}.${(k & 255) + 1}`;

const pod = (name: string, ip: string, node: string) => `- apiVersion: v1
  kind: Pod
  metadata: { name: ${name}, namespace: shop, labels: { app: ${name} } }
  spec: { nodeName: ${node}, containers: [{ name: c, ports: [{ containerPort: 5432 }] }] }
  status: { phase: Running, podIP: ${ip}, podIPs: [{ ip: ${ip} }] }`;

export const manifests = (node: string): string =>
  [
    "apiVersion: v1",
    "kind: List",
    "items:",
    "- { apiVersion: v1, kind: Namespace, metadata: { name: shop } }",
    pod("db-0", DB_IP, node),
    ...Array.from({ length: PAIRS + SLOW_PAIRS }, (_, k) => pod(`client-${k}`, clientIp(k), node)),
    "",
  ].join("\n");

export const RTT_THRESHOLD_MS = 100;

export const rules = `rules:
  rtt_high: { enabled: true, threshold_ms: ${RTT_THRESHOLD_MS} }
  retransmits_high: { enabled: true, threshold: 3 }
  baseline_deviation: { enabled: false }
  capture_silent: { enabled: false }
`;
