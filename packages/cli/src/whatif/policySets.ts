// The two policy sets `policy what-if` compares: the cluster's (manifests) and the candidate set
// (the cluster's with the candidate NetworkPolicies applied). Both load strictly: one invalid
// object stops the command with its file:line, since a comparison against half a policy set would
// report changes that are not there.
import { readFile } from "node:fs/promises";
import * as Effect from "effect/Effect";
import { walkManifests } from "@netpulse/kube/manifests/walkManifests";
import {
  engineFromManifests,
  formatIssue,
  loadManifests,
  type LoadedManifests,
  type PodInfo,
  type Policy,
  type PolicyEngine,
} from "@netpulse/policy";
import { UsageError } from "../UsageError.js";

/**
 * add: a candidate replaces the policy of the same namespace/name, or is added beside the others.
 * replace: the candidates are the whole policy set of each namespace they name; the other policies
 * of those namespaces are removed (how a policy deletion is tried).
 */
export type WhatIfMode = "add" | "replace";

export interface PolicySets {
  readonly inForce: PolicyEngine;
  readonly candidate: PolicyEngine;
  /** The candidate policies, by key, sorted. */
  readonly candidates: readonly Policy[];
  /** Keys of policies in force that a candidate of the same name replaces. */
  readonly replaced: readonly string[];
  /** Keys of policies in force that replace mode removes. */
  readonly removed: readonly string[];
  /** The cluster's pods (which ones a candidate selects says why a rule is unused). */
  readonly pods: readonly PodInfo[];
}

const readAll = (files: readonly string[], flag: string) =>
  Effect.forEach(files, (file) =>
    Effect.tryPromise({
      try: async () => ({ file, text: await readFile(file, "utf8") }),
      catch: (e) =>
        new UsageError({ message: `${flag} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }),
    }),
  );

const strict = (loaded: LoadedManifests, flag: string): Effect.Effect<LoadedManifests, UsageError> => {
  const first = loaded.issues[0];
  return first === undefined
    ? Effect.succeed(loaded)
    : Effect.fail(new UsageError({ message: `${flag} ${formatIssue(first)}` }));
};

const meta = (v: unknown): { kind: string; key: string } => {
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const m = (typeof o["metadata"] === "object" && o["metadata"] !== null ? o["metadata"] : {}) as Record<
    string,
    unknown
  >;
  const ns = typeof m["namespace"] === "string" && m["namespace"] !== "" ? m["namespace"] : "default";
  return { kind: typeof o["kind"] === "string" ? o["kind"] : "", key: `${ns}/${String(m["name"])}` };
};

/** Candidate files hold NetworkPolicies only, each namespace/name once. */
const checkCandidateKinds = (sources: ReadonlyArray<{ file: string; text: string }>): UsageError | undefined => {
  const seen = new Map<string, string>();
  for (const { file, text } of sources)
    for (const entry of walkManifests(text)) {
      if (entry.type !== "object" || entry.value === null || entry.value === undefined) continue;
      const at = `--candidate ${file}${entry.line === undefined ? "" : `:${entry.line}`}`;
      const { kind, key } = meta(entry.value);
      if (kind !== "NetworkPolicy")
        return new UsageError({
          message: `${at}: ${kind === "" ? entry.where : kind}: a candidate file holds NetworkPolicies only (cluster objects go in --manifests)`,
        });
      const prev = seen.get(key);
      if (prev !== undefined)
        return new UsageError({ message: `${at}: NetworkPolicy ${key}: given twice (first at ${prev})` });
      seen.set(key, at.slice("--candidate ".length));
    }
  return undefined;
};

export const loadPolicySets = (manifests: readonly string[], candidateFiles: readonly string[], mode: WhatIfMode) =>
  Effect.gen(function* () {
    if (manifests.length === 0)
      return yield* new UsageError({ message: "--manifests: the cluster's policies in force are required" });
    if (candidateFiles.length === 0) return yield* new UsageError({ message: "--candidate: at least one file" });
    const cluster = yield* strict(loadManifests(yield* readAll(manifests, "--manifests")), "--manifests");
    const sources = yield* readAll(candidateFiles, "--candidate");
    const wrongKind = checkCandidateKinds(sources);
    if (wrongKind !== undefined) return yield* wrongKind;
    const cand = yield* strict(loadManifests(sources), "--candidate");
    if (cand.policies.length === 0)
      return yield* new UsageError({ message: `--candidate ${candidateFiles.join(" ")}: no NetworkPolicy` });
    const candidates = [...cand.policies].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const candidateKeys = new Set(candidates.map((p) => p.key));
    const candidateNs = new Set(candidates.map((p) => p.namespace));
    const inForce = engineFromManifests(cluster);
    const candidate = engineFromManifests(cluster);
    const replaced: string[] = [];
    const removed: string[] = [];
    for (const p of cluster.policies)
      if (candidateKeys.has(p.key)) replaced.push(p.key);
      else if (mode === "replace" && candidateNs.has(p.namespace)) {
        removed.push(p.key);
        candidate.deletePolicy(p.namespace, p.name);
      }
    for (const p of candidates) candidate.upsertPolicy(p);
    return {
      inForce,
      candidate,
      candidates,
      replaced: replaced.sort(),
      removed: removed.sort(),
      pods: cluster.pods,
    } satisfies PolicySets;
  });
