// A 3-node cluster as a target of the bus contract suite (test/bus-contract.test.ts): the bus
// dials all three nodes with replicas 3, and the suite's "broker restart" is a kill -9 of a random
// node, started again at once (`scripts/services.sh up --cluster` brings back the missing node).
// On Kafka, provision returns once every broker knows the new topic (support/kafkaTopics.ts).
import * as Effect from "effect/Effect";
import { busLayer, type BusTarget } from "../../support/busHarness.js";
import { provisionEverywhere } from "./kafkaTopics.js";
import { NODES, type LocalCluster } from "./localCluster.js";

export const clusterTarget = (cluster: () => LocalCluster, kind: LocalCluster["kind"]): BusTarget => ({
  name: `${kind} cluster of 3 (replicas 3)`,
  kind,
  layer: () => {
    const layer = busLayer(kind, { urls: cluster().urls, replicas: 3 });
    return kind === "kafka" ? provisionEverywhere(layer, cluster().urls.split(",")) : layer;
  },
  restart: () =>
    Effect.tryPromise({
      try: async () => {
        const node = NODES[Math.floor(Math.random() * NODES.length)]!;
        const pid = await cluster().kill9(node);
        const t = Date.now();
        await cluster().up();
        console.log(
          `[clusters ${kind}] contract restart: kill -9 of ${kind}-${node} (pid ${pid}), back in ${Date.now() - t} ms`,
        );
      },
      catch: (e) => (e instanceof Error ? e : new Error(String(e))),
    }),
});
