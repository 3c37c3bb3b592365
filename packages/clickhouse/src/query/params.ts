// Typed query parameters, `{name:Type}` as in ClickHouse's own syntax. Each value is checked
// against its declared type here, on every server; modern servers then bind it themselves
// (query_params), and for 18.x, which has no server-side binding, the value is rendered as a
// quoted literal cast to the declared type — user text is never pasted into SQL unquoted.
import * as Either from "effect/Either";

export interface Placeholder {
  readonly name: string;
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

const PLACEHOLDER = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([A-Za-z][A-Za-z0-9_]*(?:\([A-Za-z0-9_(), ]*\))?)\s*\}/y;

/** Placeholders outside string literals, quoted identifiers and comments. */
export const scanPlaceholders = (sql: string): Placeholder[] => {
  const out: Placeholder[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === "`") {
      i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "{") {
      PLACEHOLDER.lastIndex = i;
      const m = PLACEHOLDER.exec(sql);
      if (m?.[1] !== undefined && m[2] !== undefined) {
        out.push({ name: m[1], type: m[2].replace(/\s+/g, ""), start: i, end: i + m[0].length });
        i += m[0].length;
      } else i++;
    } else i++;
  }
  return out;
};

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  Int8: [-(2n ** 7n), 2n ** 7n - 1n],
  Int16: [-(2n ** 15n), 2n ** 15n - 1n],
  Int32: [-(2n ** 31n), 2n ** 31n - 1n],
  Int64: [-(2n ** 63n), 2n ** 63n - 1n],
  UInt8: [0n, 2n ** 8n - 1n],
  UInt16: [0n, 2n ** 16n - 1n],
  UInt32: [0n, 2n ** 32n - 1n],
  UInt64: [0n, 2n ** 64n - 1n],
};

/** A checked value: its canonical text (what the server gets) and its SQL literal (18.x binding). */
export interface Bound {
  readonly text: string;
  readonly literal: string;
  /** What @clickhouse/client's query_params should carry. */
  readonly param: unknown;
}

export const quote = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

const scalar = (type: string, raw: string): Either.Either<Bound, string> => {
  const range = INT_RANGES[type];
  if (range !== undefined) {
    if (!/^-?\d+$/.test(raw)) return Either.left(`expected an integer for ${type}, got "${raw}"`);
    const n = BigInt(raw);
    if (n < range[0] || n > range[1]) return Either.left(`${raw} is out of range for ${type}`);
    return Either.right({
      text: n.toString(),
      literal: `CAST(${quote(n.toString())} AS ${type})`,
      param: n.toString(),
    });
  }
  switch (type) {
    case "Float32":
    case "Float64": {
      if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw))
        return Either.left(`expected a number for ${type}, got "${raw}"`);
      return Either.right({ text: raw, literal: `CAST(${quote(raw)} AS ${type})`, param: raw });
    }
    case "String":
      return Either.right({ text: raw, literal: quote(raw), param: raw });
    case "Date":
      return /^\d{4}-\d{2}-\d{2}$/.test(raw) && !Number.isNaN(Date.parse(raw))
        ? Either.right({ text: raw, literal: `toDate(${quote(raw)})`, param: raw })
        : Either.left(`expected YYYY-MM-DD for Date, got "${raw}"`);
    case "DateTime": {
      const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/.test(raw);
      if (!iso && !/^\d+$/.test(raw))
        return Either.left(`expected "YYYY-MM-DD hh:mm:ss" or unix seconds for DateTime, got "${raw}"`);
      const text = iso ? raw.replace("T", " ") : raw;
      return Either.right({ text, literal: `toDateTime(${iso ? quote(text) : text})`, param: text });
    }
    default:
      return Either.left(
        `parameter type ${type} is not supported (use Int*/UInt*/Float*/String/Date/DateTime or Array of them)`,
      );
  }
};

/** Check `raw` against `type`; arrays are written comma-separated: `--param ids=1,2,3`. */
export const bindValue = (type: string, raw: string): Either.Either<Bound, string> => {
  const arr = /^Array\((.+)\)$/.exec(type);
  if (arr?.[1] === undefined) return scalar(type, raw);
  const inner = arr[1];
  const items = raw === "" ? [] : raw.split(",");
  const bound: Bound[] = [];
  for (const item of items) {
    const b = scalar(inner, item.trim());
    if (Either.isLeft(b)) return b;
    bound.push(b.right);
  }
  return Either.right({
    text: `[${bound.map((b) => b.text).join(",")}]`,
    literal: `[${bound.map((b) => b.literal).join(", ")}]`,
    param: bound.map((b) => b.param),
  });
};

export interface BoundQuery {
  /** The SQL with every placeholder replaced by a typed literal (for servers without binding). */
  readonly inlined: string;
  /** name → value for server-side binding. */
  readonly params: Record<string, unknown>;
}

/** Bind `--param name=value` pairs to the SQL's placeholders; a message on any mismatch. */
export const bindQuery = (sql: string, values: ReadonlyMap<string, string>): Either.Either<BoundQuery, string> => {
  const found = scanPlaceholders(sql);
  const types = new Map<string, string>();
  for (const p of found) {
    const seen = types.get(p.name);
    if (seen !== undefined && seen !== p.type)
      return Either.left(`parameter ${p.name} is declared as both ${seen} and ${p.type}`);
    types.set(p.name, p.type);
  }
  for (const name of values.keys())
    if (!types.has(name)) return Either.left(`--param ${name}: the query has no {${name}:Type} placeholder`);
  const bound = new Map<string, Bound>();
  for (const [name, type] of types) {
    const raw = values.get(name);
    if (raw === undefined) return Either.left(`the query needs --param ${name}=<${type}>`);
    const b = bindValue(type, raw);
    if (Either.isLeft(b)) return Either.left(`--param ${name}: ${b.left}`);
    bound.set(name, b.right);
  }
  let inlined = "";
  let at = 0;
  for (const p of found) {
    inlined += sql.slice(at, p.start) + (bound.get(p.name)?.literal ?? "");
    at = p.end;
  }
  inlined += sql.slice(at);
  const params: Record<string, unknown> = {};
  for (const [name, b] of bound) params[name] = b.param;
  return Either.right({ inlined, params });
};
