// Static manifests as the enricher's metadata source: formats, errors, reload on change.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { encodeEndpoint } from "../services/enricher/src/enrich/endpointType.js";
import { MetadataIndex } from "../services/enricher/src/index/MetadataIndex.js";
import { runManifestSource } from "@netpulse/kube/manifests/ManifestSource";
import { loadManifests } from "@netpulse/kube/manifests/loadManifests";
import * as k from "./support/kubeObjects.js";
import { until } from "./support/processes.js";

const waitFor = (what: string, cond: () => boolean, timeoutMs = 10_000) => until(what, cond, timeoutMs);

const list = (...items: unknown[]) => ({ apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items });
const yamlDocs = (...docs: unknown[]) => docs.map((d) => stringify(d)).join("---\n");

describe("static manifests", () => {
  let dir: string;
  let index: MetadataIndex;
  let scope: Scope.CloseableScope | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "netpulse-manifests-"));
    index = new MetadataIndex({
      graceMs: 60_000,
      cidrs: [{ name: "internet", cidr: "0.0.0.0/0" }],
      encoder: encodeEndpoint,
    });
  });
  afterEach(async () => {
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void));
    scope = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (files: string[], watch: boolean) => {
    scope = Effect.runSync(Scope.make());
    return Effect.runPromise(
      runManifestSource({ files, labelKeys: ["app"], watch }, (e) => index.apply(e, Date.now())).pipe(
        Scope.extend(scope),
      ),
    );
  };
  const ep = (ip: string, t = Date.now()) => index.resolve(ip, t).endpoint();

  it("reads kubectl List output, multi-document YAML and JSON with the same result", async () => {
    const kubectl = join(dir, "kubectl.yaml");
    writeFileSync(
      kubectl,
      stringify(
        list(
          k.namespace("shop"),
          k.replicaSet("shop", "web-5d", "web"),
          k.pod("shop", "web-5d-a", {
            ip: "10.1.0.1",
            owner: { kind: "ReplicaSet", name: "web-5d" },
            labels: { app: "web" },
          }),
        ),
      ),
    );
    const multi = join(dir, "multi.yaml");
    writeFileSync(
      multi,
      yamlDocs(
        k.job("batch", "nightly-1", "nightly"),
        k.pod("batch", "nightly-1-x", { ip: "10.1.0.2", owner: { kind: "Job", name: "nightly-1" } }),
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "ignored", namespace: "shop" } },
      ),
    );
    const json = join(dir, "more.json");
    writeFileSync(json, JSON.stringify(list(k.service("shop", "web", "10.96.0.5"), k.node("node-a", "192.168.0.2"))));

    await start([kubectl, multi, json], false);
    expect(ep("10.1.0.1")).toMatchObject({
      pod: "web-5d-a",
      namespace: "shop",
      workload_kind: "Deployment",
      workload_name: "web",
      labels: { app: "web" },
    });
    expect(ep("10.1.0.2")).toMatchObject({ workload_kind: "CronJob", workload_name: "nightly" });
    expect(ep("10.96.0.5")).toMatchObject({ kind: "service", service: "web" });
    expect(ep("192.168.0.2")).toMatchObject({ kind: "node", node: "node-a" });
    expect(index.sizes()).toMatchObject({ Pod: 2, Namespace: 1, ReplicaSet: 1, Job: 1, Service: 1, Node: 1 });
  });

  it("names the file and line or document of bad input", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "kind: Pod\nmetadata:\n  name: [unclosed\n");
    const e1 = await Effect.runPromise(Effect.flip(loadManifests([bad], [])));
    expect(e1.message).toMatch(new RegExp(`^${bad}:\\d+: `));

    const nokind = join(dir, "nokind.yaml");
    writeFileSync(nokind, yamlDocs(k.namespace("a"), { metadata: { name: "x" } }));
    const e2 = await Effect.runPromise(Effect.flip(loadManifests([nokind], [])));
    expect(e2.message).toBe(`${nokind} document 2: missing "kind"`);

    const e3 = await Effect.runPromise(Effect.flip(loadManifests([join(dir, "absent.yaml")], [])));
    expect(e3.message).toMatch(/cannot read .*absent.yaml: ENOENT/);
  });

  it("reloads on change: IP reuse, owner change, deletions; a broken edit keeps the previous objects", async () => {
    const file = join(dir, "cluster.yaml");
    const write = (text: string) => {
      // Replace by rename, as editors and kubectl redirections to a temp file do.
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    write(
      yamlDocs(
        k.pod("shop", "old", { ip: "10.2.0.1" }),
        k.pod("shop", "api-1", { ip: "10.2.0.2", owner: { kind: "ReplicaSet", name: "api-rs" } }),
      ),
    );
    await start([file], true);
    expect(ep("10.2.0.1").pod).toBe("old");
    expect(ep("10.2.0.2").workload_kind).toBe("ReplicaSet");

    const beforeReload = Date.now() - 1;
    await new Promise((r) => setTimeout(r, 20));
    write(
      yamlDocs(
        k.pod("shop", "new", { ip: "10.2.0.1", created: new Date(Date.now()).toISOString() }),
        k.pod("shop", "api-1", { ip: "10.2.0.2", owner: { kind: "ReplicaSet", name: "api-rs" } }),
        k.replicaSet("shop", "api-rs", "api"),
      ),
    );
    await waitFor("reload", () => ep("10.2.0.2").workload_kind === "Deployment");
    expect(ep("10.2.0.1", Date.now() + 1000).pod).toBe("new");
    expect(ep("10.2.0.1", beforeReload).pod).toBe("old");

    write("kind: Pod\nmetadata: [broken\n");
    await new Promise((r) => setTimeout(r, 600));
    expect(ep("10.2.0.2").workload_name).toBe("api");
    write(yamlDocs(k.replicaSet("shop", "api-rs", "api")));
    await waitFor("pods removed", () => index.sizes().Pod === 0);
    expect(ep("10.2.0.2", Date.now() + 1000).kind).toBe("external");
  });
});
