// Enricher configuration from the environment, read once with clear errors naming the variable.
import { hostname } from "node:os";
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Context from "effect/Context";
import * as Either from "effect/Either";
import * as Layer from "effect/Layer";
import * as Option from "effect/Option";
import { parseNamedCidrs, type NamedCidr } from "./index/CidrNames.js";
import { commaList, positiveInt } from "@netpulse/runtime/configValues";

const defaults = {
  labels: "app,app.kubernetes.io/name,version",
  externalCidrs: "",
  graceSeconds: 60,
  metricsPort: 9463,
  group: "enricher",
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  maxExternal: 200_000,
  maxInFlight: 64,
} as const;

const cidrs = Config.string("NETPULSE_EXTERNAL_CIDRS").pipe(
  Config.withDefault(defaults.externalCidrs),
  Config.mapOrFail((spec) => {
    const parsed = parseNamedCidrs(spec);
    return "error" in parsed
      ? Either.left(ConfigError.InvalidData(["NETPULSE_EXTERNAL_CIDRS"], `${parsed.error} (expected name=CIDR,...)`))
      : Either.right<ReadonlyArray<NamedCidr>>(parsed.cidrs);
  }),
);

export const enricherConfig = Config.all({
  kubeconfig: Config.option(Config.string("NETPULSE_KUBECONFIG")),
  manifests: commaList("NETPULSE_MANIFESTS", ""),
  labelKeys: commaList("NETPULSE_ENRICH_LABELS", defaults.labels),
  cidrs,
  graceMs: positiveInt("NETPULSE_IP_GRACE_SECONDS", defaults.graceSeconds).pipe(Config.map((s) => s * 1000)),
  metricsPort: Config.port("NETPULSE_METRICS_PORT").pipe(Config.withDefault(defaults.metricsPort)),
  group: Config.string("NETPULSE_ENRICHER_GROUP").pipe(Config.withDefault(defaults.group)),
  instance: Config.string("NETPULSE_INSTANCE").pipe(Config.withDefault(hostname())),
  backoffBaseMs: positiveInt("NETPULSE_INFORMER_BACKOFF_MS", defaults.backoffBaseMs),
  backoffMaxMs: positiveInt("NETPULSE_INFORMER_BACKOFF_MAX_MS", defaults.backoffMaxMs),
  maxExternal: positiveInt("NETPULSE_EXTERNAL_CACHE", defaults.maxExternal),
  maxInFlight: positiveInt("NETPULSE_ENRICHER_MAX_IN_FLIGHT", defaults.maxInFlight),
});

export type EnricherConfigShape = Config.Config.Success<typeof enricherConfig>;

export class EnricherConfig extends Context.Tag("netpulse/enricher/Config")<EnricherConfig, EnricherConfigShape>() {
  static readonly layer = Layer.effect(EnricherConfig, enricherConfig);
  /** Defaults with overrides, for tests and the offline CLI. */
  static readonly make = (overrides: Partial<EnricherConfigShape> = {}): EnricherConfigShape => ({
    kubeconfig: Option.none(),
    manifests: [],
    labelKeys: defaults.labels.split(","),
    cidrs: [],
    graceMs: defaults.graceSeconds * 1000,
    metricsPort: defaults.metricsPort,
    group: defaults.group,
    instance: "test",
    backoffBaseMs: defaults.backoffBaseMs,
    backoffMaxMs: defaults.backoffMaxMs,
    maxExternal: defaults.maxExternal,
    maxInFlight: defaults.maxInFlight,
    ...overrides,
  });
  static readonly layerWith = (overrides: Partial<EnricherConfigShape> = {}) =>
    Layer.succeed(EnricherConfig, EnricherConfig.make(overrides));
}
