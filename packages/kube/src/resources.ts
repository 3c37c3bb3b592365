// The API resources an informer can watch: watch path and a paged list call through the typed
// client. Lists are read in pages (limit/continue) so a large cluster never answers one huge body.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
} from "@kubernetes/client-node";
import type { SlimKind } from "./slim.js";

export interface ListPage {
  readonly metadata?: { readonly resourceVersion?: string; readonly _continue?: string };
  readonly items: ReadonlyArray<unknown>;
}

type PageFn = (param: { limit: number; _continue?: string }) => Promise<ListPage>;

export interface WatchedResource {
  readonly kind: SlimKind;
  readonly path: string;
  readonly page: (kc: KubeConfig) => PageFn;
}

/** Every watchable kind, in the order informers start (owners before the pods that name them). */
export const RESOURCES: ReadonlyArray<WatchedResource> = [
  { kind: "Namespace", path: "/api/v1/namespaces", page: (kc) => (p) => kc.makeApiClient(CoreV1Api).listNamespace(p) },
  { kind: "Node", path: "/api/v1/nodes", page: (kc) => (p) => kc.makeApiClient(CoreV1Api).listNode(p) },
  {
    kind: "ReplicaSet",
    path: "/apis/apps/v1/replicasets",
    page: (kc) => (p) => kc.makeApiClient(AppsV1Api).listReplicaSetForAllNamespaces(p),
  },
  {
    kind: "Job",
    path: "/apis/batch/v1/jobs",
    page: (kc) => (p) => kc.makeApiClient(BatchV1Api).listJobForAllNamespaces(p),
  },
  {
    kind: "Service",
    path: "/api/v1/services",
    page: (kc) => (p) => kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces(p),
  },
  { kind: "Pod", path: "/api/v1/pods", page: (kc) => (p) => kc.makeApiClient(CoreV1Api).listPodForAllNamespaces(p) },
  {
    kind: "EndpointSlice",
    path: "/apis/discovery.k8s.io/v1/endpointslices",
    page: (kc) => (p) => kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces(p),
  },
  {
    kind: "NetworkPolicy",
    path: "/apis/networking.k8s.io/v1/networkpolicies",
    page: (kc) => (p) => kc.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces(p),
  },
];

/** The resources of the given kinds, in RESOURCES order. */
export const resourcesFor = (kinds: ReadonlyArray<SlimKind>): ReadonlyArray<WatchedResource> =>
  RESOURCES.filter((r) => kinds.includes(r.kind));

export const LIST_PAGE_SIZE = 500;

/** Read every page of a list; the resourceVersion is the snapshot's (same on every page). */
export const listAll = async (page: PageFn): Promise<{ resourceVersion: string; items: unknown[] }> => {
  const items: unknown[] = [];
  let cont: string | undefined;
  let resourceVersion = "";
  do {
    const res = await page(cont === undefined ? { limit: LIST_PAGE_SIZE } : { limit: LIST_PAGE_SIZE, _continue: cont });
    items.push(...res.items);
    resourceVersion = res.metadata?.resourceVersion ?? resourceVersion;
    cont = res.metadata?._continue === "" ? undefined : res.metadata?._continue;
  } while (cont !== undefined);
  return { resourceVersion, items };
};
