// `netpulse enrich` as a user runs it: the real CLI entry point (through tsx, sources), manifests
// and a JSON-lines file of raw flows in, enriched JSON lines out; bad input → one line, exit 2.
import { join } from "node:path";
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseEnrichedFlowJson, toJsonLine } from "@netpulse/runtime/codec/json";
import { rawFlow } from "./support/rawFlow.js";
import * as k from "./support/kubeObjects.js";
import { netpulseCli, scratchFiles } from "./support/cli.js";

const { dir, file } = scratchFiles("netpulse-enrich-cli-");
const netpulse = netpulseCli();

const manifests = file(
  "cluster.yaml",
  stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      k.replicaSet("shop", "web-5d", "web"),
      k.pod("shop", "web-5d-a", {
        ip: "10.1.0.1",
        node: "node-a",
        owner: { kind: "ReplicaSet", name: "web-5d" },
        labels: { app: "web", team: "x" },
      }),
      k.service("shop", "db", "10.96.0.9"),
    ],
  }),
);

describe("netpulse enrich", () => {
  it("prints one enriched line per raw line, in order", () => {
    const flows = [
      rawFlow({ flow_id: 2n ** 62n + 1n, dst_ip: "10.96.0.9" }),
      rawFlow({ flow_id: 7n, src_ip: "10.1.0.1", dst_ip: "52.1.2.3", bytes_sent: 2n ** 63n - 1n }),
    ];
    const input = file("flows.jsonl", flows.map((f) => toJsonLine(f)).join("\n") + "\n\n");
    const r = netpulse(
      "enrich",
      "--manifests",
      manifests,
      "--input",
      input,
      "--output",
      "jsonl",
      "--external-cidrs",
      "aws=52.0.0.0/8,internet=0.0.0.0/0",
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    const out = lines.map((l, i) => Either.getOrThrow(parseEnrichedFlowJson(l, `out:${i + 1}`)));
    expect(out[0]).toMatchObject({
      flow_id: 2n ** 62n + 1n,
      src: {
        kind: "pod",
        pod: "web-5d-a",
        namespace: "shop",
        node: "node-a",
        workload_kind: "Deployment",
        workload_name: "web",
        labels: { app: "web" },
      },
      dst: { kind: "service", service: "db", namespace: "shop" },
    });
    expect(out[1]).toMatchObject({
      flow_id: 7n,
      bytes_sent: 2n ** 63n - 1n,
      dst: { kind: "external", external_name: "aws" },
    });
  });

  it("names the file, line and field of a bad line, exit 2", () => {
    const good = toJsonLine(rawFlow());
    const bad = toJsonLine({ ...rawFlow(), src_port: "eighty" });
    const input = file("bad.jsonl", `${good}\n${good}\n${bad}\n`);
    const r = netpulse("enrich", "--manifests", manifests, "--input", input);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${input}:3`);
    expect(r.stderr).toContain("src_port");
  });

  it("refuses bad manifests and unknown output formats, exit 2", () => {
    const input = file("one.jsonl", toJsonLine(rawFlow()) + "\n");
    const broken = file("broken.yaml", "kind: Pod\nmetadata: [\n");
    const r1 = netpulse("enrich", "--manifests", broken, "--input", input);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain(broken);
    const r2 = netpulse("enrich", "--manifests", manifests, "--input", input, "--output", "csv");
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--output: "csv" must be jsonl/);
    const r3 = netpulse("enrich", "--manifests", manifests, "--input", join(dir, "missing.jsonl"));
    expect(r3.status).toBe(2);
    expect(r3.stderr).toMatch(/--input .*missing.jsonl: cannot read \(ENOENT\)/);
  });
});
