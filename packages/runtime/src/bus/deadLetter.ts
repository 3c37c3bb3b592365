// Turns a message a stage could not process into a DLQ message: original bytes, where it came
// from and why. The DLQ key is the original key, so a dead letter stays next to its neighbours.
//
// A dead letter is never larger than the message it reports: the broker took that message, so a
// dead letter of the same size fits too (same key, same headers), whatever the broker's limit.
// Without this, a poison message near the limit (NATS max_payload, Kafka message.max.bytes) gave
// a dead letter the broker refuses, and the stage retried publishing it forever, stuck on it.
// Above CUT_ABOVE bytes the original keeps only its head, and the reason says how large it was.
import type { BusMessage, OutgoingMessage } from "./Bus.js";
import { DeadLetterCodec } from "../codec/codecs.js";
import type { DeadLetter } from "../records.js";

/** Originals up to this size are kept whole: their dead letter's few hundred bytes more fit any broker's limit. */
export const CUT_ABOVE = 64 * 1024;

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
  const whole = DeadLetterCodec.encode(record);
  if (msg.value.length <= CUT_ABOVE || whole.length <= msg.value.length) return { key: msg.key, value: whole };
  const noted = `${reason} (original of ${msg.value.length} bytes cut to its head so the dead letter fits where it did)`;
  const rest = DeadLetterCodec.encode({ ...record, original: Buffer.alloc(0), reason: noted }).length;
  // the original's length prefix grows by at most 8 bytes (a zigzag varint) over the empty one's
  const head = msg.value.subarray(0, msg.value.length - rest - 8);
  return { key: msg.key, value: DeadLetterCodec.encode({ ...record, original: head, reason: noted }) };
};
