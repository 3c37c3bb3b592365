// PolicyEngine as the detector uses it: verdict details (policies and rules), unknown endpoints,
// incremental updates with cache invalidation, and the text explanation.
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { namespaceInfo, parsePod, parsePolicy, PolicyEngine, verdictText, type Policy } from "../src/index.js";
import { gridEngine, policy, verdict } from "./grid.js";

const mustPolicy = (doc: string): Policy => {
  const r = parsePolicy(JSON.parse(doc));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
};

describe("PolicyEngine", () => {
  it("lists every allowing rule of every policy, and the isolating policies on denial", () => {
    const e = gridEngine(
      policy("x", "a1", {
        podSelector: {},
        ingress: [{ ports: [{ port: 1 }] }, { from: [{ namespaceSelector: {} }] }, { ports: [{ port: 80 }] }],
      }),
      policy("x", "b2", { podSelector: { matchLabels: { pod: "a" } }, ingress: [{ from: [{ podSelector: {} }] }] }),
    );
    expect(verdict(e, "x/b", "x/a", 80).ingress).toEqual({
      verdict: "allowed",
      policies: ["x/a1", "x/b2"],
      rules: [
        { policy: "x/a1", rule: 1 },
        { policy: "x/a1", rule: 2 },
        { policy: "x/b2", rule: 0 },
      ],
    });
    expect(verdict(e, "203.0.113.1", "x/a", 81).ingress).toEqual({
      verdict: "denied",
      policies: ["x/a1", "x/b2"],
      rules: [],
    });
    expect(verdict(e, "y/a", "y/b", 80).ingress).toEqual({ verdict: "no-policy", policies: [], rules: [] });
  });

  it("evaluates a pod talking to itself like any other pair", () => {
    const e = gridEngine(
      policy("x", "only-b", {
        podSelector: { matchLabels: { pod: "a" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }],
      }),
    );
    expect(verdict(e, "x/a", "x/a", 80).allowed).toBe(false);
    expect(verdict(e, "x/b", "x/b", 80).allowed).toBe(true);
  });

  it("fails with UnknownEndpoint for a pod that is not there or a malformed reference", () => {
    const e = gridEngine();
    const unknown = e.evaluate({ src: "x/nope", dst: "x/a", port: 80, protocol: "TCP" });
    expect(Either.isLeft(unknown) && unknown.left.message).toBe("unknown pod x/nope");
    const garbage = e.evaluate({ src: "x/a", dst: "not-an-ip", port: 80, protocol: "TCP" });
    expect(Either.isLeft(garbage) && garbage.left.ref).toBe("not-an-ip");
  });

  it("applies pod, namespace and policy changes incrementally and never serves a stale verdict", () => {
    const e = new PolicyEngine();
    const pod = (name: string, labels: Record<string, string>, ip: string) => {
      const r = parsePod({ metadata: { name, namespace: "app", labels }, status: { podIP: ip } });
      if (!r.ok) throw new Error("bad pod");
      return r.value;
    };
    e.upsertNamespace(namespaceInfo("app"));
    e.upsertNamespace(namespaceInfo("ops", { team: "ops" }));
    e.upsertPod(pod("api", { app: "api" }, "10.9.0.1"));
    e.upsertPod(pod("web", { app: "web" }, "10.9.0.2"));
    const probe = { src: "10.9.0.2", dst: "app/api", port: 8080, protocol: "TCP" } as const;
    const allowed = () => Either.getOrThrow(e.evaluate(probe)).allowed;
    expect(allowed()).toBe(true);
    const gen = e.generation;
    e.upsertPolicy(
      mustPolicy(
        policy("app", "api", {
          podSelector: { matchLabels: { app: "api" } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }],
        }),
      ),
    );
    expect(e.generation).toBeGreaterThan(gen);
    expect(allowed()).toBe(true);
    e.upsertPod(pod("web", { app: "web2" }, "10.9.0.2")); // relabel: no longer a permitted peer
    expect(allowed()).toBe(false);
    e.upsertPod(pod("api", { app: "other" }, "10.9.0.1")); // no longer selected: not isolated
    expect(allowed()).toBe(true);
    e.upsertPod(pod("api", { app: "api" }, "10.9.0.1"));
    e.upsertPolicy(
      mustPolicy(
        policy("app", "api", {
          podSelector: { matchLabels: { app: "api" } },
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "dev" } } }] }],
        }),
      ),
    );
    expect(allowed()).toBe(false);
    e.upsertNamespace(namespaceInfo("app", { team: "dev" })); // namespace label change matters for peers
    expect(allowed()).toBe(true);
    e.deletePolicy("app", "api");
    expect(Either.getOrThrow(e.evaluate(probe)).ingress.verdict).toBe("no-policy");
    e.deletePod("app", "web");
    expect(Either.getOrThrow(e.evaluate(probe)).src).toEqual({ kind: "external", ip: "10.9.0.2" });
  });

  it("serves repeated probes from the cache until something changes", () => {
    const e = gridEngine(policy("x", "deny", { podSelector: {} }));
    const p = { src: "y/a", dst: "x/a", port: 80, protocol: "TCP" } as const;
    const first = e.evaluate(p);
    expect(e.evaluate(p)).toBe(first);
    e.upsertNamespace(namespaceInfo("q"));
    expect(e.evaluate(p)).not.toBe(first);
    expect(e.evaluate(p)).toEqual(first);
    expect(e.counts.cachedVerdicts).toBe(1);
    const uncached = new PolicyEngine({ cacheSize: 0 });
    uncached.evaluate({ src: "10.0.0.1", dst: "10.0.0.2", port: 80, protocol: "TCP" });
    expect(uncached.counts.cachedVerdicts).toBe(0);
  });

  it("explains a denial in a sentence naming the deciding policies", () => {
    const e = gridEngine(
      policy("x", "allow-egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: {} }] }],
      }),
      policy("y", "default-deny", { podSelector: {} }),
    );
    const probe = { src: "x/a", dst: "y/b", port: 5432, protocol: "TCP" } as const;
    expect(verdictText(probe, verdict(e, "x/a", "y/b", 5432))).toBe(
      "DENIED: x/a → y/b:5432/TCP — egress allowed by x/allow-egress rule 0; ingress denied: y/b is isolated for ingress by y/default-deny (no rule allows ingress from x/a on 5432/TCP)",
    );
    const ext = { src: "x/b", dst: "192.0.2.9", port: 443, protocol: "TCP" } as const;
    expect(verdictText(ext, verdict(e, "x/b", "192.0.2.9", 443))).toBe(
      "DENIED: x/b → 192.0.2.9 (external):443/TCP — egress denied: x/b is isolated for egress by x/allow-egress (no rule allows egress to 192.0.2.9 (external) on 443/TCP); ingress not applicable (192.0.2.9 is not a pod)",
    );
  });
});

