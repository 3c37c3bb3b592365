// Builds a PolicyEngine from loaded manifests (the static source behind `policy check`).
import type { LoadedManifests } from "./manifests.js";
import { PolicyEngine, type EngineOptions } from "./PolicyEngine.js";

export const engineFromManifests = (loaded: LoadedManifests, options: EngineOptions = {}): PolicyEngine => {
  const engine = new PolicyEngine(options);
  for (const ns of loaded.namespaces) engine.upsertNamespace(ns);
  for (const pod of loaded.pods) engine.upsertPod(pod);
  for (const policy of loaded.policies) engine.upsertPolicy(policy);
  return engine;
};
