// What the chain stored in ClickHouse: flows counted as rows and as distinct identities, and the
// anomalies' rows against their distinct (id, status).

/** Where the chain's sink writes: a ClickHouse server and a database on it. */
export interface Target {
  readonly clickhouseUrl: string;
  readonly database: string;
}

/**
 * One POST, tried again when the connection dies under it: ClickHouse closes an idle keep-alive
 * connection after 3 s (keep_alive_timeout), and fetch may have picked it just then
 * ("other side closed"). A query here only reads, so asking again is safe.
 */
const post = async (url: string, body: string): Promise<Response> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, { method: "POST", body });
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
};

export const sql = async (target: Target, query: string): Promise<Array<Record<string, unknown>>> => {
  const res = await post(`${target.clickhouseUrl}/?database=${target.database}`, `${query} FORMAT JSONEachRow`);
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

export const stored = async (target: Target, node: string): Promise<Stored> => {
  const [f] = await sql(
    target,
    `SELECT count() AS n, uniqExact(flow_id, start_ns) AS u, min(flow_id) AS lo, max(flow_id) AS hi
     FROM flows WHERE node = '${node}'`,
  );
  const [a] = await sql(target, `SELECT count() AS n, uniqExact(id, status) AS u FROM anomalies`);
  // An episode is one id. Its "open" row may already be merged into its "resolved" one (the
  // table is a ReplacingMergeTree ordered by window and id: the latest version of an id stays),
  // so episodes are counted by id.
  const opened = await sql(target, `SELECT DISTINCT id FROM anomalies WHERE kind = 'rtt_high' ORDER BY id`);
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

/**
 * Polls for duplicates while the scenarios run. ReplacingMergeTree collapses a duplicate at its
 * next merge, which on small parts comes within seconds, so a duplicate looked for only once
 * things settle may already be gone; the sink promises none at ANY moment (docs/sink.md). One
 * query reads one snapshot of the parts, so its count() and uniqExact agree on what they see.
 */
export class DuplicateWatch {
  /** The most rows over distinct identities seen at one moment, per table, and when. */
  worst = { flows: 0, anomalies: 0, polls: 0, at: "" };
  #stop = false;
  #running: Promise<void> | undefined;

  constructor(
    private readonly target: Target,
    private readonly node: string,
  ) {}

  start(everyMs = 300): void {
    this.#running = (async () => {
      while (!this.#stop) {
        const [r] = await sql(
          this.target,
          `SELECT (SELECT count() - uniqExact(flow_id, start_ns) FROM flows WHERE node = '${this.node}') AS f,
                  (SELECT count() - uniqExact(id, status) FROM anomalies) AS a`,
        ).catch(() => [undefined]);
        if (r !== undefined) {
          this.worst.polls++;
          const f = Number(r["f"]);
          const a = Number(r["a"]);
          if (f > this.worst.flows || a > this.worst.anomalies)
            this.worst = {
              ...this.worst,
              flows: Math.max(f, this.worst.flows),
              anomalies: Math.max(a, this.worst.anomalies),
              at: new Date().toISOString(),
            };
        }
        await new Promise((res) => setTimeout(res, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }
}
