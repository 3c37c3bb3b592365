// The demo cluster as Kubernetes objects (one `kind: List` in JSON, which is also YAML): what the
// enricher (NETPULSE_MANIFESTS) and the detector (NETPULSE_DETECTOR_MANIFESTS) read instead of an
// API server. Pods carry their IPs, node and owner chain (ReplicaSet → Deployment, Job → CronJob).
import { NAMESPACES, NODE, PODS, POLICY, SERVICES, type DemoPod } from "./cluster.js";

const controller = (apiVersion: string, kind: string, name: string) => ({
  apiVersion,
  kind,
  name,
  uid: `demo-${kind.toLowerCase()}-${name}`,
  controller: true,
});

/** The Pod's direct owner plus the intermediate object (ReplicaSet or Job) that names the workload. */
const owned = (p: DemoPod): unknown[] => {
  const meta = (name: string, owner: ReturnType<typeof controller>) => ({
    name,
    namespace: p.namespace,
    ownerReferences: [owner],
  });
  switch (p.owner.kind) {
    case "StatefulSet":
      return [];
    case "Deployment": {
      const rs = p.name.split("-").slice(0, 2).join("-");
      return [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: meta(rs, controller("apps/v1", "Deployment", p.owner.name)),
        },
      ];
    }
    case "CronJob": {
      const job = p.name.split("-").slice(0, 2).join("-");
      return [
        { apiVersion: "batch/v1", kind: "Job", metadata: meta(job, controller("batch/v1", "CronJob", p.owner.name)) },
      ];
    }
  }
};

const podOwner = (p: DemoPod) => {
  const prefix = p.name.split("-").slice(0, 2).join("-");
  switch (p.owner.kind) {
    case "StatefulSet":
      return controller("apps/v1", "StatefulSet", p.owner.name);
    case "Deployment":
      return controller("apps/v1", "ReplicaSet", prefix);
    case "CronJob":
      return controller("batch/v1", "Job", prefix);
  }
};

const podObject = (p: DemoPod) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: p.name, namespace: p.namespace, labels: { app: p.app }, ownerReferences: [podOwner(p)] },
  spec: {
    nodeName: NODE,
    containers: [{ name: p.app, ports: p.ports.map((containerPort) => ({ containerPort, protocol: "TCP" })) }],
  },
  status: { phase: "Running", podIP: p.ip, podIPs: [{ ip: p.ip }] },
});

export const demoManifests = (): string =>
  JSON.stringify(
    {
      apiVersion: "v1",
      kind: "List",
      items: [
        ...NAMESPACES.map((n) => ({
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: n.name, labels: n.labels },
        })),
        ...PODS.flatMap((p) => [...owned(p), podObject(p)]),
        ...SERVICES.map((s) => ({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: s.name, namespace: s.namespace },
          spec: { selector: { app: s.name }, ports: [{ port: s.port, targetPort: s.port, protocol: "TCP" }] },
        })),
        {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: POLICY.name, namespace: POLICY.namespace },
          spec: {
            podSelector: { matchLabels: { app: POLICY.app } },
            policyTypes: ["Ingress"],
            ingress: [
              {
                from: [
                  {
                    namespaceSelector: { matchLabels: POLICY.fromNamespaceLabel },
                    podSelector: { matchLabels: { app: POLICY.fromApp } },
                  },
                ],
                ports: [{ port: POLICY.port, protocol: "TCP" }],
              },
            ],
          },
        },
      ],
    },
    null,
    2,
  ) + "\n";
