// One broker kind's cluster tests: a private 3-node cluster for the file (scripts/services.sh up
// --cluster on free ports), the bus contract suite on it (test/bus-contract.test.ts; its restart
// case kills one node -9), then the whole chain through a kill -9 of the node leading the raw
// flows topic (nodeLoss.ts).
import { afterAll, beforeAll } from "vitest";
import { busContract } from "../../bus-contract.test.js";
import { LocalCluster, type ClusterKind } from "./localCluster.js";
import { nodeLossSuite, type NodeLossTiming } from "./nodeLoss.js";
import { clusterTarget } from "./target.js";

export const clusterSuite = (
  kind: ClusterKind,
  o: { readonly startTimeoutMs: number; readonly nodeLoss: NodeLossTiming },
) => {
  let cluster: LocalCluster;
  const theCluster = () => cluster;

  beforeAll(async () => {
    cluster = await LocalCluster.start(kind);
  }, o.startTimeoutMs);

  afterAll(async () => {
    await cluster?.down();
  }, 120_000);

  busContract([clusterTarget(theCluster, kind)]);

  nodeLossSuite(theCluster, o.nodeLoss);
};
