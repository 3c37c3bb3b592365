export * from "./UsageError.js";
export * from "./run.js";
