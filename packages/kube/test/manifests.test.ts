// The shared manifest walk (documents, Lists, JSON arrays, lines, syntax errors) and the slim
// forms built from what it finds.
import { describe, expect, it } from "vitest";
import { parseManifestText, slim, walkManifests, ManifestError, type SlimNetworkPolicy } from "@netpulse/kube";

const text = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: a, namespace: shop, labels: {app: web, tier: front}}
    status: {podIP: 10.0.0.1}
  - kind: PodList
    items:
      - kind: Pod
        metadata: {name: b, namespace: shop}
---
---
[{"kind": "Node", "metadata": {"name": "n1"}}]
`;

describe("walkManifests", () => {
  it("flattens documents, Lists at any depth and JSON arrays, each object with its line and place", () => {
    const entries = walkManifests(text);
    expect(entries.map((e) => e.type === "object" && [e.where, e.line])).toEqual([
      ["document 1", 1],
      ["document 2 item 0", 8],
      ["document 2 item 1 item 0", 14],
      ["document 3", 16],
      ["document 4 item 0", 18],
    ]);
    expect(entries[3]).toMatchObject({ type: "object", value: null });
  });

  it("reports a document that is not YAML with its line, and keeps walking", () => {
    const entries = walkManifests("kind: Namespace\nmetadata: {name: a}\n---\nkind: [unclosed\n---\nkind: Pod\n");
    expect(entries.map((e) => e.type)).toEqual(["object", "syntax", "object"]);
    expect(entries[1]).toMatchObject({ type: "syntax", where: "document 2" });
    expect(entries[1]?.line).toBeGreaterThanOrEqual(4);
  });
});

describe("parseManifestText", () => {
  it("slims what the walk finds, with the labels asked for", () => {
    const objs = parseManifestText(text, "m.yaml", ["app"]);
    expect(objs).not.toBeInstanceOf(ManifestError);
    expect((objs as ReturnType<typeof slim>[]).map((o) => `${o?.kind}/${o?.metadata.name}`)).toEqual([
      "Namespace/shop",
      "Pod/a",
      "Pod/b",
      "Node/n1",
    ]);
    const all = parseManifestText(text, "m.yaml", { labelKeys: "all" }) as ReturnType<typeof slim>[];
    expect(all[1]).toMatchObject({ kind: "Pod", labels: { app: "web", tier: "front" } });
  });

  it("fails with file:line on bad YAML and names the document of an object without kind", () => {
    const bad = parseManifestText("kind: [x\n", "bad.yaml", []);
    expect(bad).toBeInstanceOf(ManifestError);
    expect((bad as ManifestError).message).toMatch(/^bad\.yaml:\d+: /);
    const nokind = parseManifestText("kind: Namespace\nmetadata: {name: a}\n---\nmetadata: {name: b}\n", "k.yaml", []);
    expect((nokind as ManifestError).message).toBe('k.yaml document 2: missing "kind"');
  });
});

describe("slim NetworkPolicy", () => {
  it("keeps the spec as plain JSON and drops managedFields and annotations", () => {
    // What a typed list response holds: Date objects and keys set to undefined.
    const typed = {
      kind: "NetworkPolicy",
      metadata: {
        name: "p",
        namespace: "db",
        creationTimestamp: new Date(0),
        annotations: { a: "b" },
        managedFields: [{}],
        labels: { team: "x" },
      },
      spec: {
        podSelector: {},
        ingress: [{ from: undefined, ports: [{ port: 5432, protocol: "TCP", endPort: undefined }] }],
      },
    };
    const s = slim(typed, []) as SlimNetworkPolicy;
    expect(s).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: "db", labels: { team: "x" }, uid: "" },
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 5432, protocol: "TCP" }] }] },
    });
  });
});
