// The demo's small cluster as data: Kubernetes namespaces, pods (each a network namespace on one
// bridge), Services, the NetworkPolicy the traffic breaks, the broken links and who talks to whom.
// manifests.ts renders it for the enricher and detector; topology.ts builds it in the kernel;
// traffic.ts runs the talking.

/** Every network namespace the demo creates starts with this, so cleanup never touches others. */
export const NETNS_PREFIX = "npdemo-";
/** The network namespace holding the bridge all pods hang on (the "node"). */
export const HUB_NETNS = `${NETNS_PREFIX}node`;
export const BRIDGE = "br0";
/** The pods' subnet: outside what the e2e tests pick (10.200.x.0/24). */
export const SUBNET = "10.201.77";
export const CIDR = `${SUBNET}.0/24`;
/** NETPULSE_NODE_NAME of the capture and spec.nodeName of every pod. */
export const NODE = "demo-node";

export interface Owner {
  readonly kind: "Deployment" | "StatefulSet" | "CronJob";
  readonly name: string;
}

export interface DemoPod {
  readonly namespace: string;
  readonly name: string;
  /** Short name: the network namespace is `npdemo-<short>`. */
  readonly short: string;
  readonly ip: string;
  readonly app: string;
  readonly owner: Owner;
  readonly ports: ReadonlyArray<number>;
}

/** A link fault, set up inside one pod's network namespace. */
export type Fault =
  | { readonly _tag: "Slow"; readonly pod: string; readonly to: string; readonly rate: string }
  | { readonly _tag: "Lossy"; readonly pod: string; readonly port: number; readonly percent: number }
  | { readonly _tag: "SynDrop"; readonly pod: string; readonly port: number; readonly percent: number };

/** A client loop in pod `from`: GET `bytes` (or POST them when `post`) to `to`:port every `everyMs`. */
export interface Job {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly bytes: number;
  readonly post: boolean;
  readonly everyMs: number;
  readonly why: string;
}

export const NAMESPACES: ReadonlyArray<{ readonly name: string; readonly labels: Record<string, string> }> = [
  { name: "shop", labels: { team: "shop" } },
  { name: "data", labels: { team: "data" } },
  { name: "batch", labels: { team: "batch" } },
];

const pod = (namespace: string, name: string, app: string, host: number, owner: Owner, ports: number[]): DemoPod => {
  return { namespace, name, short: app, ip: `${SUBNET}.${host}`, app, owner, ports };
};

export const PODS: ReadonlyArray<DemoPod> = [
  pod("shop", "frontend-6c8d9f-x2k4q", "frontend", 11, { kind: "Deployment", name: "frontend" }, [8080]),
  pod("shop", "checkout-5f7b8c-p9r2m", "checkout", 12, { kind: "Deployment", name: "checkout" }, [8080]),
  pod("data", "postgres-0", "postgres", 21, { kind: "StatefulSet", name: "postgres" }, [5432]),
  pod("data", "cache-0", "cache", 22, { kind: "StatefulSet", name: "cache" }, [6379]),
  pod("data", "search-0", "search", 23, { kind: "StatefulSet", name: "search" }, [9200]),
  pod("batch", "reporter-29012345-7hq2x", "reporter", 31, { kind: "CronJob", name: "reporter" }, []),
];

export const podNamed = (short: string): DemoPod => {
  const p = PODS.find((x) => x.short === short);
  if (p === undefined) throw new Error(`demo cluster: no pod ${short}`);
  return p;
};

export const netnsOf = (p: DemoPod): string => `${NETNS_PREFIX}${p.short}`;

/** Services (ClusterIP, selecting by app) in front of the server pods. */
export const SERVICES: ReadonlyArray<{ readonly namespace: string; readonly name: string; readonly port: number }> = [
  { namespace: "shop", name: "checkout", port: 8080 },
  { namespace: "data", name: "postgres", port: 5432 },
  { namespace: "data", name: "cache", port: 6379 },
];

/** Only checkout may reach postgres; the batch reporter does anyway (policy_denied). */
export const POLICY = {
  namespace: "data",
  name: "postgres-from-checkout",
  app: "postgres",
  fromNamespaceLabel: { team: "shop" },
  fromApp: "checkout",
  port: 5432,
} as const;

export const FAULTS: ReadonlyArray<Fault> = [
  // checkout → postgres at 1 Mbit/s (its other traffic unlimited): uploads queue, so RTT goes over
  // rtt_high's 100 ms
  { _tag: "Slow", pod: "checkout", to: "postgres", rate: "1mbit" },
  // cache drops 5 % of what arrives on 6379: the senders retransmit (retransmits_high)
  { _tag: "Lossy", pod: "cache", port: 6379, percent: 5 },
  // search drops half the SYNs to 9200: connects wait the 1 s retransmit (syn_retransmits)
  { _tag: "SynDrop", pod: "search", port: 9200, percent: 50 },
];

export const JOBS: ReadonlyArray<Job> = [
  { from: "frontend", to: "checkout", port: 8080, bytes: 2048, post: false, everyMs: 250, why: "HTTP requests" },
  { from: "checkout", to: "postgres", port: 5432, bytes: 300_000, post: true, everyMs: 2000, why: "slow link" },
  { from: "frontend", to: "cache", port: 6379, bytes: 1_000_000, post: true, everyMs: 1500, why: "lossy link" },
  { from: "frontend", to: "search", port: 9200, bytes: 4096, post: false, everyMs: 700, why: "SYN drops" },
  { from: "reporter", to: "postgres", port: 5432, bytes: 200_000, post: false, everyMs: 2000, why: "policy denied" },
];
