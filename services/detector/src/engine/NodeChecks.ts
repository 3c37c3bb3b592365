// The node rules, from heartbeats and event time: capture_silent (a node's heartbeats stopped for
// longer than after_s: one opening per silence, resolved by the next heartbeat) and
// conntrack_pressure (count/max at or above the ratio, or insert_failed / drop rising between two
// heartbeats). Node kinds use the base rules: overrides match workloads, not nodes.
import type { Anomaly, Heartbeat } from "@netpulse/runtime/records";
import type { CompiledRules } from "./CompiledRules.js";
import type { EngineState } from "./Engine.js";
import { nodeDraft, nodeSubject } from "./drafts.js";
import { captureBackText, captureSilent, captureSilentText } from "../rules/captureSilent.js";
import { conntrackHint, conntrackPressure } from "../rules/conntrackPressure.js";

export class NodeChecks {
  constructor(private readonly s: EngineState) {}

  beat(b: Heartbeat, c: CompiledRules, out: Anomaly[]): void {
    const s = this.s;
    const w = s.clock.see(b.ts_ns);
    if (w > s.watermarkNs) s.watermarkNs = w;
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
        message: captureBackText(b.node, silentS),
      });
    }
    const rule = c.base.profile.conntrack_pressure;
    if (!rule.enabled) return;
    const ratio = rule.params["ratio"] ?? 0.9;
    const x = conntrackPressure(state, ratio);
    if (x === undefined) return;
    const hint = conntrackHint(state, ratio) ?? "";
    const startNs = prevBeatNs ?? b.ts_ns;
    s.episodes.report(rule.kind, nodeSubject(b.node), startNs, b.ts_ns, undefined, true, c.cooldownNs, out, () =>
      nodeDraft(rule, c.rules.version, b.node, startNs, b.ts_ns, s.watermarkNs, x, hint, hint),
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
      if (n.silence !== undefined) continue;
      const at = captureSilent(n.lastBeatNs, wm, afterNs);
      if (at === undefined) continue;
      const x = { observed: afterS, threshold: afterS, baseline: null, unit: "s" };
      n.silence = nodeDraft(rule, c.rules.version, n.node, n.lastBeatNs, at, at, x, captureSilentText(n.node, afterS));
      out.push(n.silence);
    }
  }
}
