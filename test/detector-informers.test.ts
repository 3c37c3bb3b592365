// The detector's policy audit fed by informers (@netpulse/kube) from a server speaking the real
// list/watch protocol: a flow the NetworkPolicy in force denies gives policy_denied; after the
// watch is cut with a 410 (relist) and a namespace's labels change to what the policy admits,
// the audit follows and the same traffic is allowed.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Option from "effect/Option";
import * as Scope from "effect/Scope";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyEndpoint, type EnrichedFlow } from "@netpulse/runtime/records";
import type { PolicyEngine } from "@netpulse/policy";
import { defaultRules, DetectorEngine } from "@netpulse/detector";
import { policiesFromKube } from "../services/detector/src/live/kubePolicies.js";
import { FakeKubeApi } from "./support/fakeKubeApi.js";
import * as k from "./support/kubeObjects.js";
import { until } from "./support/processes.js";
import { rawFlow } from "./support/rawFlow.js";

const policy = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "postgres-from-api", namespace: "data", uid: "np-1" },
  spec: {
    podSelector: { matchLabels: { app: "postgres" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "api" } } }], ports: [{ port: 5432 }] }],
  },
};

const flow: EnrichedFlow = {
  ...rawFlow({ src_ip: "10.1.0.1", dst_ip: "10.2.0.9", dst_port: 5432, retransmits: 0n, srtt_us: 1_000 }),
  src: { ...emptyEndpoint, kind: "pod", namespace: "shop", pod: "web-0", workload_name: "web" },
  dst: { ...emptyEndpoint, kind: "pod", namespace: "data", pod: "postgres-0", workload_name: "postgres" },
};

/** The policy kinds a fresh engine finds for the flow under the audit's current state. */
const policyKinds = (policies: PolicyEngine) =>
  new DetectorEngine()
    .step({ _tag: "Flows", flows: [flow] }, { rules: defaultRules, policies })
    .filter((a) => a.kind.startsWith("policy_"))
    .map((a) => a.kind);

describe("detector policy audit from informers", () => {
  let api: FakeKubeApi;
  let scope: Scope.CloseableScope;
  const dir = mkdtempSync(join(tmpdir(), "netpulse-detector-kube-"));

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    scope = Effect.runSync(Scope.make());
  });
  afterEach(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void));
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("flags denied traffic, relists after a 410 and follows label changes", async () => {
    api.apply(k.namespace("shop", { team: "web" }));
    api.apply(k.namespace("data"));
    api.apply(k.pod("shop", "web-0", { ip: "10.1.0.1", labels: { app: "web" } }));
    api.apply(k.pod("data", "postgres-0", { ip: "10.2.0.9", labels: { app: "postgres" } }));
    api.apply(policy);
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, api.kubeConfigYaml());

    const policies = await Effect.runPromise(
      policiesFromKube({ kubeconfig: Option.some(kubeconfig), backoffBaseMs: 50, backoffMaxMs: 200 }).pipe(
        Scope.extend(scope),
      ),
    );
    expect(policyKinds(policies)).toEqual(["policy_denied"]);

    api.expireWatches();
    api.apply(k.namespace("shop", { team: "api" }));
    await until("the audit to see shop's new labels", () => policyKinds(policies).length === 0, 15_000);
    // the relist really happened: namespaces were listed again after the 410
    expect(api.requests.filter((r) => r.kind === "Namespace" && !r.watch).length).toBeGreaterThan(1);
  });
});
