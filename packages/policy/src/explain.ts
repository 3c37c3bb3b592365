// Verdict rendering for people and programs: the JSON line `policy check` prints per probe, and
// a sentence saying what was decided, by which policy/rule, and what isolates a denied pod.
import type { DirectionVerdict, EndpointDesc, Probe, Verdict } from "./model.js";

const jsonVerdict = (v: DirectionVerdict) => ({ verdict: v.verdict, policies: v.policies, rules: v.rules });

/** The probe as given (extra fields kept), normalized port/protocol, then the verdicts. */
export const verdictRecord = (
  fields: Readonly<Record<string, unknown>>,
  probe: Probe,
  v: Verdict,
): Record<string, unknown> => ({
  ...fields,
  from: probe.src,
  to: probe.dst,
  port: probe.port,
  protocol: probe.protocol,
  allowed: v.allowed,
  ingress: jsonVerdict(v.ingress),
  egress: jsonVerdict(v.egress),
});

export const endpointText = (e: EndpointDesc, given: string): string => {
  if (e.kind === "external") return `${e.ip} (external)`;
  const host = e.hostNetwork ? ", host network" : "";
  return given === e.ref ? (host === "" ? e.ref : `${e.ref} (host network)`) : `${e.ref} (${given}${host})`;
};

const ruleList = (v: DirectionVerdict): string => {
  const byPolicy = new Map<string, number[]>();
  for (const r of v.rules) byPolicy.set(r.policy, [...(byPolicy.get(r.policy) ?? []), r.rule]);
  return [...byPolicy].map(([p, rules]) => `${p} rule${rules.length > 1 ? "s" : ""} ${rules.join(", ")}`).join(", ");
};

const directionText = (
  dir: "ingress" | "egress",
  v: DirectionVerdict,
  self: EndpointDesc,
  selfName: string,
  otherName: string,
  service: string,
): string => {
  if (v.verdict === "allowed") return `${dir} allowed by ${ruleList(v)}`;
  if (v.verdict === "denied") {
    const what = dir === "ingress" ? `ingress from ${otherName} on ${service}` : `egress to ${otherName} on ${service}`;
    return `${dir} denied: ${selfName} is isolated for ${dir} by ${v.policies.join(", ")} (no rule allows ${what})`;
  }
  if (self.kind === "external") return `${dir} not applicable (${self.ip} is not a pod)`;
  if (self.hostNetwork) return `${dir} not restricted (${selfName} uses the host network; policies do not select it)`;
  return `${dir} not restricted (no policy selects ${selfName} for ${dir})`;
};

export const verdictText = (probe: Probe, v: Verdict): string => {
  const src = endpointText(v.src, probe.src);
  const dst = endpointText(v.dst, probe.dst);
  const service = `${probe.port}/${probe.protocol}`;
  const head = `${v.allowed ? "ALLOWED" : "DENIED"}: ${src} → ${dst}:${service}`;
  const egress = directionText("egress", v.egress, v.src, src, dst, service);
  const ingress = directionText("ingress", v.ingress, v.dst, dst, src, service);
  return `${head} — ${egress}; ${ingress}`;
};
