// Ports (numeric, named on both directions, endPort, protocols) and ipBlocks (except, IPv4,
// IPv6, IPv4-mapped, pod IPs), plus external endpoints and hostNetwork pods.
import { describe, expect, it } from "vitest";
import { loadManifests, engineFromManifests } from "../src/index.js";
import { GRID_YAML, gridEngine, gridWhere, matrix, policy, v4, v6, verdict } from "./grid.js";

const ns = (ref: string): string => ref.split("/")[0]!;
const denyX = policy("x", "deny", { podSelector: {} });

describe("ports", () => {
  const onlyPorts = (ports: unknown[]) =>
    gridEngine(denyX, policy("x", "ports", { podSelector: {}, ingress: [{ ports }] }));

  it("a numeric port allows that port only, TCP by default", () => {
    const e = onlyPorts([{ port: 81 }]);
    expect(matrix(e, 81)).toBe(gridWhere(() => true));
    expect(matrix(e, 80)).toBe(gridWhere((_s, d) => ns(d) !== "x"));
    expect(verdict(e, "y/a", "x/a", 81, "UDP").allowed).toBe(false);
  });

  it("a rule without ports allows every port and protocol; a rule without from allows external sources", () => {
    const e = gridEngine(denyX, policy("x", "any", { podSelector: {}, ingress: [{}] }));
    for (const proto of ["TCP", "UDP", "SCTP"] as const)
      expect(verdict(e, "y/a", "x/a", 9999, proto).allowed).toBe(true);
    const ext = verdict(e, "203.0.113.7", "x/a", 443);
    expect(ext.allowed).toBe(true);
    expect(ext.egress.verdict).toBe("no-policy");
    expect(ext.ingress).toEqual({ verdict: "allowed", policies: ["x/any"], rules: [{ policy: "x/any", rule: 0 }] });
  });

  it("a protocol without a port allows every port of that protocol", () => {
    const e = onlyPorts([{ protocol: "UDP" }]);
    expect(verdict(e, "y/a", "x/a", 53, "UDP").allowed).toBe(true);
    expect(verdict(e, "y/a", "x/a", 40000, "UDP").allowed).toBe(true);
    expect(verdict(e, "y/a", "x/a", 53, "TCP").allowed).toBe(false);
  });

  it("UDP and SCTP ports are matched with their protocol", () => {
    const e = onlyPorts([
      { protocol: "UDP", port: 53 },
      { protocol: "SCTP", port: 80 },
    ]);
    expect(matrix(e, 53, "UDP")).toBe(gridWhere(() => true));
    expect(matrix(e, 53, "TCP")).toBe(gridWhere((_s, d) => ns(d) !== "x"));
    expect(matrix(e, 80, "SCTP")).toBe(gridWhere(() => true));
    expect(matrix(e, 80, "TCP")).toBe(gridWhere((_s, d) => ns(d) !== "x"));
  });

  it("endPort is an inclusive range", () => {
    const e = onlyPorts([{ port: 80, endPort: 82 }]);
    const ok = (port: number) => verdict(e, "y/a", "x/a", port).allowed;
    expect([79, 80, 81, 82, 83].map(ok)).toEqual([false, true, true, true, false]);
  });

  it("ingress named ports resolve on each destination pod (same name, different numbers)", () => {
    const e = onlyPorts([{ port: "web" }]);
    // x/a and x/c serve web on 80, x/b on 8080.
    expect(verdict(e, "y/a", "x/a", 80).allowed).toBe(true);
    expect(verdict(e, "y/a", "x/a", 8080).allowed).toBe(false);
    expect(verdict(e, "y/a", "x/b", 8080).allowed).toBe(true);
    expect(verdict(e, "y/a", "x/b", 80).allowed).toBe(false);
    expect(matrix(e, 80)).toBe(gridWhere((_s, d) => ns(d) !== "x" || d !== "x/b"));
  });

  it("a named port needs the container port's protocol to match the rule's", () => {
    const tcpDns = onlyPorts([{ port: "dns" }]); // dns is 53/UDP in the pods, the rule says TCP
    expect(verdict(tcpDns, "y/a", "x/a", 53, "TCP").allowed).toBe(false);
    expect(verdict(tcpDns, "y/a", "x/a", 53, "UDP").allowed).toBe(false);
    const udpDns = onlyPorts([{ port: "dns", protocol: "UDP" }]);
    expect(verdict(udpDns, "y/a", "x/a", 53, "UDP").allowed).toBe(true);
    const sig = onlyPorts([{ port: "sig", protocol: "SCTP" }]);
    expect(verdict(sig, "y/a", "x/a", 80, "SCTP").allowed).toBe(true);
    expect(verdict(sig, "y/a", "x/a", 80, "TCP").allowed).toBe(false);
  });

  it("egress named ports resolve on the destination pod; external destinations never match them", () => {
    const e = gridEngine(
      policy("x", "egress-web", {
        podSelector: { matchLabels: { pod: "a" } },
        policyTypes: ["Egress"],
        egress: [{ ports: [{ port: "web" }] }],
      }),
    );
    expect(verdict(e, "x/a", "y/a", 80).allowed).toBe(true);
    expect(verdict(e, "x/a", "y/b", 80).allowed).toBe(false);
    expect(verdict(e, "x/a", "y/b", 8080).allowed).toBe(true);
    expect(verdict(e, "x/a", v4("z", "c"), 80).allowed).toBe(true); // a pod IP is that pod
    const ext = verdict(e, "x/a", "198.51.100.1", 80);
    expect(ext.allowed).toBe(false);
    expect(ext.egress).toEqual({ verdict: "denied", policies: ["x/egress-web"], rules: [] });
    expect(ext.ingress.verdict).toBe("no-policy");
  });
});

