// Anomalies for the live screen as they arrive on netpulse.anomalies: the topic read from the
// demo's start time on, again every half second from the newest broker time seen (as
// `netpulse anomalies --follow` does), keeping only the demo's own (its namespaces or its node).
import * as Effect from "effect/Effect";
import { Bus } from "@netpulse/runtime/bus/Bus";
import type { Anomaly } from "@netpulse/runtime/records";
import { TopicSpecs } from "@netpulse/runtime/topics";
import { anomalyReader, followEvery } from "../anomalyReader.js";
import { NAMESPACES, NODE } from "./cluster.js";

const demoNamespaces = new Set(NAMESPACES.map((n) => n.name));

export const isDemoAnomaly = (a: Anomaly): boolean =>
  demoNamespaces.has(a.src.namespace) || demoNamespaces.has(a.dst.namespace) || a.node === NODE;

/** Calls `onAnomaly` for each demo anomaly published since `sinceMs`, until interrupted. */
export const followAnomalies = (sinceMs: number, onAnomaly: (a: Anomaly) => void) =>
  Effect.gen(function* () {
    const bus = yield* Bus;
    yield* bus.provision(TopicSpecs.anomalies);
    yield* followEvery(
      anomalyReader(bus, sinceMs, (as) => {
        for (const a of as) if (isDemoAnomaly(a)) onAnomaly(a);
      }),
    );
  });
