// A 3-node NATS cluster with JetStream (scripts/services.sh up --cluster nats, a private one on free
// ports), every stream at 3 replicas: the bus contract suite passes on it (its restart case kills
// one node -9), and the whole chain keeps every acked flow exactly once through a kill -9 of the
// node leading the raw flows stream (docs/clusters.md).
import { clusterSuite } from "./support/suite.js";

clusterSuite("nats", { startTimeoutMs: 120_000, nodeLoss: { streamMs: 16_000, killAt: 4_000, restartAt: 10_000 } });