describe("applyWatchEvent", () => {
  it("applies informer events and keeps the last valid version of an object", async () => {
    const { applyWatchEvent } = await import("../src/index.js");
    const e = new PolicyEngine();
    const pod = {
      kind: "Pod",
      metadata: { name: "api", namespace: "app", labels: { app: "api" } },
      status: { podIP: "10.9.0.1" },
    };
    const deny = JSON.parse(policy("app", "deny", { podSelector: {} })) as Record<string, unknown>;
    expect(applyWatchEvent(e, { type: "ADDED", object: pod })).toEqual([]);
    expect(applyWatchEvent(e, { type: "ADDED", object: deny })).toEqual([]);
    const probe = { src: "192.0.2.1", dst: "10.9.0.1", port: 80, protocol: "TCP" } as const;
    expect(Either.getOrThrow(e.evaluate(probe)).allowed).toBe(false);
    const broken = { ...deny, spec: { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] } };
    expect(applyWatchEvent(e, { type: "MODIFIED", object: broken }).map((i) => i.path)).toEqual([
      "spec.ingress[0].ports[0].port",
    ]);
    expect(Either.getOrThrow(e.evaluate(probe)).allowed).toBe(false);
    applyWatchEvent(e, { type: "DELETED", object: { metadata: { name: "deny", namespace: "app" } } }, "NetworkPolicy");
    expect(Either.getOrThrow(e.evaluate(probe)).allowed).toBe(true);
  });
});
