// JSON lines for the CLI (`netpulse capture --stdout`, `enrich`, `sink --input`). 64-bit fields
// print as JSON numbers when they are safe integers, else as decimal strings (as protobuf's JSON
// mapping does for int64); the reader accepts both, and also takes 64-bit values written as plain
// JSON numbers (Python's time.time_ns(), Go, jq) exactly: JSON.parse would round them to a double.
// Parsing is driven by the Avro schema, so the JSON form can never drift from the wire form.
import * as Either from "effect/Either";
import { parse as parseLossless } from "lossless-json";
import type { AvroType } from "./avro.js";
import { CodecError } from "./CodecError.js";
import { EnrichedFlowCodec, RawFlowCodec, checkFlow } from "./codecs.js";
import type { EnrichedFlow, RawFlow } from "../records.js";

const replacer = (_key: string, value: unknown): unknown => {
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
};

/** One record as one line of JSON (no trailing newline). */
export const toJsonLine = (record: unknown): string => JSON.stringify(record, replacer);

interface AvroTypeShape {
  readonly typeName: string;
  readonly fields?: ReadonlyArray<{ readonly name: string; readonly type: AvroType; defaultValue(): unknown }>;
  readonly types?: ReadonlyArray<AvroType>;
  readonly valuesType?: AvroType;
  readonly itemsType?: AvroType;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Where a value sits in the record, built only as deep as the nesting (records, maps, arrays):
 * a field's path string is made only when that field is wrong, never on the way through.
 */
type Path = { readonly parent: Path; readonly key: string | number } | undefined;

const pathText = (p: Path, key: string | number): string => {
  const parts: Array<string | number> = [key];
  for (let q = p; q !== undefined; q = q.parent) parts.unshift(q.key);
  let out = "";
  for (const k of parts) out += typeof k === "number" ? `[${k}]` : out === "" ? k : `.${k}`;
  return out;
};

/**
 * A value the schema refuses (thrown by a converter, caught once per line). Thrown and caught
 * here only, as control flow: not an Error, so no stack is captured for every bad or rounded line.
 */
class Refused {
  constructor(readonly message: string) {}
}

/** JSON.parse rounded an integer beyond 2^53 in this field: the line is parsed again, exactly. */
class Rounded {
  constructor(
    readonly path: string,
    readonly value: number,
  ) {}
}

/** Converts a parsed JSON value to the Avro type's value (bigints for longs), or throws Refused / Rounded. */
type Convert = (v: unknown, parent: Path, key: string | number) => unknown;

const refuse = (parent: Path, key: string | number, what: string): never => {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- see Refused
  throw new Refused(`field "${pathText(parent, key)}" ${what}`);
};

/** A value as it appeared in the input, for error messages (bigints from the lossless parser included). */
const shown = (v: unknown): string => JSON.stringify(v, replacer);

const toLong: Convert = (v, parent, key) => {
  let n: bigint | undefined;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- see Refused
  if (typeof v === "number" && Number.isInteger(v)) throw new Rounded(pathText(parent, key), v);
  if (typeof v === "bigint") n = v;
  else if (typeof v === "string" && /^-?\d+$/.test(v)) n = BigInt(v);
  if (n === undefined) return refuse(parent, key, `must be an integer (number or decimal string), got ${shown(v)}`);
  if (n < INT64_MIN || n > INT64_MAX) return refuse(parent, key, `${n} does not fit a signed 64-bit integer`);
  return n;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const compiled = new WeakMap<AvroType, Convert>();

/** The converter of an Avro type, built once per type. */
const converterOf = (type: AvroType): Convert => {
  const known = compiled.get(type);
  if (known !== undefined) return known;
  // records may refer to themselves: register a forwarder before compiling the body
  const cell: { body?: Convert } = {};
  compiled.set(type, (v, parent, key) => (cell.body as Convert)(v, parent, key));
  const body = compile(type);
  cell.body = body;
  compiled.set(type, body);
  return body;
};

const compile = (type: AvroType): Convert => {
  const t = type as unknown as AvroTypeShape;
  switch (t.typeName) {
    case "abstract:long":
    case "long":
      return toLong;
    case "int":
      return (v, parent, key) =>
        typeof v === "number" && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX
          ? v
          : refuse(parent, key, `must be a 32-bit integer, got ${shown(v)}`);
    case "double":
    case "float":
      return (v, parent, key) =>
        typeof v === "bigint"
          ? Number(v)
          : typeof v === "number"
            ? v
            : refuse(parent, key, `must be a number, got ${shown(v)}`);
    case "string":
      return (v, parent, key) => (typeof v === "string" ? v : refuse(parent, key, `must be a string, got ${shown(v)}`));
    case "boolean":
      return (v, parent, key) =>
        typeof v === "boolean" ? v : refuse(parent, key, `must be true or false, got ${shown(v)}`);
    case "null":
      return (v, parent, key) => (v === null ? null : refuse(parent, key, "must be null"));
    case "union:unwrapped": {
      const nullable = t.types?.some((u) => (u as unknown as AvroTypeShape).typeName === "null") ?? false;
      const branch = t.types?.find((u) => (u as unknown as AvroTypeShape).typeName !== "null");
      if (branch === undefined) return (_v, parent, key) => refuse(parent, key, "has no usable union branch");
      const inner = converterOf(branch);
      return (v, parent, key) => (v === null && nullable ? null : inner(v, parent, key));
    }
    case "map": {
      const values = converterOf(t.valuesType as AvroType);
      return (v, parent, key) => {
        if (!isObject(v)) return refuse(parent, key, "must be an object");
        const here: Path = { parent, key };
        const out: Record<string, unknown> = {};
        for (const k in v) out[k] = values(v[k], here, k);
        return out;
      };
    }
    case "array": {
      const items = converterOf(t.itemsType as AvroType);
      return (v, parent, key) => {
        if (!Array.isArray(v)) return refuse(parent, key, "must be an array");
        const here: Path = { parent, key };
        const out: unknown[] = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) out[i] = items(v[i], here, i);
        return out;
      };
    }
    case "record": {
      const fields = (t.fields ?? []).map((f) => ({
        name: f.name,
        convert: converterOf(f.type),
        dflt: () => f.defaultValue(),
      }));
      const record: Convert = (v, parent, key) => {
        if (!isObject(v)) return refuse(parent, key, "must be an object");
        // the top-level record has no name of its own in paths
        const here: Path = parent === undefined && key === "" ? undefined : { parent, key };
        const out: Record<string, unknown> = {};
        for (const f of fields) {
          const x = v[f.name];
          if (x === undefined && !(f.name in v)) {
            const d = f.dflt();
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- see Refused
            if (d === undefined) throw new Refused(`missing field "${pathText(here, f.name)}"`);
            out[f.name] = d;
          } else out[f.name] = f.convert(x, here, f.name);
        }
        return out;
      };
      return record;
    }
    default:
      return (_v, parent, key) => refuse(parent, key, `has unsupported Avro type ${t.typeName}`);
  }
};

type Converted = Either.Either<unknown, string | Rounded>;

const convert = (type: AvroType, v: unknown): Converted => {
  try {
    return Either.right(converterOf(type)(v, undefined, ""));
  } catch (e) {
    if (e instanceof Refused) return Either.left(e.message);
    if (e instanceof Rounded) return Either.left(e);
    throw e;
  }
};

/** For lossless-json: an integer literal beyond 2^53 becomes an exact bigint, every other number a double. */
const exactNumber = (text: string): number | bigint => {
  const n = Number(text);
  return Number.isSafeInteger(n) || !/^-?\d+$/.test(text) ? n : BigInt(text);
};

/**
 * Parses with JSON.parse and converts; only a line where JSON.parse rounded a 64-bit field is
 * parsed again with lossless-json (a parser in JavaScript, ~2x slower), so files written by
 * netpulse itself (unsafe values as strings) keep JSON.parse's speed.
 */
const parseAndConvert = (type: AvroType, line: string): Either.Either<unknown, string> => {
  const first = convert(type, JSON.parse(line));
  if (Either.isRight(first) || !(first.left instanceof Rounded)) return first as Either.Either<unknown, string>;
  const exact = convert(type, parseLossless(line, null, exactNumber));
  if (Either.isRight(exact) || !(exact.left instanceof Rounded)) return exact as Either.Either<unknown, string>;
  // still not exact: written with an exponent or a fraction (1e20, 12345678901234567.0)
  return Either.left(
    `field "${exact.left.path}" must be an integer without exponent or fraction, got ${exact.left.value}`,
  );
};

const parseWith =
  <T>(type: AvroType, check: (r: T) => string | undefined) =>
  (line: string, where: string): Either.Either<T, CodecError> => {
    const parsed = Either.try({
      try: () => parseAndConvert(type, line),
      catch: (cause) =>
        new CodecError({
          kind: "garbage",
          message: `${where}: not JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause,
        }),
    });
    return Either.flatMap(parsed, (converted) => {
      if (Either.isLeft(converted))
        return Either.left(new CodecError({ kind: "invalid_record", message: `${where}: ${converted.left}` }));
      const record = converted.right as T;
      const problem = check(record);
      return problem === undefined
        ? Either.right(record)
        : Either.left(new CodecError({ kind: "invalid_record", message: `${where}: ${problem}` }));
    });
  };

/** Whether a JSON line holds an enriched flow (`src`/`dst` endpoint objects) rather than a raw one. */
export const isEnrichedFlowJson = (line: string): boolean => {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && "src" in v && "dst" in v;
  } catch {
    return false;
  }
};

/** Parse one line of `netpulse capture --stdout` output. `where` names it in errors (file:line). */
export const parseRawFlowJson: (line: string, where: string) => Either.Either<RawFlow, CodecError> = parseWith<RawFlow>(
  RawFlowCodec.type,
  checkFlow,
);

/** Parse one line of `netpulse enrich` output. */
export const parseEnrichedFlowJson: (line: string, where: string) => Either.Either<EnrichedFlow, CodecError> =
  parseWith<EnrichedFlow>(EnrichedFlowCodec.type, checkFlow);
