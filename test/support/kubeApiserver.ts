// A real Kubernetes API server for tests: etcd and kube-apiserver (built by scripts/install-deps.sh
// into .netpulse/kube) on loopback, started by `deploy/helm/validate-apiserver.sh serve DIR`, the
// same starter the chart check uses. No controllers, scheduler or kubelet: objects are what the
// test writes (a pod's IP through the status subresource). Two users: admin (system:masters) for
// the test's writes, and netpulse for the code under test, with only the RBAC the test grants it
// (the chart's ClusterRoles) and every request of it in the server's audit log.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadYaml,
  type KubernetesObject,
  type V1ClusterRole,
  type V1Pod,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { stopChild } from "./processes.js";

const STARTER = "deploy/helm/validate-apiserver.sh";
const BINARIES = ".netpulse/kube";

/** One request of the netpulse user, from the audit log. */
export interface AuditedRequest {
  readonly verb: string;
  readonly resource: string;
  readonly uri: string;
  readonly code: number;
}

/** A pod as the real server takes it; `ip` is set afterwards through the status subresource. */
export interface PodSpec {
  readonly labels?: Record<string, string>;
  readonly ip?: string;
  readonly node?: string;
  readonly owner?: KubernetesObject;
  readonly ports?: ReadonlyArray<{ readonly name: string; readonly containerPort: number }>;
}

/** An ownerReference to an object the server returned (its real uid). */
export const ownerRef = (o: KubernetesObject) => ({
  apiVersion: o.apiVersion ?? "",
  kind: o.kind ?? "",
  name: o.metadata?.name ?? "",
  uid: o.metadata?.uid ?? "",
  controller: true,
});

export class KubeApiserver {
  private child: ChildProcess | undefined;
  /** The admin's generic client (create/replace/patch/delete any object). */
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;

  private constructor(readonly dir: string) {
    const kc = this.kubeConfig("admin");
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Starts a new server in a scratch folder; throws when the binaries are not built. */
  static async start(): Promise<KubeApiserver> {
    if (!existsSync(join(BINARIES, "kube-apiserver")))
      throw new Error(`${BINARIES}/kube-apiserver is missing: run scripts/install-deps.sh (it builds it)`);
    const dir = mkdtempSync(join(tmpdir(), "np-kube-"));
    const proc = await KubeApiserver.spawnServer(dir);
    const api = new KubeApiserver(dir);
    api.child = proc;
    return api;
  }

  /** `serve DIR`, resolved once it says ready; its output kept for the error when it is not. */
  private static spawnServer(dir: string): Promise<ChildProcess> {
    const child = spawn(STARTER, ["serve", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const add = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
    child.stdout?.on("data", add);
    child.stderr?.on("data", add);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGTERM");
        reject(new Error(`kube-apiserver not ready after 120 s:\n${log}`));
      }, 120_000);
      child.stdout?.on("data", () => {
        if (log.includes("validate-apiserver: ready on ")) {
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${STARTER} serve exited (${code}) before the server was ready:\n${log}`));
      });
    });
  }

  /** The kubeconfig file of a user: admin, or netpulse (the code under test). */
  kubeconfigPath(user: "admin" | "netpulse"): string {
    return join(this.dir, user === "admin" ? "kubeconfig" : "kubeconfig-netpulse");
  }

  kubeConfig(user: "admin" | "netpulse"): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath(user));
    return kc;
  }

  /** Stops etcd and kube-apiserver (every watch ends, every request is refused), keeping their state. */
  async stop(): Promise<void> {
    await stopChild(this.child, 30_000);
    this.child = undefined;
  }

  /** Starts the same cluster again after stop(): same address, objects and resourceVersions. */
  async restart(): Promise<void> {
    if (this.child !== undefined) await this.stop();
    this.child = await KubeApiserver.spawnServer(this.dir);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Every request of the netpulse user so far (a watch from when its stream started). */
  requests(): AuditedRequest[] {
    const file = join(this.dir, "audit.log");
    if (!existsSync(file)) return [];
    return (
      readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map(
          (l) =>
            JSON.parse(l) as {
              stage: string;
              verb: string;
              requestURI: string;
              objectRef?: { resource?: string };
              responseStatus?: { code?: number };
            },
        )
        // A watch is logged when its stream starts (and again when it ends); anything else when done.
        .filter((e) => e.stage === (e.verb === "watch" ? "ResponseStarted" : "ResponseComplete"))
        .map((e) => ({
          verb: e.verb,
          resource: e.objectRef?.resource ?? "",
          uri: e.requestURI,
          code: e.responseStatus?.code ?? 0,
        }))
    );
  }

  /** How many lists of `resource` the netpulse user made (the informers' first lists and relists). */
  lists(resource: string): number {
    return this.requests().filter((r) => r.verb === "list" && r.resource === resource && r.code === 200).length;
  }

  /**
   * Creates an object (written in the API's JSON shape) as admin; returns it as stored. The client
   * serializes through its typed models, which name some fields differently (a NetworkPolicy
   * peer's `from` is `_from`) and drop what they do not know: loadYaml turns the JSON into the model.
   */
  create<T extends KubernetesObject>(o: T): Promise<T> {
    return this.objects.create(loadYaml<T>(JSON.stringify(o)));
  }

  /** A namespace, created. */
  namespace(name: string, labels: Record<string, string> = {}): Promise<KubernetesObject> {
    return this.create({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
  }

  /** A pod on `node`, then (when `ip` is given) Running with that IP through the status subresource. */
  async pod(namespace: string, name: string, spec: PodSpec = {}): Promise<V1Pod> {
    const created = await this.create<V1Pod>({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace,
        labels: spec.labels ?? {},
        ...(spec.owner === undefined ? {} : { ownerReferences: [ownerRef(spec.owner)] }),
      },
      spec: {
        nodeName: spec.node ?? "node-a",
        containers: [{ name: "c", image: "registry.invalid/app", ports: spec.ports?.map((p) => ({ ...p })) ?? [] }],
      },
    });
    if (spec.ip === undefined) return created;
    return this.core.replaceNamespacedPodStatus({
      name,
      namespace,
      body: { ...created, status: { phase: "Running", podIP: spec.ip, podIPs: [{ ip: spec.ip }] } },
    });
  }

  /** Binds a ClusterRole (created here) to the netpulse user. */
  async grant(role: V1ClusterRole): Promise<void> {
    const name = role.metadata?.name ?? "";
    await this.create(role);
    await this.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${name}-netpulse-user` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "netpulse" }],
    });
  }
}

/** A ClusterRole of the Helm chart (deploy/helm/netpulse, default values) as helm renders it. */
export const chartClusterRole = (name: string): V1ClusterRole => {
  const args = ["template", "netpulse", "deploy/helm/netpulse", "-n", "netpulse"];
  const rendered = execFileSync(".netpulse/bin/helm", args, { encoding: "utf8" });
  const role = parseAllDocuments(rendered)
    .map((d) => d.toJS() as V1ClusterRole | null)
    .find((o) => o?.kind === "ClusterRole" && o.metadata?.name === name);
  if (role === undefined || role === null) throw new Error(`the chart renders no ClusterRole ${name}`);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules: role.rules ?? [],
  };
};
