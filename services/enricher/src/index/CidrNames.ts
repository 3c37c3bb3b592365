// Names for external IPs from configured CIDRs ("vpc=10.0.0.0/8,internet=0.0.0.0/0"): the most
// specific prefix containing the address wins. IPv4-mapped IPv6 addresses match IPv4 ranges.
import ipaddr from "ipaddr.js";

export interface NamedCidr {
  readonly name: string;
  readonly cidr: string;
}

interface Range {
  readonly name: string;
  readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

/** Parse "name=cidr,name=cidr"; returns the problem as text when the spec is bad. */
export const parseNamedCidrs = (spec: string): { readonly cidrs: NamedCidr[] } | { readonly error: string } => {
  const cidrs: NamedCidr[] = [];
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    const cidr = part.slice(eq + 1).trim();
    if (eq <= 0 || name === "") return { error: `"${part}" is not name=CIDR` };
    if (!ipaddr.isValidCIDR(cidr)) return { error: `"${cidr}" (for ${name}) is not a CIDR` };
    cidrs.push({ name, cidr });
  }
  return { cidrs };
};

export class CidrNames {
  private readonly ranges: ReadonlyArray<Range>;

  constructor(cidrs: ReadonlyArray<NamedCidr>) {
    this.ranges = cidrs
      .map((c) => ({ name: c.name, range: ipaddr.parseCIDR(c.cidr) }))
      .sort((a, b) => b.range[1] - a.range[1]);
  }

  /** "" when no range holds the address; null when `ip` is not an IP address at all. */
  name(ip: string): string | null {
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip) && !ipaddr.IPv6.isValid(ip)) return null;
    let addr = ipaddr.parse(ip);
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    for (const r of this.ranges) {
      if (r.range[0].kind() === addr.kind() && addr.match(r.range)) return r.name;
    }
    return "";
  }
}
