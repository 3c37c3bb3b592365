// policy_denied and policy_unprotected through the engine, on a small cluster fed to the real
// PolicyEngine: deciding policies, direction, the nearest rule, episodes per pair and port.
import { describe, expect, it } from "vitest";
import { parsePod } from "@netpulse/policy/parseObjects";
import { parsePolicy } from "@netpulse/policy/parsePolicy";
import { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import { Driver, ep, flow, only, rules } from "./engineFixtures.js";

const IPS: Record<string, string> = {
  "shop/frontend": "10.0.1.1",
  "shop/cart": "10.0.1.2",
  "data/postgres": "10.0.2.1",
  "data/redis": "10.0.2.2",
};

const must = <T>(r: { ok: true; value: T } | { ok: false; issues: unknown }): T => {
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
};

const cluster = (): PolicyEngine => {
  const e = new PolicyEngine();
  for (const [ref, ip] of Object.entries(IPS)) {
    const [namespace, app] = ref.split("/");
    e.upsertPod(
      must(
        parsePod({
          metadata: { namespace, name: `${app}-5d8f7-abcde`, labels: { app } },
          spec: { containers: [{ name: "main", ports: [{ containerPort: app === "postgres" ? 5432 : 80 }] }] },
          status: { podIP: ip },
        }),
      ),
    );
  }
  // postgres admits frontend only, on 5432; redis is isolated by nothing
  e.upsertPolicy(
    must(
      parsePolicy({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { namespace: "data", name: "pg-ingress" },
        spec: {
          podSelector: { matchLabels: { app: "postgres" } },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "frontend" } } }],
              ports: [{ port: 5432 }],
            },
          ],
        },
      }),
    ),
  );
  return e;
};

const pf = (from: string, to: string, port: number, t = 0, o = {}) =>
  flow({ t, from, to, src_ip: IPS[from]!, dst_ip: IPS[to]!, dst_port: port, ...o });

describe("policy_denied", () => {
  it("flags observed traffic the policies deny, naming the policy, the direction and the nearest rule", () => {
    const d = new Driver(only("policy_denied"), cluster());
    expect(d.flows(pf("shop/frontend", "data/postgres", 5432))).toEqual([]);
    const [a] = d.flows(pf("shop/cart", "data/postgres", 5432, 1));
    expect(a).toMatchObject({
      kind: "policy_denied",
      severity: "critical",
      policy_verdict: "denied",
      policy_name: "data/pg-ingress",
      policy_direction: "ingress",
      policy_rule: "data/pg-ingress ingress[0] admits 5432/TCP but not from shop/cart-5d8f7-abcde",
      pair: "data/postgres|shop/cart#5432",
    });
    const [port] = d.flows(pf("shop/frontend", "data/postgres", 6432, 2));
    expect(port).toMatchObject({
      policy_rule: "data/pg-ingress ingress[0] admits shop/frontend-5d8f7-abcde but not 6432/TCP",
      pair: "data/postgres|shop/frontend#6432",
    });
  });

  it("folds repeats of one pair and port into one episode, from either node's record", () => {
    const d = new Driver(only("policy_denied"), cluster());
    d.flows(
      pf("shop/cart", "data/postgres", 5432, 0),
      pf("shop/cart", "data/postgres", 5432, 0, { node: "node-b", direction: "server" }),
      pf("shop/cart", "data/postgres", 5432, 20, { src_port: 999 }),
    );
    expect(d.kinds()).toEqual(["policy_denied:open"]);
    d.tick(1000);
    expect(d.out[1]).toMatchObject({ status: "resolved", count: 2 });
  });

  it("judges by IP when the enricher's pod is unknown to the policies, and not at all without policies", () => {
    const d = new Driver(only("policy_denied"), cluster());
    const f = pf("shop/cart", "data/postgres", 5432, 0, { dst: { ...ep("data/postgres"), pod: "gone-pod" } });
    expect(d.flows(f)).toHaveLength(1);
    expect(new Driver(only("policy_denied"), undefined).flows(f)).toEqual([]);
  });

  it("can be switched off for a namespace by an override, either end", () => {
    const r = rules(`
rules: { rtt_high: { enabled: false }, baseline_deviation: { enabled: false } }
overrides:
  - match: { namespace: shop, workload: cart }
    rules: { policy_denied: { enabled: false } }
`);
    const d = new Driver(r, cluster());
    expect(d.flows(pf("shop/cart", "data/postgres", 5432))).toEqual([]);
    const [a] = d.flows(pf("shop/frontend", "data/postgres", 6432, 1));
    expect(a).toMatchObject({ kind: "policy_denied", rule_id: "policy_denied" });
  });

  it("stays quiet when the rule is off", () => {
    const d = new Driver(only("rtt_high"), cluster());
    expect(d.flows(pf("shop/cart", "data/postgres", 5432))).toEqual([]);
  });
});

describe("policy_unprotected", () => {
  it("flags traffic into pods no ingress policy isolates, once per destination workload and port", () => {
    const d = new Driver(only("policy_unprotected"), cluster());
    const out = d.flows(
      pf("shop/frontend", "data/redis", 80, 0),
      pf("shop/cart", "data/redis", 80, 1),
      pf("shop/frontend", "data/postgres", 5432, 2),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      kind: "policy_unprotected",
      policy_verdict: "no-policy",
      policy_direction: "ingress",
      pair: "data/redis#80",
    });
  });

  it("is off by default", () => {
    const d = new Driver(undefined, cluster());
    expect(d.flows(pf("shop/frontend", "data/redis", 80)).filter((a) => a.kind === "policy_unprotected")).toEqual([]);
  });
});
