// Shared by test/queries.test.ts and test/sink-chdb.test.ts: the `sql` blocks of docs/queries.md,
// the parameter values the tests bind, and the data set every cookbook query finds rows in.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as Either from "effect/Either";
import { bindQuery, scanPlaceholders } from "@netpulse/clickhouse/query/params";
import { baseDay, makeAnomaly, makeFlows, makeHeartbeat } from "./fixtures.js";

const docPath = fileURLToPath(new URL("../../../docs/queries.md", import.meta.url));

export interface CookbookQuery {
  readonly title: string;
  readonly sql: string;
}

export const cookbookQueries = (): CookbookQuery[] => {
  const text = readFileSync(docPath, "utf8");
  const out: CookbookQuery[] = [];
  let title = "";
  const re = /^## (.+)$|^```sql\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) title = m[1];
    else if (m[2] !== undefined) out.push({ title, sql: m[2].trim() });
  }
  return out;
};

export const testParams: Record<string, string> = {
  from: baseDay(0),
  to: baseDay(1),
  flow_id: "1000004",
};

/** The values a query's placeholders need (only those, so binding checks stay strict). */
export const paramsFor = (sql: string): Map<string, string> =>
  new Map(scanPlaceholders(sql).map((p) => [p.name, testParams[p.name] ?? ""]));

/** The query with `netpulse.` pointed at `db` and parameters inlined as typed literals. */
export const inlined = (sql: string, db: string): string => {
  const b = bindQuery(sql.replace(/\bnetpulse\./g, `${db}.`), paramsFor(sql));
  if (Either.isLeft(b)) throw new Error(b.left);
  return b.right.inlined;
};

export const cookbookData = () => {
  const flows = makeFlows(2000);
  // one flow with retransmits seen from a second node, server side
  const anomalies = Array.from({ length: 6 }, (_, i) =>
    makeAnomaly(i, [flows[i * 7]!.flow_id, flows[i * 7 + 1]!.flow_id]),
  );
  const heartbeats = ["node-a", "node-b", "node-c"].flatMap((n) =>
    Array.from({ length: 10 }, (_, i) => makeHeartbeat(n, i)),
  );
  return { flows, anomalies, heartbeats };
};
