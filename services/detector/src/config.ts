// Detector configuration from the environment, read once with clear errors naming the variable.
import { hostname } from "node:os";
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Context from "effect/Context";
import * as Either from "effect/Either";
import * as Layer from "effect/Layer";
import * as Option from "effect/Option";
import { commaList, positiveInt } from "@netpulse/runtime/configValues";

export const defaults = {
  metricsPort: 9465,
  group: "detector",
  maxInFlight: 64,
  maxPairs: 200_000,
  /** With no input for this long, the wall clock advances event time (capture_silent needs it). */
  idleTickMs: 1_000,
} as const;

/** "i/N": this replica's index among N; it keeps the partitions p with p mod N = i. */
const replica = Config.string("NETPULSE_DETECTOR_REPLICA").pipe(
  Config.mapOrFail((text) => {
    const m = /^(\d+)\/(\d+)$/.exec(text.trim());
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    return m !== null && count > 0 && index < count
      ? Either.right({ index, count })
      : Either.left(
          ConfigError.InvalidData(["NETPULSE_DETECTOR_REPLICA"], `"${text}" is not i/N with 0 <= i < N (e.g. 0/2)`),
        );
  }),
  Config.option,
);

export const detectorConfig = Config.all({
  /** Rules file loaded at start (YAML); built-in defaults when unset. The rules topic overrides it. */
  rules: Config.option(Config.string("NETPULSE_DETECTOR_RULES")),
  /** Static manifests (Namespaces, Pods, NetworkPolicies) for the policy audit instead of informers. */
  manifests: commaList("NETPULSE_DETECTOR_MANIFESTS"),
  kubeconfig: Config.option(Config.string("NETPULSE_KUBECONFIG")),
  /**
   * Where the policy audit's Pods, Namespaces and NetworkPolicies come from when no manifests are
   * given: "kubernetes" (informers, in-cluster or NETPULSE_KUBECONFIG) or "off" (policy kinds never fire).
   */
  policies: Config.literal("kubernetes", "off")("NETPULSE_DETECTOR_POLICIES").pipe(Config.withDefault("kubernetes")),
  metricsPort: Config.port("NETPULSE_METRICS_PORT").pipe(Config.withDefault(defaults.metricsPort)),
  group: Config.string("NETPULSE_DETECTOR_GROUP").pipe(Config.withDefault(defaults.group)),
  instance: Config.string("NETPULSE_INSTANCE").pipe(Config.withDefault(hostname())),
  maxInFlight: positiveInt("NETPULSE_DETECTOR_MAX_IN_FLIGHT", defaults.maxInFlight),
  maxPairs: positiveInt("NETPULSE_DETECTOR_MAX_PAIRS", defaults.maxPairs),
  idleTickMs: positiveInt("NETPULSE_DETECTOR_IDLE_TICK_MS", defaults.idleTickMs),
  replica,
});

export type DetectorConfigShape = Config.Config.Success<typeof detectorConfig>;

export class DetectorConfig extends Context.Tag("netpulse/detector/Config")<DetectorConfig, DetectorConfigShape>() {
  static readonly layer = Layer.effect(DetectorConfig, detectorConfig);
  static readonly make = (overrides: Partial<DetectorConfigShape> = {}): DetectorConfigShape => ({
    rules: Option.none(),
    manifests: [],
    kubeconfig: Option.none(),
    policies: "off",
    metricsPort: defaults.metricsPort,
    group: defaults.group,
    instance: "test",
    maxInFlight: defaults.maxInFlight,
    maxPairs: defaults.maxPairs,
    idleTickMs: defaults.idleTickMs,
    replica: Option.none(),
    ...overrides,
  });
}
