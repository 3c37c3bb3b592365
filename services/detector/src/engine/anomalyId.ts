// Anomaly ids: a function of what the episode is (rule, rule version, subject, start in event
// time), so a redelivery or a replay names it alike. The opening and the resolution of one episode
// share the id; the resolution is the later version of the same row (status, count, last seen).
import { createHash } from "node:crypto";

export const anomalyId = (ruleId: string, ruleVersion: number, subject: string, startNs: bigint): string =>
  createHash("sha1").update(`${ruleId}\n${ruleVersion}\n${subject}\n${startNs}`).digest("hex").slice(0, 32);
