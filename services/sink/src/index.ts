// Public surface of the sink service, for the CLI. Other services never import it; the
// ClickHouse client and `netpulse query` are @netpulse/clickhouse.
export { sinkConfig, defaults as sinkDefaults, type SinkSettings } from "./SinkConfig.js";
export { loadFile, LoadInputError, type LoadSummary } from "./FileLoader.js";
export { SinkWriter, makeSinkWriter, type SinkWriterShape, type RetryPolicy } from "./write/SinkWriter.js";
export { migrate, SchemaError, type SchemaState } from "./schema/Migrator.js";
