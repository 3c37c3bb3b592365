// The Helm chart (deploy/helm/netpulse) rendered by the real helm (scripts/install-deps.sh builds it
// into .netpulse/bin): lint, default and Kafka+TLS values, and the promises the chart makes: an
// unprivileged capture with exactly its capability list, requests equal to limits everywhere,
// read-only RBAC on exactly the kinds each service reads, the detector's replica index; then every
// object against a real kube-apiserver (deploy/helm/validate-apiserver.sh).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { captureNodeFlags } from "@netpulse/capture";

const chart = "deploy/helm/netpulse";
const helm = ".netpulse/bin/helm";
if (!existsSync(helm)) throw new Error(`${helm} is missing: run scripts/install-deps.sh (it builds helm)`);

/** The capability list the chart promises (values capture.capabilities): CAP_BPF and CAP_PERFMON. */
const CAPABILITIES = ["BPF", "PERFMON"];

interface Container {
  name: string;
  command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { add?: string[]; drop?: string[] } };
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: Container[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  securityContext?: Record<string, unknown>;
  topologySpreadConstraints?: unknown[];
  volumes?: Array<{ name: string; hostPath?: { path: string } }>;
  serviceAccountName?: string;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { replicas?: number; template?: { spec: PodSpec } };
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  roleRef?: { name: string };
  subjects?: Array<{ name: string }>;
  data?: Record<string, string>;
}

