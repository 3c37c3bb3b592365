// A 3-node NATS cluster with JetStream (scripts/services.sh up --cluster nats, a private one on free
// ports), every stream at 3 replicas: the bus contract suite passes on it (its restart case kills
// one node -9), and the whole chain keeps every acked flow exactly once through a kill -9 of the
// node leading the raw flows stream (docs/clusters.md).
import { afterAll, beforeAll } from "vitest";
import { busContract } from "../bus-contract.test.js";
import { LocalCluster } from "./support/localCluster.js";
import { nodeLossSuite } from "./support/nodeLoss.js";
import { clusterTarget } from "./support/target.js";

let cluster: LocalCluster;
const theCluster = () => cluster;

beforeAll(async () => {
  cluster = await LocalCluster.start("nats");
}, 120_000);

afterAll(async () => {
  await cluster?.down();
}, 120_000);

busContract([clusterTarget(theCluster, "nats")]);

nodeLossSuite(theCluster, { streamMs: 16_000, killAt: 4_000, restartAt: 10_000 });
