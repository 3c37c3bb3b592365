// IP and CIDR parsing/matching for ipBlocks and pod IPs, on ipaddr.js. Strict about syntax
// (dotted-quad IPv4 only, no zones), and IPv4-mapped IPv6 is folded into IPv4 the way Go's net
// package (and so Kubernetes) treats it: ::ffff:10.1.2.3 is 10.1.2.3, and ::ffff:10.0.0.0/104 is
// 10.0.0.0/8. A CIDR of one family never contains an address of the other.
import ipaddr from "ipaddr.js";

export type IpKind = "ipv4" | "ipv6";

export interface ParsedIp {
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  readonly text: string;
  readonly kind: IpKind;
  readonly addr: ipaddr.IPv4 | ipaddr.IPv6;
}

export interface Cidr {
  /** As written in the manifest. */
  readonly text: string;
  readonly kind: IpKind;
  readonly addr: ipaddr.IPv4 | ipaddr.IPv6;
  readonly bits: number;
}

const DECIMAL = /^[0-9]{1,3}$/;

const parseAddr = (text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined => {
  if (text.includes(":")) {
    if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return undefined;
    return ipaddr.IPv6.parse(text);
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return ipaddr.IPv4.parse(text);
};

const fold = (addr: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 =>
  addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;

export const parseIp = (text: string): ParsedIp | undefined => {
  const raw = parseAddr(text.trim());
  if (raw === undefined) return undefined;
  const addr = fold(raw);
  const kind = addr.kind();
  return { text: kind === "ipv6" ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString(), kind, addr };
};

/** Returns the CIDR or a reason it is not one. Host bits may be set (they are masked, as Go does). */
export const parseCidr = (text: string): Cidr | string => {
  const slash = text.indexOf("/");
  if (slash < 0) return "must be in CIDR notation (address/prefix)";
  const prefixText = text.slice(slash + 1);
  const raw = parseAddr(text.slice(0, slash));
  if (raw === undefined) return "is not a valid IP address";
  if (!DECIMAL.test(prefixText)) return "has an invalid prefix length";
  let bits = Number(prefixText);
  const max = raw.kind() === "ipv4" ? 32 : 128;
  if (bits > max) return `prefix length must be at most ${max}`;
  let addr: ipaddr.IPv4 | ipaddr.IPv6 = raw;
  if (raw.kind() === "ipv6" && bits >= 96 && (raw as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (raw as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  return { text, kind: addr.kind(), addr, bits };
};

export const cidrContains = (cidr: Cidr, ip: ParsedIp): boolean =>
  cidr.kind === ip.kind && ip.addr.match(cidr.addr, cidr.bits);

/** `inner` is a strict subset of `outer`: same family, longer prefix, network inside. */
export const cidrStrictlyInside = (inner: Cidr, outer: Cidr): boolean =>
  inner.kind === outer.kind && inner.bits > outer.bits && inner.addr.match(outer.addr, outer.bits);
