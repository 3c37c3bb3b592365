// Slim copies of the Kubernetes objects netpulse needs. Every source (informers, static
// manifests) slims objects before anything stores them, so a 10 k-pod cluster costs a few hundred
// bytes per pod instead of the full object. Input may be raw JSON (watch events, manifests) or the
// client library's typed models (list responses: Date timestamps), so fields are read defensively.
// NetworkPolicies are the exception: their whole spec matters, so they stay whole (plain JSON,
// without managedFields and annotations) and `@netpulse/policy`'s parsePolicy reads them.

import * as k8sModels from "@kubernetes/client-node";

export interface Owner {
  readonly kind: string;
  readonly name: string;
}

/** What the informer cache needs to keep working: name, namespace, resourceVersion. */
export interface SlimMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  readonly uid: string;
}

interface Base<K extends string> {
  readonly kind: K;
  readonly metadata: SlimMeta;
}

export interface SlimContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: string;
}

export interface SlimPod extends Base<"Pod"> {
  /** creationTimestamp in ms since the epoch; NaN when absent. */
  readonly createdMs: number;
  /** The labels named in SlimOptions.labelKeys (all of them with "all"). */
  readonly labels: Readonly<Record<string, string>>;
  readonly owner: Owner | null;
  readonly nodeName: string;
  readonly hostNetwork: boolean;
  readonly ips: ReadonlyArray<string>;
  /** Succeeded/Failed pods keep status.podIP although the IP is free for reuse. */
  readonly terminal: boolean;
  /** Container ports (named ports for NetworkPolicy), only with SlimOptions.containerPorts. */
  readonly ports?: ReadonlyArray<SlimContainerPort>;
}

export interface SlimNode extends Base<"Node"> {
  readonly ips: ReadonlyArray<string>;
}

export interface SlimNamespace extends Base<"Namespace"> {
  readonly labels: Readonly<Record<string, string>>;
}

export interface SlimService extends Base<"Service"> {
  readonly clusterIPs: ReadonlyArray<string>;
}

export interface SliceTarget {
  readonly pod: string | null;
  readonly ips: ReadonlyArray<string>;
}

export interface SlimEndpointSlice extends Base<"EndpointSlice"> {
  readonly service: string;
  readonly targets: ReadonlyArray<SliceTarget>;
}

/** ReplicaSets and Jobs matter only for the owner they point to (Deployment, CronJob). */
export interface SlimWorkload extends Base<"ReplicaSet" | "Job"> {
  readonly owner: Owner | null;
}

/** The object as the API serves it (plain JSON), without metadata.managedFields and annotations. */
export interface SlimNetworkPolicy extends Base<"NetworkPolicy"> {
  readonly apiVersion: string;
  readonly metadata: SlimMeta & { readonly labels?: Readonly<Record<string, string>> };
  readonly spec: unknown;
}

export type Slim =
  SlimPod | SlimNode | SlimNamespace | SlimService | SlimEndpointSlice | SlimWorkload | SlimNetworkPolicy;
export type SlimKind = Slim["kind"];
export const SLIM_KINDS: ReadonlyArray<SlimKind> = [
  "Pod",
  "Node",
  "Namespace",
  "Service",
  "EndpointSlice",
  "ReplicaSet",
  "Job",
  "NetworkPolicy",
];

/** What slimming keeps beyond the fixed fields; each consumer keeps only what it reads. */
export interface SlimOptions {
  /** Pod labels kept: the named keys, or "all" (NetworkPolicy selectors need every label). */
  readonly labelKeys: ReadonlyArray<string> | "all";
  /** Keep container ports on pods (NetworkPolicy named ports). */
  readonly containerPorts?: boolean;
}

/** One change to a store of slim objects, whatever the source. */
export interface MetaEvent {
  readonly type: "upsert" | "delete";
  readonly obj: Slim;
}

type Raw = Readonly<Record<string, unknown>>;

const obj = (v: unknown): Raw => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === "string") out[k] = x;
  return out;
};

const timeMs = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : NaN);

const meta = (o: Raw): SlimMeta => {
  const m = obj(o["metadata"]);
  const ns = str(m["namespace"]);
  const rv = str(m["resourceVersion"]);
  return {
    name: str(m["name"]),
    ...(ns === "" ? {} : { namespace: ns }),
    ...(rv === "" ? {} : { resourceVersion: rv }),
    uid: str(m["uid"]),
  };
};

/** The controlling owner reference (or the first one when none is marked controller). */
const owner = (o: Raw): Owner | null => {
  const refs = arr(obj(o["metadata"])["ownerReferences"]).map(obj);
  const ref = refs.find((r) => r["controller"] === true) ?? refs[0];
  return ref === undefined || str(ref["kind"]) === "" ? null : { kind: str(ref["kind"]), name: str(ref["name"]) };
};

const uniq = (xs: ReadonlyArray<string>): string[] => [...new Set(xs.filter((x) => x !== "" && x !== "None"))];

const containerPorts = (spec: Raw): SlimContainerPort[] =>
  arr(spec["containers"]).flatMap((c) =>
    arr(obj(c)["ports"]).map((p) => {
      const port = obj(p);
      const name = str(port["name"]);
      return {
        ...(name === "" ? {} : { name }),
        containerPort: typeof port["containerPort"] === "number" ? port["containerPort"] : 0,
        protocol: str(port["protocol"]) || "TCP",
      };
    }),
  );

