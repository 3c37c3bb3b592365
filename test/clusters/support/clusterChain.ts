// The fault suite's chain (test/faults/support/chain.ts: enricher, detector and sink as processes
// through their real entry points, a ClickHouse of the run's own) on a 3-node cluster instead of a
// single broker: the services get the cluster's NETPULSE_* env (all three URLs, replicas 3), as
// `scripts/services.sh up --cluster` prints it, and provision every topic at 3 copies. The topics
// are created before the services start, as a deployment would, and on Kafka only once every
// broker knows them (support/kafkaTopics.ts says why).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as ManagedRuntime from "effect/ManagedRuntime";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { TopicSpecs } from "@netpulse/runtime/topics";
import { isolatedServices } from "../../../services/sink/test/harness.js";
import { busFromEnv } from "../../support/busHarness.js";
import { freePort } from "../../support/processes.js";
import { Chain } from "../../faults/support/chain.js";
import { manifests, rules } from "../../faults/support/cluster.js";
import { provisionEverywhere } from "./kafkaTopics.js";
import type { LocalCluster } from "./localCluster.js";

export class ClusterChain extends Chain {
  constructor(readonly cluster: LocalCluster) {
    super({ bus: cluster.kind });
  }

  /** Chain.up with the cluster as the bus: only ClickHouse comes from isolatedServices. */
  override async up(): Promise<void> {
    this.services = await isolatedServices();
    this.services.up("clickhouse");
    this.files = { manifests: join(this.services.dir, "cluster.yaml"), rules: join(this.services.dir, "rules.yaml") };
    writeFileSync(this.files.manifests, manifests(this.node));
    writeFileSync(this.files.rules, rules);
    this.env = this.cluster.busEnv;
    const bus = busFromEnv(this.env);
    this.runtime = ManagedRuntime.make(
      this.cluster.kind === "kafka" ? provisionEverywhere(bus, this.cluster.urls.split(",")) : bus,
    );
    await this.runtime.runPromise(
      Effect.flatMap(Bus, (b) => Effect.forEach(Object.values(TopicSpecs), (t) => b.provision(t))),
    );
    for (const s of ["enricher", "detector", "sink"] as const) this.ports.set(s, await freePort());
    await Promise.all((["sink", "detector", "enricher"] as const).map((s) => this.start(s)));
  }
}
