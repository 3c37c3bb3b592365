// One readiness probe for the local Kafka broker (used by scripts/services/kafka.sh): connect,
// send a metadata request (listTopics), exit 0 when the broker answered, 1 otherwise.
import { Kafka, logLevel } from "kafkajs";

const broker = process.argv[2] ?? "127.0.0.1:9092";
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
  await admin.disconnect();
  process.exit(0);
} catch (err) {
  process.stderr.write(`kafka not ready at ${broker}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
