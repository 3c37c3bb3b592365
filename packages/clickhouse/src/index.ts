// Public API of @netpulse/clickhouse: the ClickHouse HTTP client as an Effect service, its
// classified errors and settings, and `netpulse query`'s runner. Shared by the sink, the CLI
// and replay from ClickHouse.
export {
  ClickHouse,
  makeClickHouse,
  type ClickHouseShape,
  type ExternalTable,
  type QueryOptions,
} from "./ClickHouse.js";
export { ClickHouseError, classify, serverCode, type ClickHouseErrorKind } from "./ClickHouseError.js";
export { clickHouseConfig, clickHouseDefaults, type ClickHouseSettings, type Compression } from "./ClickHouseConfig.js";
export { parseServerVersion, MODERN_FROM_MAJOR, type ServerVersion, type Dialect } from "./ServerVersion.js";
export { runQuery, QueryUsageError } from "./query/runQuery.js";
export { render, type Answer, type OutputFormat } from "./query/output.js";
export { bindQuery, scanPlaceholders, type Placeholder } from "./query/params.js";
