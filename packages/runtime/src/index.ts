// Shared runtime for every netpulse service: records, topics, bus, observability.
// Prefer the subpath imports (`@netpulse/runtime/bus/Bus`); this barrel is for convenience.
export * from "./records.js";
export * from "./topics.js";
export * from "./bus/Bus.js";
export * from "./observability/Metrics.js";
export * from "./observability/Logging.js";
export * from "./observability/HttpEndpoints.js";
export * from "./flowKey.js";
