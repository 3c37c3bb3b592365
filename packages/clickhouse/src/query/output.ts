// Renders a JSONCompact answer as an aligned text table, CSV (RFC 4180) or a JSON array of row
// objects. 64-bit integers, which ClickHouse sends as strings, become JSON numbers when they
// fit exactly (as the rest of netpulse's JSON does), else stay decimal strings.
export type OutputFormat = "table" | "json" | "csv";

export interface Answer {
  readonly meta: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly data: ReadonlyArray<ReadonlyArray<unknown>>;
}

const INT64 = /^(Nullable\()?U?Int(64|128|256)\)?$/;

const jsonValue = (type: string, v: unknown): unknown => {
  if (typeof v === "string" && INT64.test(type) && /^-?\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return v;
};

const text = (v: unknown): string => (v === null ? "NULL" : typeof v === "string" ? v : JSON.stringify(v));

const csvCell = (v: unknown): string => {
  const s = v === null ? "" : text(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const render = (answer: Answer, format: OutputFormat): string => {
  const names = answer.meta.map((m) => m.name);
  switch (format) {
    case "json": {
      const rows = answer.data.map((row) =>
        Object.fromEntries(row.map((v, i) => [names[i] ?? `c${i}`, jsonValue(answer.meta[i]?.type ?? "", v)])),
      );
      return `${JSON.stringify(rows, null, 2)}\n`;
    }
    case "csv":
      return [names, ...answer.data].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
    case "table": {
      const cells = [names, ...answer.data.map((r) => r.map(text))];
      const widths = names.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
      const line = (r: ReadonlyArray<string>) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd();
      const rule = widths.map((w) => "-".repeat(w)).join("  ");
      const body = cells.slice(1).map(line);
      return (
        [line(names), rule, ...body].join("\n") +
        `\n(${answer.data.length} row${answer.data.length === 1 ? "" : "s"})\n`
      );
    }
  }
};
