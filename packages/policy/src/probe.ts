// Probe input: one JSON object per line, {"from","to","port","protocol"}; protocol defaults to
// TCP and is case-insensitive. Errors name file:line and the field.
import * as Data from "effect/Data";
import * as Either from "effect/Either";
import { PROTOCOLS, type Probe, type Protocol } from "./model.js";
import { isObject } from "./raw.js";

export class ProbeError extends Data.TaggedError("ProbeError")<{ readonly message: string }> {}

export interface ProbeLine {
  readonly probe: Probe;
  /** The object as written (extra fields are echoed back in the output). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** "file:line" (or "flags"), for errors found later such as an unknown pod. */
  readonly where: string;
}

export const parseProtocol = (v: unknown): Protocol | undefined => {
  if (v === undefined || v === null) return "TCP";
  if (typeof v !== "string") return undefined;
  const upper = v.toUpperCase();
  return PROTOCOLS.has(upper) ? (upper as Protocol) : undefined;
};

export const parsePort = (v: unknown): number | undefined => {
  const n = typeof v === "string" && /^[0-9]{1,5}$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
};

export const makeProbe = (
  from: unknown,
  to: unknown,
  port: unknown,
  protocol: unknown,
  where: string,
): Either.Either<Probe, ProbeError> => {
  const bad = (field: string, why: string) => Either.left(new ProbeError({ message: `${where}: ${field}: ${why}` }));
  if (typeof from !== "string" || from === "") return bad("from", "required (namespace/pod or an IP)");
  if (typeof to !== "string" || to === "") return bad("to", "required (namespace/pod or an IP)");
  const p = parsePort(port);
  if (p === undefined) return bad("port", `${JSON.stringify(port) ?? "missing"} must be a port number 1-65535`);
  const proto = parseProtocol(protocol);
  if (proto === undefined) return bad("protocol", `${JSON.stringify(protocol)} must be TCP, UDP or SCTP`);
  return Either.right({ src: from, dst: to, port: p, protocol: proto });
};

export const parseProbeLine = (line: string, where: string): Either.Either<ProbeLine, ProbeError> => {
  const parsed = Either.try({
    try: (): unknown => JSON.parse(line),
    catch: (e) =>
      new ProbeError({ message: `${where}: not valid JSON (${e instanceof Error ? e.message : String(e)})` }),
  });
  if (Either.isLeft(parsed)) return Either.left(parsed.left);
  const value = parsed.right;
  if (!isObject(value))
    return Either.left(new ProbeError({ message: `${where}: must be a JSON object {"from","to","port","protocol"}` }));
  return Either.map(makeProbe(value["from"], value["to"], value["port"], value["protocol"], where), (probe) => ({
    probe,
    fields: value,
    where,
  }));
};

/** Parses a JSONL text; blank lines are skipped, the first bad line fails the whole input. */
export const parseProbes = (text: string, file: string): Either.Either<ProbeLine[], ProbeError> => {
  const out: ProbeLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const r = parseProbeLine(line, `${file}:${i + 1}`);
    if (Either.isLeft(r)) return Either.left(r.left);
    out.push(r.right);
  }
  return Either.right(out);
};
