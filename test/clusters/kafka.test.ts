// A 3-broker Kafka KRaft cluster (scripts/services.sh up --cluster kafka, a private one on free
// ports), every topic at replication factor 3 with min.insync.replicas 2 and the producer on
// acks=all: the bus contract suite passes on it (its restart case kills one broker -9), and the
// whole chain keeps every acked flow exactly once through a kill -9 of the broker leading most of
// the raw flows topic's partitions (docs/clusters.md).
import { clusterSuite } from "./support/suite.js";

clusterSuite("kafka", { startTimeoutMs: 240_000, nodeLoss: { streamMs: 20_000, killAt: 5_000, restartAt: 11_000 } });