describe("ipBlock", () => {
  it("cidr with except (IPv4), matched against pod IPs", () => {
    // 10.0.0.0/16 holds every pod; except y's 10.0.2.0/24.
    const e = gridEngine(
      policy("x", "egress-cidr", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.2.0/24"] } }] }],
      }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(s) !== "x" || ns(d) !== "y"));
    expect(verdict(e, "x/a", "10.0.200.1", 80).allowed).toBe(true);
    expect(verdict(e, "x/a", "10.1.0.1", 80).allowed).toBe(false);
  });

  it("a /32 of a pod's IP allows exactly that pod", () => {
    const e = gridEngine(
      denyX,
      policy("x", "from-y-b", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: `${v4("y", "b")}/32` } }] }] }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(d) !== "x" || s === "y/b"));
  });

  it("0.0.0.0/0 allows every IPv4 source, pods and external", () => {
    const e = gridEngine(
      denyX,
      policy("x", "world", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] }),
    );
    expect(matrix(e, 80)).toBe(gridWhere(() => true));
    expect(verdict(e, "192.0.2.1", "x/c", 80).allowed).toBe(true);
    expect(verdict(e, "2001:db8::1", "x/c", 80).allowed).toBe(false); // IPv6 is another family
  });

  it("IPv6 cidr and except; a pod given by name uses its IP of the other end's family", () => {
    const e = gridEngine(
      denyX,
      policy("x", "v6", {
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: "fd00::/64", except: ["fd00::2:0/112"] } }] }],
      }),
    );
    expect(verdict(e, v6("z", "a"), "x/a", 80).allowed).toBe(true);
    expect(verdict(e, v6("y", "a"), "x/a", 80).allowed).toBe(false);
    expect(verdict(e, "z/a", v6("x", "a"), 80).allowed).toBe(true); // z/a sends from fd00::3:1
    expect(verdict(e, "z/a", "x/a", 80).allowed).toBe(false); // primary family is IPv4
    expect(verdict(e, "fd00:1::1", "x/a", 80).allowed).toBe(false);
  });

  it("IPv4-mapped IPv6 addresses and CIDRs are their IPv4 equivalents", () => {
    const e = gridEngine(
      denyX,
      policy("x", "mapped", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "::ffff:10.0.3.0/120" } }] }] }),
    );
    expect(matrix(e, 80)).toBe(gridWhere((s, d) => ns(d) !== "x" || ns(s) === "z"));
    const probe = verdict(e, `::ffff:${v4("z", "b")}`, "x/a", 80);
    expect(probe.src).toEqual({ kind: "pod", ref: "z/b", ip: v4("z", "b"), hostNetwork: false });
    expect(probe.allowed).toBe(true);
  });
});

describe("hostNetwork pods", () => {
  const hostPod = `
apiVersion: v1
kind: Pod
metadata: {name: h, namespace: x, labels: {pod: h}}
spec: {hostNetwork: true, containers: [{name: agent, ports: [{name: metrics, containerPort: 9100}]}]}
status: {podIP: 192.168.0.10}`;
  const engine = (...policies: string[]) => {
    const loaded = loadManifests([{ file: "t.yaml", text: [GRID_YAML, hostPod, ...policies].join("\n---\n") }]);
    expect(loaded.issues).toEqual([]);
    return engineFromManifests(loaded);
  };

  it("are not isolated by policies selecting every pod of their namespace", () => {
    const e = engine(policy("x", "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }));
    const to = verdict(e, "y/a", "x/h", 9100);
    expect(to.ingress.verdict).toBe("no-policy");
    expect(to.allowed).toBe(true);
    expect(verdict(e, "x/h", "y/a", 80).egress.verdict).toBe("no-policy");
  });

  it("are node traffic for peers: pod selectors don't match them, ipBlocks of the node do", () => {
    const sel = engine(
      denyX,
      policy("x", "from-pods", {
        podSelector: {},
        ingress: [{ from: [{ podSelector: {} }, { namespaceSelector: {} }] }],
      }),
    );
    expect(verdict(sel, "x/h", "x/a", 80).allowed).toBe(false);
    expect(verdict(sel, "192.168.0.10", "x/a", 80).allowed).toBe(false);
    expect(verdict(sel, "x/b", "x/a", 80).allowed).toBe(true);
    const nodes = engine(
      denyX,
      policy("x", "from-nodes", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "192.168.0.0/24" } }] }] }),
    );
    expect(verdict(nodes, "x/h", "x/a", 80).allowed).toBe(true);
  });
});
