// Manifest loading (YAML/JSON, multi-document, List) and validation: each invalid object is
// reported with file:line, the object and the field path, and the other objects still load.
import { describe, expect, it } from "vitest";
import { formatIssue, loadManifests, parsePolicy } from "../src/index.js";

const problems = (spec: Record<string, unknown>): string[] => {
  const r = parsePolicy({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "p", namespace: "n" },
    spec,
  });
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

describe("NetworkPolicy validation", () => {
  const peer = (p: unknown) => ({ podSelector: {}, ingress: [{ from: [{ podSelector: {} }, p] }] });
  const port = (p: unknown) => ({ podSelector: {}, ingress: [{ ports: [p] }] });

  it.each([
    ["bad CIDR", peer({ ipBlock: { cidr: "10.0.0/8" } }), "spec.ingress[0].from[1].ipBlock.cidr"],
    ["prefix too long", peer({ ipBlock: { cidr: "fd00::/129" } }), "spec.ingress[0].from[1].ipBlock.cidr"],
    [
      "except outside cidr",
      peer({ ipBlock: { cidr: "10.0.0.0/16", except: ["10.1.0.0/24"] } }),
      "spec.ingress[0].from[1].ipBlock.except[0]",
    ],
    [
      "except equal to cidr",
      peer({ ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.0.0/16"] } }),
      "spec.ingress[0].from[1].ipBlock.except[0]",
    ],
    [
      "except of the other family",
      peer({ ipBlock: { cidr: "10.0.0.0/8", except: ["fd00::/64"] } }),
      "spec.ingress[0].from[1].ipBlock.except[0]",
    ],
    [
      "unknown operator",
      peer({ podSelector: { matchExpressions: [{ key: "a", operator: "Equals", values: ["x"] }] } }),
      "spec.ingress[0].from[1].podSelector.matchExpressions[0].operator",
    ],
    [
      "In without values",
      peer({ namespaceSelector: { matchExpressions: [{ key: "a", operator: "In" }] } }),
      "spec.ingress[0].from[1].namespaceSelector.matchExpressions[0].values",
    ],
    [
      "NotIn with empty values",
      peer({ podSelector: { matchExpressions: [{ key: "a", operator: "NotIn", values: [] }] } }),
      "spec.ingress[0].from[1].podSelector.matchExpressions[0].values",
    ],
    [
      "Exists with values",
      peer({ podSelector: { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] } }),
      "spec.ingress[0].from[1].podSelector.matchExpressions[0].values",
    ],
    ["empty peer", peer({}), "spec.ingress[0].from[1]"],
    ["ipBlock with a selector", peer({ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }), "spec.ingress[0].from[1]"],
    ["port 0", port({ port: 0 }), "spec.ingress[0].ports[0].port"],
    ["port out of range", port({ port: 65536 }), "spec.ingress[0].ports[0].port"],
    ["bad port name", port({ port: "Web_Port" }), "spec.ingress[0].ports[0].port"],
    ["endPort < port", port({ port: 90, endPort: 80 }), "spec.ingress[0].ports[0].endPort"],
    ["endPort with a named port", port({ port: "web", endPort: 90 }), "spec.ingress[0].ports[0].endPort"],
    ["endPort without port", port({ endPort: 90 }), "spec.ingress[0].ports[0].endPort"],
    ["unknown protocol", port({ protocol: "ICMP", port: 1 }), "spec.ingress[0].ports[0].protocol"],
    ["lower-case protocol", port({ protocol: "tcp", port: 1 }), "spec.ingress[0].ports[0].protocol"],
    ["unknown policyType", { podSelector: {}, policyTypes: ["Ingress", "Egres"] }, "spec.policyTypes[1]"],
    ["typo in a rule field", { podSelector: {}, egress: [{ too: [] }] }, "spec.egress[0].too"],
    ["non-string label value", { podSelector: { matchLabels: { v: 1 } } }, "spec.podSelector.matchLabels.v"],
    ["invalid label value", { podSelector: { matchLabels: { app: "my app" } } }, "spec.podSelector.matchLabels.app"],
    [
      "invalid label key",
      peer({ namespaceSelector: { matchExpressions: [{ key: "-bad", operator: "Exists" }] } }),
      "spec.ingress[0].from[1].namespaceSelector.matchExpressions[0].key",
    ],
    [
      "invalid label value in values",
      peer({ podSelector: { matchExpressions: [{ key: "a", operator: "In", values: ["ok", "not ok"] }] } }),
      "spec.ingress[0].from[1].podSelector.matchExpressions[0].values[1]",
    ],
  ])("%s", (_name, spec, path) => {
    const found = problems(spec);
    expect(found.map((f) => f.split(": ")[0])).toContain(path);
  });

  it("accepts the spec's own example and normalizes it", () => {
    const r = parsePolicy({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "test-network-policy", namespace: "default" },
      spec: {
        podSelector: { matchLabels: { role: "db" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: "172.17.0.0/16", except: ["172.17.1.0/24"] } },
              { namespaceSelector: { matchLabels: { project: "myproject" } } },
              { podSelector: { matchLabels: { role: "frontend" } } },
            ],
            ports: [{ protocol: "TCP", port: 6379 }],
          },
        ],
        egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ protocol: "TCP", port: 5978 }] }],
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.key).toBe("default/test-network-policy");
    expect(r.value.ingress[0]!.peers).toHaveLength(3);
    expect(r.value.egress[0]!.ports).toEqual([{ protocol: "TCP", port: 5978, endPort: undefined }]);
  });

  it("host bits in a cidr are accepted (masked), as the API server does", () => {
    expect(
      problems({
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.7/24", except: ["10.0.0.8/30"] } }] }],
      }),
    ).toEqual([]);
  });
});

