// Turns two loads of static manifests into the events between them, so a reload goes through the
// same code path as informer events: deletes for objects gone, upserts for new or changed.
import type { MetaEvent, Slim } from "../slim.js";

export type ObjectSet = ReadonlyMap<string, { readonly obj: Slim; readonly json: string }>;

const keyOf = (o: Slim) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export const toObjectSet = (objs: ReadonlyArray<Slim>): ObjectSet =>
  new Map(objs.map((obj) => [keyOf(obj), { obj, json: JSON.stringify(obj) }]));

// Owners and Services before Pods, Pods before the EndpointSlices that may name them by IP.
const ORDER: Record<Slim["kind"], number> = {
  Namespace: 0,
  Node: 1,
  ReplicaSet: 2,
  Job: 3,
  Service: 4,
  Pod: 5,
  EndpointSlice: 6,
  NetworkPolicy: 7,
};

/** Deletes first (a freed IP is released before a new pod takes it), then upserts in dependency order. */
export const diffObjects = (before: ObjectSet, after: ObjectSet): MetaEvent[] => {
  const events: MetaEvent[] = [];
  for (const [k, { obj }] of before) if (!after.has(k)) events.push({ type: "delete", obj });
  const upserts: Slim[] = [];
  for (const [k, { obj, json }] of after) if (before.get(k)?.json !== json) upserts.push(obj);
  upserts.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
  for (const obj of upserts) events.push({ type: "upsert", obj });
  return events;
};