const run = (args: string[]) => execFileSync(helm, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const render = (values: object = {}): K8sObject[] => {
  const file = join(mkdtempSync(join(tmpdir(), "np-helm-")), "values.yaml");
  writeFileSync(file, JSON.stringify(values));
  return parseAllDocuments(run(["template", "netpulse", chart, "--namespace", "netpulse", "-f", file]))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
};

const find = (objs: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name} rendered`);
  return o;
};
const podSpec = (o: K8sObject): PodSpec => {
  const s = o.spec?.template?.spec;
  if (s === undefined) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return s;
};
const env = (c: Container | undefined) => new Map((c?.env ?? []).map((e) => [e.name, e]));
const workloads = (objs: K8sObject[]) =>
  objs.filter((o) => ["DaemonSet", "Deployment", "StatefulSet"].includes(o.kind));

const kafkaTls = {
  bus: {
    kind: "kafka",
    kafka: {
      brokers: "kafka-0.kafka:9093,kafka-1.kafka:9093",
      sasl: { mechanism: "scram-sha-512", existingSecret: "kafka-auth" },
      tls: { enabled: true, existingSecret: "kafka-ca", caKey: "ca.crt" },
    },
  },
  clickhouse: { url: "https://clickhouse.example:8443", existingSecret: "ch", passwordKey: "pw" },
};

describe("the Helm chart", () => {
  const defaults = render();

  it("passes helm lint with default and with Kafka+TLS values", () => {
    expect(run(["lint", chart])).toMatch(/0 chart\(s\) failed/);
    const file = join(mkdtempSync(join(tmpdir(), "np-helm-")), "kafka.yaml");
    writeFileSync(file, JSON.stringify(kafkaTls));
    expect(run(["lint", chart, "-f", file])).toMatch(/0 chart\(s\) failed/);
  });

  it("renders every service, in the release namespace", () => {
    expect(
      workloads(defaults)
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort(),
    ).toEqual([
      "DaemonSet/netpulse-capture",
      "Deployment/netpulse-enricher",
      "Deployment/netpulse-sink",
      "StatefulSet/netpulse-detector",
    ]);
    for (const o of defaults.filter((x) => !x.kind.startsWith("Cluster")))
      expect(o.metadata.namespace).toBe("netpulse");
  });

  it("runs the capture unprivileged with exactly CAP_BPF and CAP_PERFMON", () => {
    const ds = find(defaults, "DaemonSet", "netpulse-capture");
    const spec = podSpec(ds);
    const [c] = spec.containers;
    expect(JSON.stringify(ds)).not.toMatch(/SYS_ADMIN|"privileged":true/);
    expect(c?.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(c?.securityContext?.capabilities).toEqual({ drop: ["ALL"], add: CAPABILITIES });
    // the capability proof (test/capture-caps.test.ts) runs the loader with the values' list
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as { capture: { capabilities: string[] } };
    expect(values.capture.capabilities).toEqual(CAPABILITIES);
    expect(spec.hostPID).toBe(false);
    expect(spec.hostNetwork).toBe(true); // the node's conntrack counters
    expect(c?.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(c?.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(Object.fromEntries((spec.volumes ?? []).map((v) => [v.name, v.hostPath?.path]))).toEqual({
      btf: "/sys/kernel/btf",
      cgroup: "/sys/fs/cgroup",
    });
    expect(c?.command).toEqual(["node", ...captureNodeFlags, "--enable-source-maps", "services/capture/dist/main.js"]);
  });

  it.each([
    ["default", {}],
    ["Kafka+TLS", kafkaTls],
  ])("gives every container requests equal to limits (%s values)", (_, values) => {
    const objs = render(values);
    for (const o of workloads(objs))
      for (const c of podSpec(o).containers) {
        expect(c.resources?.requests, `${o.metadata.name}/${c.name}`).toBeDefined();
        expect(c.resources?.limits, `${o.metadata.name}/${c.name}`).toEqual(c.resources?.requests);
        expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
        expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
      }
  });

  it("grants get/list/watch on exactly the kinds each service reads, and nothing to capture and sink", () => {
    const rules = (name: string) =>
      (find(defaults, "ClusterRole", name).rules ?? []).flatMap((r) =>
        r.resources.map((res) => ({ res: `${r.apiGroups.join(",")}/${res}`, verbs: [...r.verbs].sort() })),
      );
    const readOnly = ["get", "list", "watch"];
    const enricher = rules("netpulse-enricher");
    expect(enricher.map((r) => r.res).sort()).toEqual([
      "/namespaces",
      "/nodes",
      "/pods",
      "/services",
      "apps/replicasets",
      "batch/jobs",
      "discovery.k8s.io/endpointslices",
    ]);
    const detector = rules("netpulse-detector");
    expect(detector.map((r) => r.res).sort()).toEqual(["/namespaces", "/pods", "networking.k8s.io/networkpolicies"]);
    for (const r of [...enricher, ...detector]) expect(r.verbs).toEqual(readOnly);
    const roles = defaults.filter((o) => o.kind === "ClusterRole" || o.kind === "Role").map((o) => o.metadata.name);
    expect(roles.sort()).toEqual(["netpulse-detector", "netpulse-enricher"]);
    for (const name of ["netpulse-enricher", "netpulse-detector"]) {
      const b = find(defaults, "ClusterRoleBinding", name);
      expect([b.roleRef?.name, b.subjects?.[0]?.name]).toEqual([name, name]);
      expect(podSpec(workloads(defaults).find((o) => o.metadata.name === name)!).serviceAccountName).toBe(name);
    }
    expect(JSON.stringify(podSpec(find(defaults, "DaemonSet", "netpulse-capture")))).toMatch(
      /"automountServiceAccountToken":false/,
    );
    expect(JSON.stringify(podSpec(find(defaults, "Deployment", "netpulse-sink")))).toMatch(
      /"automountServiceAccountToken":false/,
    );
  });

  it.each([1, 2, 5])("sets the detector's NETPULSE_DETECTOR_REPLICA from its %i replicas", (replicas) => {
    const sts = find(render({ detector: { replicas } }), "StatefulSet", "netpulse-detector");
    expect(sts.spec?.replicas).toBe(replicas);
    const e = env(podSpec(sts).containers[0]);
    expect(e.get("NETPULSE_DETECTOR_REPLICA")?.value).toBe(`$(POD_INDEX)/${replicas}`);
    expect(JSON.stringify(e.get("POD_INDEX")?.valueFrom)).toContain("apps.kubernetes.io/pod-index");
  });

  it("mounts the detector's rules from a ConfigMap built from values.detector.rules", () => {
    const objs = render({ detector: { rules: { rules: { rtt_high: { threshold_ms: 250 } } } } });
    const cm = find(objs, "ConfigMap", "netpulse-detector-rules");
    // values merge: the other default rules stay
    expect(parse(cm.data?.["rules.yaml"] ?? "")).toEqual({
      rules: { rtt_high: { threshold_ms: 250 }, retransmits_high: { threshold: 3 }, capture_silent: { after_s: 15 } },
    });
    const sts = find(objs, "StatefulSet", "netpulse-detector");
    expect(env(podSpec(sts).containers[0]).get("NETPULSE_DETECTOR_RULES")?.value).toBe(
      "/etc/netpulse/rules/rules.yaml",
    );
    expect(podSpec(sts).topologySpreadConstraints).toHaveLength(1);
  });

  it("points every service at NATS by default, credentials from Secrets only", () => {
    for (const o of workloads(defaults)) {
      const e = env(podSpec(o).containers[0]);
      expect(e.get("NETPULSE_BUS")?.value).toBe("nats");
      expect(e.get("NETPULSE_NATS_URL")?.value).toBe("nats://nats.netpulse.svc:4222");
    }
    const sink = env(podSpec(find(defaults, "Deployment", "netpulse-sink")).containers[0]);
    expect(sink.get("NETPULSE_CLICKHOUSE_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "netpulse-clickhouse",
      key: "password",
    });
    expect(defaults.filter((o) => o.kind === "Secret")).toEqual([]);
  });

  it("renders NATS auth and mutual TLS from existing Secrets", () => {
    const objs = render({
      bus: {
        nats: {
          url: "tls://nats:4222",
          auth: { existingSecret: "nats-auth", userKey: "user", passwordKey: "password" },
          tls: { existingSecret: "nats-tls", caKey: "ca.crt", certKey: "tls.crt", keyKey: "tls.key" },
        },
      },
    });
    for (const o of workloads(objs)) {
      const spec = podSpec(o);
      const e = env(spec.containers[0]);
      expect(e.get("NETPULSE_NATS_USER")?.valueFrom?.secretKeyRef).toEqual({ name: "nats-auth", key: "user" });
      expect(e.get("NETPULSE_NATS_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "nats-auth", key: "password" });
      expect(e.get("NETPULSE_NATS_TLS_CA")?.value).toBe("/etc/netpulse/bus-tls/ca.crt");
      expect(e.get("NETPULSE_NATS_TLS_CERT")?.value).toBe("/etc/netpulse/bus-tls/tls.crt");
      expect(e.get("NETPULSE_NATS_TLS_KEY")?.value).toBe("/etc/netpulse/bus-tls/tls.key");
      expect(spec.containers[0]?.volumeMounts?.map((m) => m.mountPath)).toContain("/etc/netpulse/bus-tls");
      expect(JSON.stringify(spec.volumes)).toContain('"secretName":"nats-tls"');
    }
  });

  it("renders Kafka with SASL and TLS, and no NATS settings", () => {
    const objs = render(kafkaTls);
    for (const o of workloads(objs)) {
      const spec = podSpec(o);
      const e = env(spec.containers[0]);
      expect(e.get("NETPULSE_BUS")?.value).toBe("kafka");
      expect(e.get("NETPULSE_KAFKA_BROKERS")?.value).toBe("kafka-0.kafka:9093,kafka-1.kafka:9093");
      expect(e.get("NETPULSE_KAFKA_SASL_MECHANISM")?.value).toBe("scram-sha-512");
      expect(e.get("NETPULSE_KAFKA_USERNAME")?.valueFrom?.secretKeyRef).toEqual({
        name: "kafka-auth",
        key: "username",
      });
      expect(e.get("NETPULSE_KAFKA_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
        name: "kafka-auth",
        key: "password",
      });
      expect(e.get("NETPULSE_KAFKA_TLS")?.value).toBe("true");
      expect(e.get("NETPULSE_KAFKA_TLS_CA")?.value).toBe("/etc/netpulse/bus-tls/ca.crt");
      expect([...e.keys()].filter((k) => k.startsWith("NETPULSE_NATS_"))).toEqual([]);
      expect(JSON.stringify(spec.volumes)).toContain('"secretName":"kafka-ca"');
    }
    const sink = env(podSpec(find(objs, "Deployment", "netpulse-sink")).containers[0]);
    expect(sink.get("NETPULSE_CLICKHOUSE_URL")?.value).toBe("https://clickhouse.example:8443");
    expect(sink.get("NETPULSE_CLICKHOUSE_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "ch", key: "pw" });
  });

  // The chart against a real kube-apiserver and etcd (scripts/install-deps.sh builds them into
  // .netpulse/kube): apply --dry-run=server with both values, the privileged control, then RBAC
  // per ServiceAccount with auth can-i.
  it("is accepted by a real kube-apiserver, its RBAC proven with auth can-i", () => {
    if (!existsSync(".netpulse/kube/kube-apiserver"))
      throw new Error(".netpulse/kube/kube-apiserver is missing: run scripts/install-deps.sh (it builds it)");
    const out = execFileSync("deploy/helm/validate-apiserver.sh", { encoding: "utf8", timeout: 150_000 });
    console.log(out.trim());
    expect(out).toMatch(/default values: 13 objects accepted/);
    expect(out).toMatch(/kafka-rendered values: 13 objects accepted/);
    expect(out).toMatch(/a privileged capture is refused/);
    expect(out).toMatch(/RBAC: enricher and detector get\/list\/watch exactly their kinds.*\(58 auth can-i checks\)/);
  }, 180_000);

  it("refuses an unknown bus kind", () => {
    expect(() => render({ bus: { kind: "redis" } })).toThrow(/bus.kind must be nats or kafka/);
  });
});
