// The NetworkPolicies, Pods and Namespaces the policy audit evaluates against, from static
// manifests (NETPULSE_DETECTOR_MANIFESTS, `netpulse replay --manifests`). Any invalid object
// stops the start with its file:line and field: an audit against half the policies would report
// denials that are not there.
import { readFile } from "node:fs/promises";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import { engineFromManifests, formatIssue, loadManifests, type PolicyEngine } from "@netpulse/policy";

export class PolicyManifestError extends Data.TaggedError("PolicyManifestError")<{ readonly message: string }> {}

export const policiesFromManifests = (files: ReadonlyArray<string>): Effect.Effect<PolicyEngine, PolicyManifestError> =>
  Effect.gen(function* () {
    const sources = yield* Effect.forEach(files, (file) =>
      Effect.tryPromise({
        try: async () => ({ file, text: await readFile(file, "utf8") }),
        catch: (e) =>
          new PolicyManifestError({
            message: `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
          }),
      }),
    );
    const loaded = loadManifests(sources);
    const first = loaded.issues[0];
    if (first !== undefined) return yield* new PolicyManifestError({ message: formatIssue(first) });
    return engineFromManifests(loaded);
  });
