// One pino-backed logger for every service: Effect.log* calls become JSON lines on stderr with
// their annotations (service, topic, partition, ...) as fields.
import * as HashMap from "effect/HashMap";
import * as Layer from "effect/Layer";
import * as List from "effect/List";
import * as Logger from "effect/Logger";
import * as LogLevel from "effect/LogLevel";
import { pino, destination, type Level } from "pino";

const levelName = (level: LogLevel.LogLevel): Level => {
  switch (level._tag) {
    case "Fatal":
      return "fatal";
    case "Error":
      return "error";
    case "Warning":
      return "warn";
    case "Debug":
      return "debug";
    case "Trace":
    case "All":
      return "trace";
    default:
      return "info";
  }
};

const render = (message: unknown): string =>
  Array.isArray(message) ? message.map((m) => (typeof m === "string" ? m : String(m))).join(" ") : String(message);

/** Logger layer writing JSON lines to stderr (stdout stays free for CLI output). */
export const pinoLogger = (service: string, level: LogLevel.LogLevel = LogLevel.Info) => {
  const base = pino({ base: { service }, level: "trace" }, destination(2));
  const logger = Logger.make(({ logLevel, message, annotations, spans, cause }) => {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of HashMap.toEntries(annotations)) fields[k] = v;
    const span = List.head(spans);
    if (span._tag === "Some") fields["span"] = span.value.label;
    if (cause._tag !== "Empty") fields["cause"] = String(cause);
    base[levelName(logLevel)](fields, render(message));
  });
  return Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(level));
};
