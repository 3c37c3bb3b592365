// networking.k8s.io/v1 NetworkPolicy: validation with the API server's rules and normalization
// (policyTypes defaulting, TCP default protocol, empty-means-all peers/ports) into a `Policy`.
import { cidrStrictlyInside, parseCidr, type Cidr } from "./ip.js";
import { PROTOCOLS, type IpBlock, type Peer, type Policy, type PolicyPort, type Protocol, type Rule } from "./model.js";
import {
  at,
  checkKeys,
  child,
  isPortNumber,
  IssueList,
  portNameProblem,
  readList,
  readObject,
  readString,
  type FieldIssue,
} from "./raw.js";
import { EMPTY_SELECTOR, parseSelector } from "./selector.js";

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

const parseIpBlock = (v: unknown, path: string, issues: IssueList): IpBlock | undefined => {
  const obj = readObject(v, path, issues);
  if (obj === undefined) return undefined;
  checkKeys(obj, ["cidr", "except"], path, issues);
  const cidrText = readString(obj["cidr"], child(path, "cidr"), issues);
  if (cidrText === undefined || cidrText === "") {
    issues.add(child(path, "cidr"), "required");
    return undefined;
  }
  const cidr = parseCidr(cidrText);
  if (typeof cidr === "string") issues.add(child(path, "cidr"), `"${cidrText}" ${cidr}`);
  const except: Cidr[] = [];
  const exceptPath = child(path, "except");
  readList(obj["except"], exceptPath, issues).forEach((raw, i) => {
    const p = at(exceptPath, i);
    const text = readString(raw, p, issues);
    if (text === undefined) return;
    const e = parseCidr(text);
    if (typeof e === "string") issues.add(p, `"${text}" ${e}`);
    else if (typeof cidr !== "string" && !cidrStrictlyInside(e, cidr))
      issues.add(p, `"${text}" must be a strict subset of cidr "${cidrText}"`);
    else except.push(e);
  });
  return typeof cidr === "string" ? undefined : { cidr, except };
};

const parsePeer = (v: unknown, path: string, issues: IssueList): Peer | undefined => {
  const obj = readObject(v, path, issues);
  if (obj === undefined) {
    if (v === null || v === undefined) issues.add(path, "must specify a peer");
    return undefined;
  }
  checkKeys(obj, ["podSelector", "namespaceSelector", "ipBlock"], path, issues);
  const podSelector = parseSelector(obj["podSelector"], child(path, "podSelector"), issues);
  const namespaceSelector = parseSelector(obj["namespaceSelector"], child(path, "namespaceSelector"), issues);
  const hasIpBlock = obj["ipBlock"] !== undefined && obj["ipBlock"] !== null;
  const ipBlock = parseIpBlock(obj["ipBlock"], child(path, "ipBlock"), issues);
  const hasSelector = podSelector !== undefined || namespaceSelector !== undefined;
  if (!hasSelector && !hasIpBlock) issues.add(path, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
  if (hasSelector && hasIpBlock) issues.add(path, "may not combine ipBlock with podSelector/namespaceSelector");
  return { podSelector, namespaceSelector, ipBlock };
};

const parsePort = (v: unknown, path: string, issues: IssueList): PolicyPort | undefined => {
  const obj = readObject(v, path, issues);
  if (obj === undefined) return undefined;
  checkKeys(obj, ["protocol", "port", "endPort"], path, issues);
  const protoText = readString(obj["protocol"], child(path, "protocol"), issues) ?? "TCP";
  if (!PROTOCOLS.has(protoText))
    issues.add(child(path, "protocol"), `unknown protocol "${protoText}" (TCP, UDP, SCTP)`);
  const rawPort = obj["port"];
  let port: number | string | undefined;
  if (typeof rawPort === "string") {
    const problem = portNameProblem(rawPort);
    if (problem !== undefined) issues.add(child(path, "port"), `named port "${rawPort}" ${problem}`);
    port = rawPort;
  } else if (rawPort !== undefined && rawPort !== null) {
    if (!isPortNumber(rawPort))
      issues.add(child(path, "port"), `${JSON.stringify(rawPort)} must be a port number 1-65535 or a port name`);
    port = rawPort as number;
  }
  const rawEnd = obj["endPort"];
  let endPort: number | undefined;
  if (rawEnd !== undefined && rawEnd !== null) {
    const p = child(path, "endPort");
    if (!isPortNumber(rawEnd)) issues.add(p, `${JSON.stringify(rawEnd)} must be a port number 1-65535`);
    else if (port === undefined) issues.add(p, "may not be set when port is not set");
    else if (typeof port === "string") issues.add(p, "may not be set when port is a named port");
    else if (rawEnd < port) issues.add(p, `${rawEnd} must be greater than or equal to port ${port}`);
    endPort = rawEnd as number;
  }
  return { protocol: protoText as Protocol, port, endPort };
};

const parseRule = (v: unknown, path: string, peersKey: "from" | "to", issues: IssueList): Rule => {
  const obj = readObject(v, path, issues);
  if (obj === undefined) return { peers: [], ports: [] };
  checkKeys(obj, [peersKey, "ports"], path, issues);
  const peersPath = child(path, peersKey);
  const peers = readList(obj[peersKey], peersPath, issues).flatMap(
    (p, i) => parsePeer(p, at(peersPath, i), issues) ?? [],
  );
  const portsPath = child(path, "ports");
  const ports = readList(obj["ports"], portsPath, issues).flatMap(
    (p, i) => parsePort(p, at(portsPath, i), issues) ?? [],
  );
  return { peers, ports };
};

/** Parses one NetworkPolicy object (manifest or informer); `namespace` defaults to "default". */
export const parsePolicy = (raw: unknown): Parsed<Policy> => {
  const issues = new IssueList();
  const obj = readObject(raw, "", issues) ?? {};
  const meta = readObject(obj["metadata"], "metadata", issues) ?? {};
  const name = readString(meta["name"], "metadata.name", issues);
  if (name === undefined || name === "") issues.add("metadata.name", "required");
  const namespace = readString(meta["namespace"], "metadata.namespace", issues) || "default";
  const spec = readObject(obj["spec"], "spec", issues) ?? {};
  checkKeys(spec, ["podSelector", "ingress", "egress", "policyTypes"], "spec", issues);
  const podSelector = parseSelector(spec["podSelector"], "spec.podSelector", issues) ?? EMPTY_SELECTOR;
  const ingress = readList(spec["ingress"], "spec.ingress", issues).map((r, i) =>
    parseRule(r, at("spec.ingress", i), "from", issues),
  );
  const egress = readList(spec["egress"], "spec.egress", issues).map((r, i) =>
    parseRule(r, at("spec.egress", i), "to", issues),
  );
  const types = readList(spec["policyTypes"], "spec.policyTypes", issues);
  types.forEach((t, i) => {
    if (t !== "Ingress" && t !== "Egress")
      issues.add(at("spec.policyTypes", i), `unknown policyType ${JSON.stringify(t)} (Ingress, Egress)`);
  });
  if (types.length > 2) issues.add("spec.policyTypes", "may not list more than two policyTypes");
  if (issues.size > 0) return { ok: false, issues: issues.items };
  // API server defaulting: no policyTypes → Ingress, plus Egress when there is at least one egress rule.
  const explicit = types.length > 0;
  return {
    ok: true,
    value: {
      namespace,
      name: name as string,
      key: `${namespace}/${name as string}`,
      podSelector,
      affectsIngress: explicit ? types.includes("Ingress") : true,
      affectsEgress: explicit ? types.includes("Egress") : egress.length > 0,
      ingress,
      egress,
    },
  };
};
