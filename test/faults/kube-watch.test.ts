// The Kubernetes API watch cut, then a 410 Gone, under the whole chain (issue 19): the enricher
// and detector run as processes in informer mode (NETPULSE_KUBECONFIG) against a server speaking
// the real list/watch protocol (test/support/fakeKubeApi.ts) instead of manifest files, on a
// nats-server and a ClickHouse server of the run's own; the synthetic capture streams throughout.
// The cluster: namespace shop, client pods labelled access=db and version=v1, pod db-0, and a
// NetworkPolicy admitting to db-0:5432 only pods labelled access=db (nothing denied at first).
//   1. every watch cut at the TCP level; while they are down client-7 is relabelled version=v2
//      (an event in the server's history): the informers resume their watches from their last
//      resourceVersion and must get it;
//   2. client-8 relabelled version=v3 and stripped of access=db WITHOUT telling the watches (as
//      if those events were lost), then every watch answered 410 Gone (history compacted): the
//      informers must relist, and only the relist can bring client-8's change.
// Checked: both processes listed Pods again after the 410; every flow of client-7 / client-8
// published after the relist carries version=v2 / v3 in ClickHouse (src_labels), and none before
// the change did; a policy_denied for client-8 → db-0 appears and none for any other pod; and
// nothing lost or duplicated (support/run.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeKubeApi } from "../support/fakeKubeApi.js";
import * as k from "../support/kubeObjects.js";
import { until } from "../support/processes.js";
import { clientIp, DB_IP, PAIRS, SLOW_PAIRS } from "./support/cluster.js";
import { FaultRun } from "./support/run.js";
import { sql } from "./support/store.js";

const dir = mkdtempSync(join(tmpdir(), "netpulse-faults-kube-"));
const kubeconfig = join(dir, "kubeconfig");
let api: FakeKubeApi;
let run: FaultRun;

const client = (i: number, labels: Record<string, string>) =>
  k.pod("shop", `client-${i}`, { ip: clientIp(i), node: run.chain.node, labels: { app: `client-${i}`, ...labels } });

const policy = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "db-from-access-db", namespace: "shop", uid: "np-faults" },
  spec: {
    podSelector: { matchLabels: { app: "db-0" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ podSelector: { matchLabels: { access: "db" } } }], ports: [{ port: 5432 }] }],
  },
};

const podLists = () => api.requests.filter((r) => r.kind === "Pod" && !r.watch).length;

beforeAll(async () => {
  api = await FakeKubeApi.start();
  writeFileSync(kubeconfig, api.kubeConfigYaml());
  run = new FaultRun({ bus: "nats", kubeconfig });
  api.apply(k.namespace("shop"));
  api.apply(policy);
  // the pods need the run's node name, known once the FaultRun exists
  api.apply(k.pod("shop", "db-0", { ip: DB_IP, node: run.chain.node, labels: { app: "db-0" } }));
  for (let i = 0; i < PAIRS + SLOW_PAIRS; i++) api.apply(client(i, { access: "db", version: "v1" }));
  await run.up();
}, 240_000);

afterAll(async () => {
  await run?.down();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** version label → flows of `pod`'s IP, split at flow id `mark`. */
const versions = async (i: number, mark: number) =>
  sql(
    run.chain,
    `SELECT flow_id > ${mark} AS after, src_labels.value[indexOf(src_labels.key, 'version')] AS version, count() AS n
     FROM flows WHERE node = '${run.chain.node}' AND src_ip = '${clientIp(i)}'
     GROUP BY after, version ORDER BY after, version`,
  );

describe("the whole chain on informers: watch cut and 410 Gone", () => {
  it("enrichment and the policy audit follow the cluster through a watch cut and a relist; 0 lost, 0 duplicated", async () => {
    const { capture } = run;
    const watchesAtStart = api.openWatches("Pod");
    let changedAt = 0; // the last flow id published before client-8 changed
    let mark = 0; // the last flow id published before both processes had relisted
    let listsBefore = 0;
    await capture.streamFor(30_000, [
      [
        5_000,
        async () => {
          console.log(`[faults kube] ${watchesAtStart} Pod watches open; every watch cut after ${capture.sent} flows`);
          api.dropWatches("abrupt");
          api.apply(client(7, { access: "db", version: "v2" }));
          await until("the Pod watches back", () => api.openWatches("Pod") >= watchesAtStart, 30_000);
        },
      ],
      [
        12_000,
        async () => {
          changedAt = capture.sent;
          listsBefore = podLists();
          api.applySilently(client(8, { version: "v3" }));
          api.expireWatches();
          console.log(
            `[faults kube] client-8 changed unseen, then 410 Gone on every watch, after ${capture.sent} flows`,
          );
          await until("both processes to list Pods again", () => podLists() >= listsBefore + 2, 30_000);
          // a list answered is not yet an index swapped in: a moment for both to apply it
          await new Promise((r) => setTimeout(r, 2_000));
          mark = capture.sent;
          console.log(`[faults kube] Pods relisted ${podLists() - listsBefore} times; marked after ${mark} flows`);
        },
      ],
    ]);
    run.expectExactlyOnce(await run.settled("after the watch cut and the 410"));

    const v7 = await versions(7, mark);
    const v8 = await versions(8, mark);
    const denied = await sql(
      run.chain,
      `SELECT src_pod, dst_pod, count() AS n, min(window_end_ns) AS first FROM anomalies
       WHERE kind = 'policy_denied' GROUP BY src_pod, dst_pod ORDER BY src_pod`,
    );
    console.log(
      `[faults kube] client-7 flows (after = published after the relist): ${JSON.stringify(v7)};` +
        ` client-8: ${JSON.stringify(v8)}; policy_denied: ${JSON.stringify(denied)};` +
        ` Pod lists ${podLists()} (${listsBefore} before the 410), watches open ${api.openWatches("Pod")}`,
    );
    const after = (rows: typeof v7) =>
      rows.filter((r) => Number(r["after"]) === 1).map((r) => ({ version: r["version"], n: Number(r["n"]) }));
    // published after the relist: the new metadata, every one of them
    expect(after(v7)).toEqual([{ version: "v2", n: expect.any(Number) as number }]);
    expect(after(v8)).toEqual([{ version: "v3", n: expect.any(Number) as number }]);
    // and client-8 was v1 before its change: the label came from the relist, not from the start
    const v8before = await sql(
      run.chain,
      `SELECT DISTINCT src_labels.value[indexOf(src_labels.key, 'version')] AS version FROM flows
       WHERE node = '${run.chain.node}' AND src_ip = '${clientIp(8)}' AND flow_id <= ${changedAt}`,
    );
    expect(v8before).toEqual([{ version: "v1" }]);
    // the audit followed too: client-8 lost access=db, so its traffic to db-0 is denied; no one else's
    expect(denied.map((d) => `${String(d["src_pod"])} → ${String(d["dst_pod"])}`)).toEqual(["client-8 → db-0"]);
    expect(podLists()).toBeGreaterThanOrEqual(listsBefore + 2);
  }, 300_000);
});
