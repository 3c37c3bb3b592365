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

/** JSON.parse rounded an integer beyond 2^53 in this field: the line is parsed again, exactly. */
class Rounded {
  constructor(
    readonly path: string,
    readonly value: number,
  ) {}
}

type Converted = Either.Either<unknown, string | Rounded>;

const fail = (path: string, what: string): Converted => Either.left(`field "${path}" ${what}`);

/** A value as it appeared in the input, for error messages (bigints from the lossless parser included). */
const shown = (v: unknown): string => JSON.stringify(v, replacer);

const toLong = (v: unknown, path: string): Converted => {
  let n: bigint | undefined;
  if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === "number" && Number.isInteger(v)) return Either.left(new Rounded(path, v));
  else if (typeof v === "bigint") n = v;
  else if (typeof v === "string" && /^-?\d+$/.test(v)) n = BigInt(v);
  if (n === undefined) return fail(path, `must be an integer (number or decimal string), got ${shown(v)}`);
  if (n < INT64_MIN || n > INT64_MAX) return fail(path, `${n} does not fit a signed 64-bit integer`);
  return Either.right(n);
};

const convert = (type: AvroType, v: unknown, path: string): Converted => {
  const t = type as unknown as AvroTypeShape;
  switch (t.typeName) {
    case "abstract:long":
    case "long":
      return toLong(v, path);
    case "int":
      return typeof v === "number" && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX
        ? Either.right(v)
        : fail(path, `must be a 32-bit integer, got ${shown(v)}`);
    case "double":
    case "float":
      if (typeof v === "bigint") return Either.right(Number(v));
      return typeof v === "number" ? Either.right(v) : fail(path, `must be a number, got ${shown(v)}`);
    case "string":
      return typeof v === "string" ? Either.right(v) : fail(path, `must be a string, got ${shown(v)}`);
    case "boolean":
      return typeof v === "boolean" ? Either.right(v) : fail(path, `must be true or false, got ${shown(v)}`);
    case "null":
      return v === null ? Either.right(null) : fail(path, "must be null");
    case "union:unwrapped": {
      if (v === null && t.types?.some((u) => (u as unknown as AvroTypeShape).typeName === "null"))
        return Either.right(null);
      const branch = t.types?.find((u) => (u as unknown as AvroTypeShape).typeName !== "null");
      return branch === undefined ? fail(path, "has no usable union branch") : convert(branch, v, path);
    }
    case "map": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(path, "must be an object");
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const r = convert(t.valuesType as AvroType, x, `${path}.${k}`);
        if (Either.isLeft(r)) return r;
        out[k] = r.right;
      }
      return Either.right(out);
    }
    case "array": {
      if (!Array.isArray(v)) return fail(path, "must be an array");
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = convert(t.itemsType as AvroType, v[i], `${path}[${i}]`);
        if (Either.isLeft(r)) return r;
        out.push(r.right);
      }
      return Either.right(out);
    }
    case "record": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(path, "must be an object");
      const obj = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of t.fields ?? []) {
        const fieldPath = path === "" ? f.name : `${path}.${f.name}`;
        if (!(f.name in obj)) {
          const dflt = f.defaultValue();
          if (dflt === undefined) return Either.left(`missing field "${fieldPath}"`);
          out[f.name] = dflt;
          continue;
        }
        const r = convert(f.type, obj[f.name], fieldPath);
        if (Either.isLeft(r)) return r;
        out[f.name] = r.right;
      }
      return Either.right(out);
    }
    default:
      return fail(path, `has unsupported Avro type ${t.typeName}`);
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
  const first = convert(type, JSON.parse(line), "");
  if (Either.isRight(first) || !(first.left instanceof Rounded)) return first as Either.Either<unknown, string>;
  const exact = convert(type, parseLossless(line, null, exactNumber), "");
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

/** Parse one line of `netpulse capture --stdout` output. `where` names it in errors (file:line). */
export const parseRawFlowJson: (line: string, where: string) => Either.Either<RawFlow, CodecError> = parseWith<RawFlow>(
  RawFlowCodec.type,
  checkFlow,
);

/** Parse one line of `netpulse enrich` output. */
export const parseEnrichedFlowJson: (line: string, where: string) => Either.Either<EnrichedFlow, CodecError> =
  parseWith<EnrichedFlow>(EnrichedFlowCodec.type, checkFlow);
