// Turns a message a stage could not process into a DLQ message: original bytes, where it came
// from and why. The DLQ key is the original key, so a dead letter stays next to its neighbours.
import type { BusMessage, OutgoingMessage } from "./Bus.js";
import { DeadLetterCodec } from "../codec/codecs.js";
import type { DeadLetter } from "../records.js";

export const deadLetter = (
  msg: BusMessage,
  stage: string,
  errorKind: string,
  reason: string,
  atNs: bigint,
): OutgoingMessage => {
  const record: DeadLetter = {
    original: msg.value,
    topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    key: Buffer.from(msg.key, "utf8"),
    stage,
    error_kind: errorKind,
    reason,
    at_ns: atNs,
  };
  return { key: msg.key, value: DeadLetterCodec.encode(record) };
};
