// capture_silent: a node's heartbeats stopped for longer than after_s, judged by event time (the
// watermark). Returns when the silence crossed the limit: the opening's detection time, the same
// however the input was batched.
export const captureSilent = (lastBeatNs: bigint, watermarkNs: bigint, afterNs: bigint): bigint | undefined =>
  lastBeatNs + afterNs < watermarkNs ? lastBeatNs + afterNs : undefined;

export const captureSilentText = (node: string, afterS: number): string =>
  `node ${node}: no heartbeat for more than ${afterS} s`;

export const captureBackText = (node: string, silentS: number): string =>
  `node ${node}: heartbeats back after ${silentS.toFixed(1)} s of silence`;
