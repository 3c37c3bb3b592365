// Turns a probe end ("namespace/name" or an IP) into an Endpoint: a pod, or an external IP.
// Also picks the address family of a connection and describes endpoints for verdicts.
import * as Data from "effect/Data";
import * as Either from "effect/Either";
import type { Endpoint } from "./evaluateDirection.js";
import { parseIp, type ParsedIp } from "./ip.js";
import type { EndpointDesc } from "./model.js";
import { podKey, type PodStore } from "./PodStore.js";

export class UnknownEndpoint extends Data.TaggedError("UnknownEndpoint")<{
  readonly ref: string;
  readonly message: string;
}> {}

export interface Resolved extends Endpoint {
  /** Given as an IP (its family then decides the other end's) rather than by name. */
  readonly explicitIp: boolean;
}

/** Pod names and namespaces are DNS labels (no ':'), so "a/b" is a pod and anything else an IP. */
export const resolveEndpoint = (ref: string, pods: PodStore): Either.Either<Resolved, UnknownEndpoint> => {
  if (ref.indexOf("/") > 0 && !ref.includes(":")) {
    const pod = pods.get(ref);
    if (pod === undefined) return Either.left(new UnknownEndpoint({ ref, message: `unknown pod ${ref}` }));
    return Either.right({ pod, ip: pod.ips[0], explicitIp: false });
  }
  const ip = parseIp(ref);
  if (ip === undefined)
    return Either.left(
      new UnknownEndpoint({ ref, message: `"${ref}" is neither a pod (namespace/name) nor an IP address` }),
    );
  return Either.right({ pod: pods.byIp(ip.text), ip, explicitIp: true });
};

/**
 * A connection has one address family: when the other end was given as an IP, a dual-stack
 * pod given by name uses its IP of that family; otherwise its primary IP.
 */
export const withFamily = (ep: Resolved, other: Resolved): Resolved => {
  if (ep.explicitIp || ep.pod === undefined || !other.explicitIp || other.ip === undefined) return ep;
  const kind = other.ip.kind;
  const ip: ParsedIp | undefined = ep.pod.ips.find((x) => x.kind === kind) ?? ep.ip;
  return ip === ep.ip ? ep : { ...ep, ip };
};

export const describeEndpoint = (ep: Endpoint, ref: string): EndpointDesc =>
  ep.pod !== undefined
    ? { kind: "pod", ref: podKey(ep.pod.namespace, ep.pod.name), ip: ep.ip?.text, hostNetwork: ep.pod.hostNetwork }
    : { kind: "external", ip: ep.ip?.text ?? ref };
