// Static manifests (NETPULSE_MANIFESTS) as the enricher's MetadataSource: @netpulse/kube loads
// and watches the files; their events go into the Index like informer events.
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { runManifestSource } from "@netpulse/kube";
import { MetadataSource } from "../MetadataSource.js";
import { Index } from "../IndexService.js";
import { EnricherConfig } from "../config.js";
import { wallClockMs } from "@netpulse/runtime/clock";

/** MetadataSource from NETPULSE_MANIFESTS files, reloaded on change. */
export const ManifestSourceLive = Layer.scoped(
  MetadataSource,
  Effect.gen(function* () {
    const config = yield* EnricherConfig;
    const index = yield* Index;
    const { synced } = yield* runManifestSource(
      { files: config.manifests, labelKeys: config.labelKeys, watch: true },
      (e) => index.apply(e, wallClockMs()),
    );
    return { name: "manifests", synced };
  }),
);
