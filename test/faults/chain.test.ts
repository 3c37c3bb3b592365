// The whole chain under faults on NATS (issue 19): kill -9 of each service, the capture re-sending,
// a nats-server restart, poison on every topic. The scenarios and checks are support/suite.ts,
// shared with the same suite on Kafka (kafka.test.ts); docs/faults.md says what each proves.
import { faultSuite } from "./support/suite.js";

faultSuite("nats");
