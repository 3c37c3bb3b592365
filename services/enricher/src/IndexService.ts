// The process's one MetadataIndex as a service, built from the enricher config.
import * as Context from "effect/Context";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { encodeEndpoint } from "./enrich/endpointType.js";
import { MetadataIndex } from "./index/MetadataIndex.js";
import { EnricherConfig, type EnricherConfigShape } from "./config.js";

export const makeIndex = (config: EnricherConfigShape): MetadataIndex =>
  new MetadataIndex({
    graceMs: config.graceMs,
    cidrs: config.cidrs,
    encoder: encodeEndpoint,
    maxExternal: config.maxExternal,
  });

export class Index extends Context.Tag("netpulse/enricher/Index")<Index, MetadataIndex>() {
  static readonly layer = Layer.effect(Index, Effect.map(EnricherConfig, makeIndex));
}
