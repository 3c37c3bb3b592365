// A local Kubernetes API server for tests: node:http speaking the real list/watch protocol for
// the resources netpulse watches, so the real @kubernetes/client-node runs against it.
// - list: `{kind: XList, metadata: {resourceVersion}, items}` with limit/continue paging;
// - watch (`?watch=true&resourceVersion=N`): a chunked stream of JSON lines
//   (ADDED/MODIFIED/DELETED, BOOKMARK when allowWatchBookmarks=true) replayed from history after N;
// - history older than `compact()` answers a watch with an ERROR event carrying a 410 Status;
// - `expireWatches()` sends that 410 on open watches, `dropWatches()` ends or cuts them,
//   `failNext()` makes the next requests fail with an HTTP status.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "./kubeObjects.js";

interface Resource {
  readonly plural: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
}

const RESOURCES: ReadonlyArray<Resource> = [
  { plural: "pods", kind: "Pod", apiVersion: "v1", namespaced: true },
  { plural: "namespaces", kind: "Namespace", apiVersion: "v1", namespaced: false },
  { plural: "nodes", kind: "Node", apiVersion: "v1", namespaced: false },
  { plural: "services", kind: "Service", apiVersion: "v1", namespaced: true },
  { plural: "endpointslices", kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", namespaced: true },
  { plural: "replicasets", kind: "ReplicaSet", apiVersion: "apps/v1", namespaced: true },
  { plural: "jobs", kind: "Job", apiVersion: "batch/v1", namespaced: true },
  { plural: "networkpolicies", kind: "NetworkPolicy", apiVersion: "networking.k8s.io/v1", namespaced: true },
];

type EventType = "ADDED" | "MODIFIED" | "DELETED";
interface HistoryEvent {
  readonly rv: number;
  readonly kind: string;
  readonly type: EventType;
  readonly object: KubeObject;
}

interface Watcher {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
}

export interface RequestRecord {
  readonly kind: string;
  readonly watch: boolean;
  readonly query: Readonly<Record<string, string>>;
}

const PATH = /^\/(?:api\/v1|apis\/([^/]+\/[^/]+))(?:\/namespaces\/([^/]+))?\/([a-z]+)$/;

export class FakeKubeApi {
  private rv = 100;
  private compactedRv = 0;
  private readonly objects = new Map<string, KubeObject>(); // kind/ns/name
  private history: HistoryEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly failures: Array<{ kind: string; status: number }> = [];
  private readonly pages = new Map<string, { rv: number; items: KubeObject[] }>();
  readonly requests: RequestRecord[] = [];
  private readonly server = createServer((req, res) => this.handle(req, res));
  url = "";

  /** Start listening on a free loopback port. */
  static async start(): Promise<FakeKubeApi> {
    const api = new FakeKubeApi();
    api.server.on("error", () => undefined);
    await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  /** A KubeConfig pointing at this server (no auth). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "tester" }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
      currentContext: "fake",
    });
    return kc;
  }

  /** Kubeconfig file text pointing at this server, for code that loads a file. */
  kubeConfigYaml(): string {
    return this.kubeConfig().exportConfig();
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Create or replace an object (ADDED or MODIFIED event). Returns it with its resourceVersion. */
  apply(obj: KubeObject): KubeObject {
    const k = this.key(obj);
    const type: EventType = this.objects.has(k) ? "MODIFIED" : "ADDED";
    const stored = this.stamp(obj);
    this.objects.set(k, stored);
    this.emit(type, stored);
    return stored;
  }

  delete(obj: KubeObject): void {
    const k = this.key(obj);
    const current = this.objects.get(k);
    if (current === undefined) return;
    this.objects.delete(k);
    this.emit("DELETED", this.stamp(current));
  }

  /** Change objects without telling open watches (as if events were lost), e.g. before a 410. */
  applySilently(obj: KubeObject): void {
    this.objects.set(this.key(obj), this.stamp(obj));
  }

  deleteSilently(obj: KubeObject): void {
    this.objects.delete(this.key(obj));
    this.rv++;
  }

  /** Send a BOOKMARK with the current resourceVersion on every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (w.bookmarks)
        this.send(w, {
          type: "BOOKMARK",
          object: {
            kind: w.kind,
            apiVersion: this.resource(w.kind).apiVersion,
            metadata: { resourceVersion: String(this.rv) },
          },
        });
    }
  }

  /** Forget history up to now: watches resuming from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /** Compact, then tell every open watch its resourceVersion is too old (ERROR 410); close them unless `keepOpen`. */
  expireWatches(options: { readonly keepOpen?: boolean } = {}): void {
    this.compact();
    for (const w of [...this.watchers]) {
      this.send(w, { type: "ERROR", object: gone() });
      if (options.keepOpen !== true) this.end(w);
    }
  }

  /** End every open watch: cleanly (`end`) or by cutting the TCP connection (`abrupt`). */
  dropWatches(mode: "end" | "abrupt" = "end"): void {
    for (const w of [...this.watchers]) {
      if (mode === "abrupt") w.res.socket?.destroy();
      else this.end(w);
    }
  }

  /** The next request for `kind` (list or watch) answers with HTTP `status`. */
  failNext(kind: string, status = 500, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ kind, status });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  openWatches(kind?: string): number {
    return [...this.watchers].filter((w) => kind === undefined || w.kind === kind).length;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private resource(kind: string): Resource {
    const r = RESOURCES.find((x) => x.kind === kind);
    if (r === undefined) throw new Error(`fakeKubeApi: unsupported kind ${kind}`);
    return r;
  }

  private key(obj: KubeObject): string {
    const m = obj.metadata;
    return `${obj.kind}/${typeof m["namespace"] === "string" ? m["namespace"] : ""}/${String(m["name"])}`;
  }

  private stamp(obj: KubeObject): KubeObject {
    this.rv++;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } };
  }

  private emit(type: EventType, object: KubeObject): void {
    const ev: HistoryEvent = { rv: this.rv, kind: object.kind, type, object };
    this.history.push(ev);
    for (const w of this.watchers) if (this.matches(w.kind, w.namespace, object)) this.send(w, { type, object });
  }

  private matches(kind: string, namespace: string | undefined, o: KubeObject): boolean {
    return o.kind === kind && (namespace === undefined || o.metadata["namespace"] === namespace);
  }

  private send(w: Watcher, event: unknown): void {
    if (!w.res.writableEnded) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private end(w: Watcher): void {
    this.watchers.delete(w);
    w.res.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    const m = PATH.exec(url.pathname);
    const r = RESOURCES.find(
      (x) => x.plural === m?.[3] && (x.apiVersion === "v1" ? m?.[1] === undefined : x.apiVersion === m?.[1]),
    );
    if (m === null || r === undefined) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify(status(404, "NotFound", `no route ${url.pathname}`)));
      return;
    }
    const query = Object.fromEntries(url.searchParams);
    const watch = query["watch"] === "true" || query["watch"] === "1";
    this.requests.push({ kind: r.kind, watch, query });
    const failure = this.failures.findIndex((f) => f.kind === r.kind);
    if (failure >= 0) {
      const { status: code } = this.failures.splice(failure, 1)[0] as { status: number };
      res
        .writeHead(code, { "content-type": "application/json" })
        .end(JSON.stringify(status(code, "InternalError", "injected failure")));
      return;
    }
    const namespace = m[2];
    if (watch) this.watch(r, namespace, query, res);
    else this.list(r, namespace, query, res);
  }

  private list(r: Resource, namespace: string | undefined, query: Record<string, string>, res: ServerResponse): void {
    let page: { rv: number; items: KubeObject[] };
    let offset = 0;
    const token = query["continue"];
    if (token !== undefined && token !== "") {
      const [id, off] = token.split(":");
      const snapshot = this.pages.get(id ?? "");
      if (snapshot === undefined) {
        res.writeHead(410, { "content-type": "application/json" }).end(JSON.stringify(gone()));
        return;
      }
      page = snapshot;
      offset = Number(off);
    } else {
      page = { rv: this.rv, items: [...this.objects.values()].filter((o) => this.matches(r.kind, namespace, o)) };
    }
    const limit = Number(query["limit"] ?? "0");
    const items = limit > 0 ? page.items.slice(offset, offset + limit) : page.items.slice(offset);
    const next = offset + items.length;
    let cont: string | undefined;
    if (next < page.items.length) {
      const id = `p${this.pages.size + 1}`;
      this.pages.set(id, page);
      cont = `${id}:${next}`;
    }
    const body = {
      kind: `${r.kind}List`,
      apiVersion: r.apiVersion,
      metadata: { resourceVersion: String(page.rv), ...(cont === undefined ? {} : { continue: cont }) },
      items,
    };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  }

  private watch(r: Resource, namespace: string | undefined, query: Record<string, string>, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    const w: Watcher = { kind: r.kind, namespace, bookmarks: query["allowWatchBookmarks"] === "true", res };
    const from = query["resourceVersion"] ?? "";
    if (from !== "" && from !== "0" && Number(from) < this.compactedRv) {
      this.send(w, { type: "ERROR", object: gone() });
      res.end();
      return;
    }
    this.watchers.add(w);
    res.on("close", () => this.watchers.delete(w));
    if (from === "" || from === "0") {
      for (const o of this.objects.values())
        if (this.matches(r.kind, namespace, o)) this.send(w, { type: "ADDED", object: o });
    } else {
      for (const ev of this.history)
        if (ev.rv > Number(from) && this.matches(r.kind, namespace, ev.object))
          this.send(w, { type: ev.type, object: ev.object });
    }
    const timeout = Number(query["timeoutSeconds"] ?? "0");
    if (timeout > 0) setTimeout(() => this.watchers.has(w) && this.end(w), timeout * 1000).unref();
  }
}

const status = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
});

const gone = () => status(410, "Expired", "too old resource version");
