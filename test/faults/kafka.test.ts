// The whole chain under faults on a Kafka broker of the run's own (issue 19): kill -9 of each
// service, the capture re-sending, a Kafka broker restart, poison on every topic — the same
// scenarios and checks as on NATS (support/suite.ts); docs/faults.md says what each proves.
import { faultSuite } from "./support/suite.js";

faultSuite("kafka");
