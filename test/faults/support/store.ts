// What the chain stored in ClickHouse: flows counted as rows and as distinct identities, and the
// anomalies' rows against their distinct (id, status).
import { clickhouseUrl } from "./chain.js";

export const sql = async (database: string, query: string): Promise<Array<Record<string, unknown>>> => {
  const res = await fetch(`${clickhouseUrl}/?database=${database}`, {
    method: "POST",
    body: `${query} FORMAT JSONEachRow`,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text.trim()}`);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
};

export interface Stored {
  readonly rows: number;
  readonly distinct: number;
  readonly minId: number;
  readonly maxId: number;
  readonly anomalyRows: number;
  readonly anomalyDistinct: number;
  readonly rttOpened: ReadonlyArray<string>;
}

export const stored = async (database: string, node: string): Promise<Stored> => {
  const [f] = await sql(
    database,
    `SELECT count() AS n, uniqExact(flow_id, start_ns) AS u, min(flow_id) AS lo, max(flow_id) AS hi
     FROM flows WHERE node = '${node}'`,
  );
  const [a] = await sql(database, `SELECT count() AS n, uniqExact(id, status) AS u FROM anomalies`);
  const opened = await sql(
    database,
    `SELECT id FROM anomalies WHERE kind = 'rtt_high' AND status = 'open' ORDER BY id`,
  );
  return {
    rows: Number(f?.["n"]),
    distinct: Number(f?.["u"]),
    minId: Number(f?.["lo"]),
    maxId: Number(f?.["hi"]),
    anomalyRows: Number(a?.["n"]),
    anomalyDistinct: Number(a?.["u"]),
    rttOpened: opened.map((r) => String(r["id"])),
  };
};
