// The node rules, from heartbeats and event time: capture_silent (a node's heartbeats stopped for
// longer than after_s: one opening per silence, resolved by the next heartbeat) and
// conntrack_pressure (count/max at or above the ratio, or insert_failed / drop rising between two
// heartbeats). Node kinds use the base rules: overrides match workloads, not nodes.
import type { Anomaly, Heartbeat } from "@netpulse/runtime/records";
import type { CompiledRules } from "./CompiledRules.js";
import type { EngineState } from "./Engine.js";
import { nodeDraft, nodeSubject } from "./drafts.js";
import { conntrackHint, conntrackRatio } from "./NodeHealth.js";

const S = 1_000_000_000n;

export class NodeChecks {
  constructor(private readonly s: EngineState) {}

  beat(b: Heartbeat, c: CompiledRules, out: Anomaly[]): void {
    const s = this.s;
    if (b.ts_ns > s.watermarkNs) s.watermarkNs = b.ts_ns;
    const prevBeatNs = s.nodes.get(b.node)?.lastBeatNs;
    const { state, fresh } = s.nodes.beat(b);
    if (!fresh) return;
    const silence = state.silence;
    if (silence !== undefined) {
      state.silence = undefined;
      const silentS = Number(b.ts_ns - silence.window_start_ns) / 1e9;
      out.push({
        ...silence,
        status: "resolved",
        detected_ns: b.ts_ns,
        last_seen_ns: b.ts_ns,
        observed: silentS,
        message: `node ${b.node}: heartbeats back after ${silentS.toFixed(1)} s of silence`,
      });
    }
    const rule = c.base.profile.conntrack_pressure;
    if (!rule.enabled) return;
    const ratio = rule.params["ratio"] ?? 0.9;
    const hint = conntrackHint(state, ratio);
    if (hint === undefined) return;
    const r = conntrackRatio(state);
    const full = r !== undefined && r >= ratio;
    const startNs = prevBeatNs ?? b.ts_ns;
    s.episodes.report(
      `${rule.kind}\n${nodeSubject(b.node)}`,
      startNs,
      b.ts_ns,
      undefined,
      true,
      c.cooldownNs,
      out,
      () =>
        nodeDraft(rule, c.rules.version, b.node, startNs, b.ts_ns, s.watermarkNs, {
          observed: full ? r : Number(state.insertFailedRise + state.dropRise),
          threshold: full ? ratio : 0,
          baseline: null,
          unit: full ? "ratio" : "count",
          causeHint: hint,
          message: hint,
        }),
    );
  }

  /** Opens capture_silent for every node silent past after_s at the current watermark. */
  silences(c: CompiledRules, out: Anomaly[]): void {
    const rule = c.base.profile.capture_silent;
    if (!rule.enabled) return;
    const afterS = rule.params["after_s"] ?? 15;
    const afterNs = BigInt(Math.round(afterS * 1e9));
    const wm = this.s.watermarkNs;
    for (const n of this.s.nodes.nodes()) {
      if (n.silence !== undefined || n.lastBeatNs + afterNs >= wm) continue;
      const at = n.lastBeatNs + afterNs;
      const opening = nodeDraft(rule, c.rules.version, n.node, n.lastBeatNs, at, at, {
        observed: afterS,
        threshold: afterS,
        baseline: null,
        unit: "s",
        causeHint: "",
        message: `node ${n.node}: no heartbeat for more than ${afterS} s (last at ${n.lastBeatNs / S} s event time)`,
      });
      n.silence = opening;
      out.push(opening);
    }
  }
}
