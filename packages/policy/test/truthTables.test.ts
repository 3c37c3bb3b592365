// Reachability grids over x/y/z × a/b/c for the specification's own examples: default deny and
// allow-all in both directions, selector AND/OR, namespace-scoped podSelector, union of policies.
import { describe, expect, it } from "vitest";
import { ALL, grid, gridEngine, gridWhere, matrix, policy, verdict } from "./grid.js";

const ns = (ref: string): string => ref.split("/")[0]!;
const pod = (ref: string): string => ref.split("/")[1]!;

describe("truth tables (TCP 80)", () => {
  it("no policies: everything is reachable", () => {
    expect(matrix(gridEngine(), 80)).toBe(gridWhere(() => true));
  });

  it("default-deny-ingress in x isolates every x pod, including traffic from itself", () => {
    const e = gridEngine(policy("x", "deny", { podSelector: {} }));
    expect(matrix(e, 80)).toBe(
      grid(`
        .   x/a x/b x/c y/a y/b y/c z/a z/b z/c
        x/a  X   X   X   .   .   .   .   .   .
        x/b  X   X   X   .   .   .   .   .   .
        x/c  X   X   X   .   .   .   .   .   .
        y/a  X   X   X   .   .   .   .   .   .
        y/b  X   X   X   .   .   .   .   .   .
        y/c  X   X   X   .   .   .   .   .   .
        z/a  X   X   X   .   .   .   .   .   .
        z/b  X   X   X   .   .   .   .   .   .
        z/c  X   X   X   .   .   .   .   .   .`),
    );
  });

  it("default-deny-egress in x (policyTypes [Egress]) blocks x as a source only", () => {
    const e = gridEngine(policy("x", "deny-egress", { podSelector: {}, policyTypes: ["Egress"] }));
    expect(matrix(e, 80)).toBe(gridWhere((s) => ns(s) !== "x"));
  });

  it("deny all both ways in y", () => {
    const e = gridEngine(policy("y", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }));
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(s) !== "y" && ns(d) !== "y"));
  });

  it("allow-all ingress (one empty rule) beside a default deny", () => {
    const e = gridEngine(
      policy("x", "deny", { podSelector: {} }),
      policy("x", "allow-all", { podSelector: {}, ingress: [{}] }),
    );
    expect(matrix(e, 80)).toBe(gridWhere(() => true));
  });

  it("allow-all egress without policyTypes still defaults to Ingress and isolates ingress", () => {
    const e = gridEngine(policy("x", "allow-egress", { podSelector: {}, egress: [{}] }));
    expect(matrix(e, 80)).toBe(gridWhere((_s, d) => ns(d) !== "x"));
  });

  it("allow-all egress (one empty rule) beside a default-deny-egress, external destinations too", () => {
    const e = gridEngine(
      policy("x", "deny-egress", { podSelector: {}, policyTypes: ["Egress"] }),
      policy("x", "allow-egress", { podSelector: {}, policyTypes: ["Egress"], egress: [{}] }),
    );
    expect(matrix(e, 80)).toBe(gridWhere(() => true));
    expect(verdict(e, "x/a", "198.51.100.4", 443, "UDP").egress).toEqual({
      verdict: "allowed",
      policies: ["x/allow-egress"],
      rules: [{ policy: "x/allow-egress", rule: 0 }],
    });
  });

  it("stacked policies with overlapping podSelectors: each selected pod gets the union", () => {
    const e = gridEngine(
      policy("y", "a-and-b-from-x", {
        podSelector: { matchExpressions: [{ key: "pod", operator: "In", values: ["a", "b"] }] },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: "x" } } }] }],
      }),
      policy("y", "b-and-c-from-z", {
        podSelector: { matchExpressions: [{ key: "pod", operator: "NotIn", values: ["a"] }] },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: "z" } } }] }],
      }),
    );
    const allowedFrom: Record<string, string[]> = { "y/a": ["x"], "y/b": ["x", "z"], "y/c": ["z"] };
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(d) !== "y" || allowedFrom[d]!.includes(ns(s))));
  });

  it("podSelector alone in a peer means the policy's own namespace", () => {
    const e = gridEngine(
      policy("x", "b-to-a", {
        podSelector: { matchLabels: { pod: "a" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: "b" } } }] }],
      }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => d !== "x/a" || s === "x/b"));
  });

  it("namespaceSelector and podSelector in ONE peer are ANDed", () => {
    const e = gridEngine(
      policy("x", "and", {
        podSelector: { matchLabels: { pod: "a" } },
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { ns: "y" } }, podSelector: { matchLabels: { pod: "b" } } }] },
        ],
      }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => d !== "x/a" || s === "y/b"));
  });

  it("namespaceSelector and podSelector as TWO peers are ORed", () => {
    const e = gridEngine(
      policy("x", "or", {
        podSelector: { matchLabels: { pod: "a" } },
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { ns: "y" } } }, { podSelector: { matchLabels: { pod: "b" } } }],
          },
        ],
      }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => d !== "x/a" || ns(s) === "y" || s === "x/b"));
  });

  it("namespaceSelector {} means every namespace; podSelector {} alone only the own namespace", () => {
    const all = gridEngine(
      policy("x", "all-ns", { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }),
    );
    expect(matrix(all, 80)).toBe(gridWhere(() => true));
    const own = gridEngine(policy("x", "own-ns", { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }));
    expect(matrix(own, 80)).toBe(gridWhere((s, d) => ns(d) !== "x" || ns(s) === "x"));
  });

  it("the kubernetes.io/metadata.name label selects a namespace by name", () => {
    const e = gridEngine(
      policy("y", "from-z", {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "z" } } }] }],
      }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(d) !== "y" || ns(s) === "z"));
  });

  it("matchExpressions: In / NotIn / Exists / DoesNotExist", () => {
    const peer = (expr: Record<string, unknown>) =>
      gridEngine(
        policy("x", "expr", {
          podSelector: { matchLabels: { pod: "c" } },
          ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [expr] } }] }],
        }),
      );
    const expectOnly = (expr: Record<string, unknown>, allowedSrc: (s: string) => boolean) =>
      expect(matrix(peer(expr), 80)).toBe(gridWhere((s, d) => d !== "x/c" || allowedSrc(s)));
    expectOnly({ key: "pod", operator: "In", values: ["a", "b"] }, (s) => pod(s) !== "c");
    expectOnly({ key: "pod", operator: "NotIn", values: ["a"] }, (s) => pod(s) !== "a");
    expectOnly({ key: "tier", operator: "NotIn", values: ["web"] }, () => true); // absent key satisfies NotIn
    expectOnly({ key: "tier", operator: "Exists" }, (s) => pod(s) === "c");
    expectOnly({ key: "tier", operator: "DoesNotExist" }, (s) => pod(s) !== "c");
    const nsExpr = gridEngine(
      policy("x", "ns-expr", {
        podSelector: {},
        ingress: [
          { from: [{ namespaceSelector: { matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] } }] },
        ],
      }),
    );
    expect(matrix(nsExpr, 80)).toBe(gridWhere((s, d) => ns(d) !== "x" || ns(s) !== "x"));
  });

  it("policies are additive: two policies each allowing one source allow both", () => {
    const e = gridEngine(
      policy("z", "from-x", {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: "x" } } }] }],
      }),
      policy("z", "from-y-a", {
        podSelector: {},
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { ns: "y" } }, podSelector: { matchLabels: { pod: "a" } } }] },
        ],
      }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(d) !== "z" || ns(s) === "x" || s === "y/a"));
  });

  it("a policy only applies in its own namespace", () => {
    const e = gridEngine(policy("y", "deny-a", { podSelector: { matchLabels: { pod: "a" } } }));
    expect(matrix(e, 80)).toBe(gridWhere((_s, d) => d !== "y/a"));
  });

  it("egress needs the source's egress AND the destination's ingress", () => {
    const e = gridEngine(
      policy("x", "egress-to-y", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: "y" } } }] }],
      }),
      policy("y", "deny-b", { podSelector: { matchLabels: { pod: "b" } } }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => d !== "y/b" && (ns(s) !== "x" || ns(d) === "y")));
  });

  it("policyTypes [Egress] ignores ingress rules; [Ingress] ignores egress rules", () => {
    const e = gridEngine(
      policy("x", "egress-only", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
      }),
      policy("y", "ingress-only", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Ingress"],
        ingress: [{}],
        egress: [{ to: [{ podSelector: {} }] }],
      }),
    );
    // x/a can send nowhere (no egress rules) but anyone may reach it; y/a is unrestricted.
    expect(matrix(e, 80)).toBe(gridWhere((s) => s !== "x/a"));
  });

  it("an empty egress list without policyTypes does not make an Egress policy", () => {
    const e = gridEngine(policy("x", "empty-egress", { podSelector: {}, egress: [] }));
    expect(matrix(e, 80)).toBe(gridWhere((_s, d) => ns(d) !== "x"));
  });

  it("explicit empty policyTypes falls back to the defaults", () => {
    const e = gridEngine(
      policy("x", "types-empty", { podSelector: {}, policyTypes: [], egress: [{ to: [{ podSelector: {} }] }] }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(d) !== "x" && (ns(s) !== "x" || ns(d) === "x")));
  });

  it("covers every pair of the grid", () => {
    expect(ALL).toHaveLength(9);
  });
});
