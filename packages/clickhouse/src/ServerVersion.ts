// Which DDL dialect a server gets, from `SELECT version()`. "modern" (22.0 and later) has every
// feature the modern DDL uses (LowCardinality, DateTime64, TTL, codecs, IPv6, CHECK constraints,
// non-replicated insert deduplication); anything older gets the portable subset that 18.16 runs.
export type Dialect = "legacy" | "modern";

export interface ServerVersion {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
  readonly dialect: Dialect;
}

export const MODERN_FROM_MAJOR = 22;

export const parseServerVersion = (text: string): ServerVersion | undefined => {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  if (m?.[1] === undefined || m[2] === undefined) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return { text: text.trim(), major, minor, dialect: major >= MODERN_FROM_MAJOR ? "modern" : "legacy" };
};