describe("manifest loading", () => {
  it("reads multi-document YAML, List and v1 List, and JSON; skips other kinds with a note", () => {
    const yaml = `apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: one}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: p1, namespace: a}, status: {podIP: 10.1.0.1}}
- {apiVersion: v1, kind: Service, metadata: {name: s, namespace: a}}
---
`;
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "PodList",
      items: [
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p2" },
          status: { podIPs: [{ ip: "10.1.0.2" }, { ip: "fd00::2" }] },
        },
      ],
    });
    const loaded = loadManifests([
      { file: "a.yaml", text: yaml },
      { file: "b.json", text: json },
    ]);
    expect(loaded.issues).toEqual([]);
    expect(loaded.namespaces.map((n) => n.labels)).toEqual([{ team: "one", "kubernetes.io/metadata.name": "a" }]);
    expect(loaded.pods.map((p) => `${p.namespace}/${p.name} ${p.ips.map((i) => i.text).join(",")}`)).toEqual([
      "a/p1 10.1.0.1",
      "default/p2 10.1.0.2,fd00::2",
    ]);
    expect(loaded.skipped.map(formatIssue)).toEqual([
      "a.yaml:9: Service a/s: kind: Service is not used by policy evaluation, skipped",
    ]);
  });

  it("reports an invalid object with file:line, object and field, and loads the rest", () => {
    const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: good, namespace: db}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: db}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}, {ipBlock: {cidr: 300.0.0.0/8}}]
`;
    const loaded = loadManifests([{ file: "p.yaml", text }]);
    expect(loaded.policies.map((p) => p.key)).toEqual(["db/good"]);
    expect(loaded.issues.map(formatIssue)).toEqual([
      'p.yaml:6: NetworkPolicy db/bad: spec.ingress[0].from[1].ipBlock.cidr: "300.0.0.0/8" is not a valid IP address',
    ]);
  });

  it("reports YAML syntax errors, bad pods and wrong apiVersions per document", () => {
    const text = `kind: Pod
metadata: {name: p, namespace: n}
status: {podIP: 10.0.0.999}
---
kind: NetworkPolicy
apiVersion: extensions/v1beta1
metadata: {name: old}
---
kind: Namespace
metadata: {name: [oops
---
kind: Namespace
metadata: {name: fine}
`;
    const loaded = loadManifests([{ file: "m.yaml", text }]);
    expect(loaded.namespaces.map((n) => n.name)).toEqual(["fine"]);
    const lines = loaded.issues.map(formatIssue);
    expect(lines[0]).toBe('m.yaml:1: Pod n/p: status.podIP: "10.0.0.999" is not a valid IP address');
    expect(lines[1]).toBe(
      'm.yaml:5: NetworkPolicy default/old: apiVersion: "extensions/v1beta1" unsupported (want networking.k8s.io/v1)',
    );
    expect(lines[2]).toMatch(/^m\.yaml:\d+: document 3: not valid YAML\/JSON/);
    expect(lines).toHaveLength(3);
  });
});
