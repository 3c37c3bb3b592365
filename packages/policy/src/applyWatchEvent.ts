// Feeds Kubernetes watch events (ADDED / MODIFIED / DELETED of Namespace, Pod, NetworkPolicy)
// into a PolicyEngine, for the detector's informers. Invalid objects are returned as issues and
// leave the engine as it was (a previously valid version stays in force).
import type { PolicyEngine } from "./PolicyEngine.js";
import { parseNamespace, parsePod } from "./parseObjects.js";
import { parsePolicy } from "./parsePolicy.js";
import { isObject, type FieldIssue } from "./raw.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: unknown;
}

/** Returns the problems with the object ([] when applied or when its kind is not relevant). */
export const applyWatchEvent = (engine: PolicyEngine, event: WatchEvent, kindHint?: string): readonly FieldIssue[] => {
  const obj = isObject(event.object) ? event.object : {};
  const kind = typeof obj["kind"] === "string" ? obj["kind"] : kindHint;
  const meta = isObject(obj["metadata"]) ? obj["metadata"] : {};
  const name = typeof meta["name"] === "string" ? meta["name"] : "";
  const namespace = typeof meta["namespace"] === "string" && meta["namespace"] !== "" ? meta["namespace"] : "default";
  if (event.type === "DELETED") {
    if (kind === "Namespace") engine.deleteNamespace(name);
    else if (kind === "Pod") engine.deletePod(namespace, name);
    else if (kind === "NetworkPolicy") engine.deletePolicy(namespace, name);
    return [];
  }
  if (kind === "Namespace") {
    const r = parseNamespace(obj);
    if (!r.ok) return r.issues;
    engine.upsertNamespace(r.value);
  } else if (kind === "Pod") {
    const r = parsePod(obj);
    if (!r.ok) return r.issues;
    engine.upsertPod(r.value);
  } else if (kind === "NetworkPolicy") {
    const r = parsePolicy(obj);
    if (!r.ok) return r.issues;
    engine.upsertPolicy(r.value);
  }
  return [];
};
