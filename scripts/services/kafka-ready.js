// One readiness probe for a local Kafka broker (used by scripts/services/kafka.sh and
// kafka-cluster.sh): connect, send a metadata request, exit 0 when the broker answered (and, given
// a second argument N, when the cluster it describes has at least N live brokers), 1 otherwise.
import { Kafka, logLevel } from "kafkajs";

const broker = process.argv[2] ?? "127.0.0.1:9092";
const expected = Number(process.argv[3] ?? "1");
const kafka = new Kafka({
  clientId: "netpulse-ready",
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 2000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
try {
  await admin.connect();
  await admin.listTopics();
  if (expected > 1) {
    const { brokers } = await admin.describeCluster();
    if (brokers.length < expected) throw new Error(`${brokers.length} of ${expected} brokers up`);
  }
  await admin.disconnect();
  process.exit(0);
} catch (err) {
  process.stderr.write(`kafka not ready at ${broker}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
