// Namespace and Pod objects (manifest or informer shape) → the fields the evaluator needs:
// labels, hostNetwork, container ports (for named ports) and pod IPs.
import { parseIp, type ParsedIp } from "./ip.js";
import {
  NAMESPACE_NAME_LABEL,
  PROTOCOLS,
  type ContainerPort,
  type NamespaceInfo,
  type PodInfo,
  type Protocol,
} from "./model.js";
import type { Parsed } from "./parsePolicy.js";
import {
  at,
  child,
  isPortNumber,
  IssueList,
  portNameProblem,
  readBool,
  readList,
  readObject,
  readString,
  readStringMap,
} from "./raw.js";

const readMeta = (obj: Readonly<Record<string, unknown>>, issues: IssueList) => {
  const meta = readObject(obj["metadata"], "metadata", issues) ?? {};
  const name = readString(meta["name"], "metadata.name", issues);
  if (name === undefined || name === "") issues.add("metadata.name", "required");
  const namespace = readString(meta["namespace"], "metadata.namespace", issues) || "default";
  const labels = readStringMap(meta["labels"], "metadata.labels", issues);
  return { name: name ?? "", namespace, labels };
};

export const parseNamespace = (raw: unknown): Parsed<NamespaceInfo> => {
  const issues = new IssueList();
  const { name, labels } = readMeta(readObject(raw, "", issues) ?? {}, issues);
  if (issues.size > 0) return { ok: false, issues: issues.items };
  return { ok: true, value: namespaceInfo(name, labels) };
};

/** The API server always sets kubernetes.io/metadata.name; namespaces only implied by pods get it too. */
export const namespaceInfo = (name: string, labels: Readonly<Record<string, string>> = {}): NamespaceInfo => ({
  name,
  labels: { ...labels, [NAMESPACE_NAME_LABEL]: name },
});

const parseContainerPorts = (spec: Readonly<Record<string, unknown>>, issues: IssueList): ContainerPort[] => {
  const ports: ContainerPort[] = [];
  readList(spec["containers"], "spec.containers", issues).forEach((c, i) => {
    const cPath = at("spec.containers", i);
    const container = readObject(c, cPath, issues) ?? {};
    const portsPath = child(cPath, "ports");
    readList(container["ports"], portsPath, issues).forEach((p, j) => {
      const pPath = at(portsPath, j);
      const port = readObject(p, pPath, issues) ?? {};
      const number = port["containerPort"];
      if (!isPortNumber(number))
        issues.add(child(pPath, "containerPort"), `${JSON.stringify(number)} must be a port number 1-65535`);
      const name = readString(port["name"], child(pPath, "name"), issues);
      const problem = name === undefined ? undefined : portNameProblem(name);
      if (problem !== undefined) issues.add(child(pPath, "name"), `"${name}" ${problem}`);
      const protocol = readString(port["protocol"], child(pPath, "protocol"), issues) ?? "TCP";
      if (!PROTOCOLS.has(protocol))
        issues.add(child(pPath, "protocol"), `unknown protocol "${protocol}" (TCP, UDP, SCTP)`);
      ports.push({ name: name || undefined, port: number as number, protocol: protocol as Protocol });
    });
  });
  return ports;
};

const parsePodIps = (status: Readonly<Record<string, unknown>>, issues: IssueList): ParsedIp[] => {
  const texts: Array<[string, string]> = [];
  const primary = readString(status["podIP"], "status.podIP", issues);
  if (primary) texts.push([primary, "status.podIP"]);
  readList(status["podIPs"], "status.podIPs", issues).forEach((entry, i) => {
    const p = at("status.podIPs", i);
    const ip = readString((readObject(entry, p, issues) ?? {})["ip"], child(p, "ip"), issues);
    if (ip) texts.push([ip, child(p, "ip")]);
  });
  const ips: ParsedIp[] = [];
  for (const [text, path] of texts) {
    const ip = parseIp(text);
    if (ip === undefined) issues.add(path, `"${text}" is not a valid IP address`);
    else if (!ips.some((x) => x.text === ip.text)) ips.push(ip);
  }
  return ips;
};

export const parsePod = (raw: unknown): Parsed<PodInfo> => {
  const issues = new IssueList();
  const obj = readObject(raw, "", issues) ?? {};
  const { name, namespace, labels } = readMeta(obj, issues);
  const spec = readObject(obj["spec"], "spec", issues) ?? {};
  const hostNetwork = readBool(spec["hostNetwork"], "spec.hostNetwork", issues) ?? false;
  const ports = parseContainerPorts(spec, issues);
  const ips = parsePodIps(readObject(obj["status"], "status", issues) ?? {}, issues);
  if (issues.size > 0) return { ok: false, issues: issues.items };
  return { ok: true, value: { namespace, name, labels, hostNetwork, ports, ips } };
};
