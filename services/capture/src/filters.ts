// Syntax of the capture filters (ports, CIDRs), shared by env config and CLI flags so both
// reject the same inputs with the same words. Limits match bpf/flow_record.h.
import * as Either from "effect/Either";
import ipaddr from "ipaddr.js";

export const MAX_PORTS = 8;
export const MAX_CIDRS = 8;

export const parsePort = (raw: string): Either.Either<number, string> => {
  const n = Number(raw);
  return /^\d+$/.test(raw.trim()) && n >= 1 && n <= 65535
    ? Either.right(n)
    : Either.left(`"${raw}" is not a port (1-65535)`);
};

export const parseCidr = (raw: string): Either.Either<string, string> => {
  const text = raw.trim();
  const withPrefix = text.includes("/") ? text : `${text}/${ipaddr.IPv4.isValidFourPartDecimal(text) ? 32 : 128}`;
  if (!ipaddr.isValidCIDR(withPrefix)) return Either.left(`"${raw}" is not an IPv4/IPv6 address or CIDR`);
  return Either.right(withPrefix);
};

const splitList = (raw: string): string[] =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const all = <A>(
  items: ReadonlyArray<string>,
  parse: (s: string) => Either.Either<A, string>,
  max: number,
  what: string,
) => {
  if (items.length > max) return Either.left(`at most ${max} ${what}, got ${items.length}`);
  const out: A[] = [];
  for (const item of items) {
    const r = parse(item);
    if (Either.isLeft(r)) return Either.left(r.left);
    out.push(r.right);
  }
  return Either.right(out);
};

export const parsePortList = (items: ReadonlyArray<string>) => all(items, parsePort, MAX_PORTS, "ports");
export const parseCidrList = (items: ReadonlyArray<string>) => all(items, parseCidr, MAX_CIDRS, "CIDRs");
export const parsePorts = (raw: string) => parsePortList(splitList(raw));
export const parseCidrs = (raw: string) => parseCidrList(splitList(raw));