const isLabelKeys = (o: SlimOptions | ReadonlyArray<string>): o is ReadonlyArray<string> => Array.isArray(o);

export const slimPod = (o: Raw, options: SlimOptions): SlimPod => {
  const spec = obj(o["spec"]);
  const status = obj(o["status"]);
  const all = obj(obj(o["metadata"])["labels"]);
  let labels: Record<string, string> = {};
  if (options.labelKeys === "all") labels = strMap(all);
  else
    for (const k of options.labelKeys) {
      const v = all[k];
      if (typeof v === "string") labels[k] = v;
    }
  const phase = str(status["phase"]);
  return {
    kind: "Pod",
    metadata: meta(o),
    createdMs: timeMs(obj(o["metadata"])["creationTimestamp"]),
    labels,
    owner: owner(o),
    nodeName: str(spec["nodeName"]),
    hostNetwork: spec["hostNetwork"] === true,
    ips: uniq([str(status["podIP"]), ...arr(status["podIPs"]).map((p) => str(obj(p)["ip"]))]),
    terminal: phase === "Succeeded" || phase === "Failed",
    ...(options.containerPorts === true && { ports: containerPorts(spec) }),
  };
};

export const slimNode = (o: Raw): SlimNode => ({
  kind: "Node",
  metadata: meta(o),
  ips: uniq(
    arr(obj(o["status"])["addresses"])
      .map(obj)
      .filter((a) => a["type"] === "InternalIP" || a["type"] === "ExternalIP")
      .map((a) => str(a["address"])),
  ),
});

export const slimNamespace = (o: Raw): SlimNamespace => ({
  kind: "Namespace",
  metadata: meta(o),
  labels: strMap(obj(o["metadata"])["labels"]),
});

export const slimService = (o: Raw): SlimService => {
  const spec = obj(o["spec"]);
  return {
    kind: "Service",
    metadata: meta(o),
    clusterIPs: uniq([str(spec["clusterIP"]), ...arr(spec["clusterIPs"]).map(str)]),
  };
};

export const slimEndpointSlice = (o: Raw): SlimEndpointSlice => ({
  kind: "EndpointSlice",
  metadata: meta(o),
  service: str(obj(obj(o["metadata"])["labels"])["kubernetes.io/service-name"]),
  targets: arr(o["endpoints"]).map((e) => {
    const ref = obj(obj(e)["targetRef"]);
    return {
      pod: ref["kind"] === "Pod" && str(ref["name"]) !== "" ? str(ref["name"]) : null,
      ips: uniq(arr(obj(e)["addresses"]).map(str)),
    };
  }),
});

export const slimWorkload = (o: Raw, kind: "ReplicaSet" | "Job"): SlimWorkload => ({
  kind,
  metadata: meta(o),
  owner: owner(o),
});

/**
 * Typed list items carry Date objects and keys set to undefined; the API's JSON has neither.
 * Only NetworkPolicies go through this (few, and kept whole).
 */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null)) as unknown;

interface Attribute {
  readonly name: string;
  readonly baseName: string;
  readonly type: string;
}
type ModelClass = { readonly getAttributeTypeMap?: () => ReadonlyArray<Attribute> };
const models = k8sModels as unknown as Readonly<Record<string, ModelClass | undefined>>;

/**
 * A typed client model back in the API's JSON: the generated models rename fields that are
 * reserved words (`from` is `_from` in a NetworkPolicy rule), so a typed list item must be mapped
 * through each model's attribute table; raw JSON (watch events, manifests) is already in shape.
 */
const apiJson = (v: unknown, type: string): unknown => {
  if (v === undefined || v === null) return v;
  const item = /^Array<(.+)>$/.exec(type)?.[1];
  if (item !== undefined) return Array.isArray(v) ? v.map((x) => apiJson(x, item)) : v;
  const attrs = models[type]?.getAttributeTypeMap?.();
  if (attrs === undefined || typeof v !== "object") return v;
  const from = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const a of attrs) {
    const x = a.name in from ? from[a.name] : from[a.baseName];
    if (x !== undefined) out[a.baseName] = apiJson(x, a.type);
  }
  return out;
};

export const slimNetworkPolicy = (o: Raw): SlimNetworkPolicy => {
  const labels = strMap(obj(o["metadata"])["labels"]);
  return {
    apiVersion: str(o["apiVersion"]) || "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { ...meta(o), ...(Object.keys(labels).length > 0 && { labels }) },
    spec: plain(apiJson(o["spec"] ?? {}, "V1NetworkPolicySpec")),
  };
};

/**
 * Slim any supported object by its kind; `kindHint` covers list items and watch objects that
 * omit `kind` (typed list responses do). Returns null for other kinds.
 */
export const slim = (raw: unknown, options: SlimOptions | ReadonlyArray<string>, kindHint?: SlimKind): Slim | null => {
  const o = obj(raw);
  // A bare list is the label keys: what the enricher keeps.
  if (isLabelKeys(options)) options = { labelKeys: options };
  const kind = str(o["kind"]) || kindHint;
  switch (kind) {
    case "Pod":
      return slimPod(o, options);
    case "Node":
      return slimNode(o);
    case "Namespace":
      return slimNamespace(o);
    case "Service":
      return slimService(o);
    case "EndpointSlice":
      return slimEndpointSlice(o);
    case "ReplicaSet":
    case "Job":
      return slimWorkload(o, kind);
    case "NetworkPolicy":
      return slimNetworkPolicy(o);
    default:
      return null;
  }
};
