// Builders for Kubernetes objects as the API server returns them (JSON shape), for tests that
// feed informers, the fake API server or static manifests.

export type KubeObject = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: Record<string, unknown>;
} & Record<string, unknown>;

let uidSeq = 0;
const uid = () => `uid-${++uidSeq}`;

export interface PodOptions {
  readonly ip?: string;
  readonly node?: string;
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly labels?: Record<string, string>;
  readonly hostNetwork?: boolean;
  readonly phase?: string;
  readonly created?: string;
  readonly uid?: string;
}

const ownerRefs = (owner?: { readonly kind: string; readonly name: string }) =>
  owner === undefined
    ? {}
    : { ownerReferences: [{ apiVersion: "v1", kind: owner.kind, name: owner.name, uid: uid(), controller: true }] };

export const pod = (namespace: string, name: string, o: PodOptions = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace,
    uid: o.uid ?? uid(),
    creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
    labels: o.labels ?? {},
    ...ownerRefs(o.owner),
  },
  spec: { nodeName: o.node ?? "node-a", hostNetwork: o.hostNetwork ?? false, containers: [{ name: "c", image: "x" }] },
  status: { phase: o.phase ?? "Running", ...(o.ip === undefined ? {} : { podIP: o.ip, podIPs: [{ ip: o.ip }] }) },
});

export const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, uid: uid(), labels: { "kubernetes.io/metadata.name": name, ...labels } },
});

export const node = (name: string, internalIP: string, externalIP?: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, uid: uid() },
  status: {
    addresses: [
      { type: "InternalIP", address: internalIP },
      ...(externalIP === undefined ? [] : [{ type: "ExternalIP", address: externalIP }]),
      { type: "Hostname", address: name },
    ],
  },
});

export const service = (namespace: string, name: string, clusterIP: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace, uid: uid() },
  spec: { clusterIP, clusterIPs: clusterIP === "None" ? ["None"] : [clusterIP], ports: [{ port: 80 }] },
});

export const endpointSlice = (
  namespace: string,
  name: string,
  serviceName: string,
  endpoints: ReadonlyArray<{ readonly ip: string; readonly pod?: string }>,
): KubeObject => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name, namespace, uid: uid(), labels: { "kubernetes.io/service-name": serviceName } },
  addressType: "IPv4",
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: true },
    ...(e.pod === undefined ? {} : { targetRef: { kind: "Pod", name: e.pod, namespace } }),
  })),
  ports: [{ port: 80 }],
});

export const replicaSet = (namespace: string, name: string, deployment?: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: {
    name,
    namespace,
    uid: uid(),
    ...ownerRefs(deployment === undefined ? undefined : { kind: "Deployment", name: deployment }),
  },
  spec: { replicas: 1 },
});

export const job = (namespace: string, name: string, cronJob?: string): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: {
    name,
    namespace,
    uid: uid(),
    ...ownerRefs(cronJob === undefined ? undefined : { kind: "CronJob", name: cronJob }),
  },
  spec: {},
});
