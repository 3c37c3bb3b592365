// The detector's policy audit fed by its informers from a real kube-apiserver and etcd
// (test/support/kubeApiserver.ts), beside the protocol-level fake of detector-informers.test.ts.
// The informers run as a user with exactly the chart's netpulse-detector ClusterRole. The audit
// follows a Namespace's labels (update), a NetworkPolicy's delete and re-create, and a replaced
// Pod, and keeps following after the server is stopped and started again (a relist, seen in the
// server's audit log).
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Option from "effect/Option";
import * as Scope from "effect/Scope";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyEndpoint, type EnrichedFlow } from "@netpulse/runtime/records";
import type { PolicyEngine } from "@netpulse/policy";
import { defaultRules, DetectorEngine } from "@netpulse/detector";
import { policiesFromKube } from "../services/detector/src/live/kubePolicies.js";
import { chartClusterRole, KubeApiserver } from "./support/kubeApiserver.js";
import { until } from "./support/processes.js";
import { rawFlow } from "./support/rawFlow.js";

const policy = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "postgres-from-api", namespace: "data" },
  spec: {
    podSelector: { matchLabels: { app: "postgres" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "api" } } }], ports: [{ port: "pg" }] }],
  },
};

const flow: EnrichedFlow = {
  ...rawFlow({ src_ip: "10.1.0.1", dst_ip: "10.2.0.9", dst_port: 5432, retransmits: 0n, srtt_us: 1_000 }),
  src: { ...emptyEndpoint, kind: "pod", namespace: "shop", pod: "web-0", workload_name: "web" },
  dst: { ...emptyEndpoint, kind: "pod", namespace: "data", pod: "postgres-0", workload_name: "postgres" },
};

// policy_unprotected on too, so "no policy isolates the pod" differs from "a policy allows it".
const rules = {
  ...defaultRules,
  base: { ...defaultRules.base, policy_unprotected: { ...defaultRules.base.policy_unprotected, enabled: true } },
};

/** The policy kinds a fresh engine finds for the flow under the audit's current state. */
const policyKinds = (policies: PolicyEngine) =>
  new DetectorEngine()
    .step({ _tag: "Flows", flows: [flow] }, { rules, policies })
    .filter((a) => a.kind.startsWith("policy_"))
    .map((a) => a.kind);

describe("detector policy audit from informers against a real kube-apiserver", () => {
  let kube: KubeApiserver;
  const scope = Effect.runSync(Scope.make());

  beforeAll(async () => {
    kube = await KubeApiserver.start();
    await kube.grant(chartClusterRole("netpulse-detector"));
  }, 150_000);
  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void));
    await kube?.close();
  });

  it("follows namespace labels, policy deletes and pod replacement, also across a server restart", async () => {
    const steps: string[] = [];
    const shopLabels = (team: string) =>
      kube.objects.patch(
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { team } } },
        undefined,
        undefined,
        undefined,
        undefined,
        "application/merge-patch+json",
      );
    const audit = (what: string, expected: string[]) =>
      until(
        `the audit to say [${expected.join(", ")}] ${what}`,
        () => {
          const got = policyKinds(policies);
          return got.length === expected.length && got.every((k, i) => k === expected[i]);
        },
        30_000,
      ).then(() => steps.push(`${what}: [${expected.join(", ")}]`));

    await kube.namespace("shop", { team: "web" });
    await kube.namespace("data");
    await kube.pod("shop", "web-0", { ip: "10.1.0.1", labels: { app: "web" } });
    await kube.pod("data", "postgres-0", {
      ip: "10.2.0.9",
      labels: { app: "postgres" },
      ports: [{ name: "pg", containerPort: 5432 }],
    });
    await kube.create(policy);

    const policies = await Effect.runPromise(
      policiesFromKube({
        kubeconfig: Option.some(kube.kubeconfigPath("netpulse")),
        backoffBaseMs: 100,
        backoffMaxMs: 500,
      }).pipe(Scope.extend(scope)),
    );

    expect(policyKinds(policies)).toEqual(["policy_denied"]);
    steps.push("listed: [policy_denied]");
    expect(["namespaces", "pods", "networkpolicies"].map((r) => kube.lists(r))).toEqual([1, 1, 1]);

    await shopLabels("api");
    await audit("shop relabelled team=api", []);
    await kube.objects.delete(policy);
    await audit("policy deleted", ["policy_unprotected"]);
    await kube.create(policy);
    await audit("policy created again", []);
    // postgres-0 replaced by a pod without the named port: the policy no longer admits port 5432
    await kube.objects.delete(
      { apiVersion: "v1", kind: "Pod", metadata: { name: "postgres-0", namespace: "data" } },
      undefined,
      undefined,
      0,
    );
    await kube.pod("data", "postgres-0", { ip: "10.2.0.9", labels: { app: "postgres" } });
    await audit("postgres-0 replaced without its named port", ["policy_denied"]);

    const namespaceLists = kube.lists("namespaces");
    await kube.stop();
    await kube.restart();
    await kube.objects.delete(
      { apiVersion: "v1", kind: "Pod", metadata: { name: "postgres-0", namespace: "data" } },
      undefined,
      undefined,
      0,
    );
    await kube.pod("data", "postgres-0", {
      ip: "10.2.0.9",
      labels: { app: "postgres" },
      ports: [{ name: "pg", containerPort: 5432 }],
    });
    await audit("after a server restart, postgres-0 with its named port again", []);
    await shopLabels("web");
    await audit("shop relabelled team=web", ["policy_denied"]);
    await until("namespaces listed again after the restart", () => kube.lists("namespaces") > namespaceLists, 30_000);
    console.log(
      `real server, as the chart's netpulse-detector: ${steps.join("; ")}; namespace lists ${kube.lists("namespaces")}, ` +
        `${kube.requests().length} informer requests audited`,
    );
  }, 240_000);
});
