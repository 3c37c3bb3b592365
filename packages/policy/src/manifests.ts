// Manifest files → namespaces, pods and policies. YAML or JSON (YAML parses both), several
// documents per file, `kind: List` (and FooList) with items. Every invalid object becomes one
// issue naming file:line, the object and the field; the rest still load.
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from "yaml";
import type { NamespaceInfo, PodInfo, Policy } from "./model.js";
import { parseNamespace, parsePod } from "./parseObjects.js";
import { parsePolicy, type Parsed } from "./parsePolicy.js";
import { isObject } from "./raw.js";

export interface ManifestIssue {
  readonly file: string;
  readonly line: number | undefined;
  /** "NetworkPolicy db/default-deny", or the document position when the object has no name. */
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

export interface LoadedManifests {
  readonly namespaces: NamespaceInfo[];
  readonly pods: PodInfo[];
  readonly policies: Policy[];
  /** Objects rejected (invalid): printed as errors. */
  readonly issues: ManifestIssue[];
  /** Objects skipped because their kind plays no part in policy evaluation. */
  readonly skipped: ManifestIssue[];
}

export const formatIssue = (i: ManifestIssue): string =>
  `${i.file}${i.line === undefined ? "" : `:${i.line}`}: ${i.object}: ${i.path === "" ? "" : `${i.path}: `}${i.message}`;

const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: "v1",
  Pod: "v1",
  NetworkPolicy: "networking.k8s.io/v1",
};

interface Located {
  readonly value: unknown;
  readonly line: number | undefined;
  readonly where: string;
}

const describeObject = (kind: string, value: Readonly<Record<string, unknown>>, where: string): string => {
  const meta = isObject(value["metadata"]) ? value["metadata"] : {};
  const name = typeof meta["name"] === "string" && meta["name"] !== "" ? meta["name"] : undefined;
  if (name === undefined) return `${kind} (${where}, no name)`;
  if (kind === "Namespace") return `Namespace ${name}`;
  const ns = typeof meta["namespace"] === "string" && meta["namespace"] !== "" ? meta["namespace"] : "default";
  return `${kind} ${ns}/${name}`;
};

/** Flattens documents, JSON arrays and List objects, keeping a line per object where known. */
const flatten = (
  value: unknown,
  node: unknown,
  where: string,
  line: number | undefined,
  lc: LineCounter,
  out: Located[],
): void => {
  const lineOf = (n: unknown): number | undefined => {
    const start = (n as Node | undefined)?.range?.[0];
    return start === undefined ? line : lc.linePos(start).line;
  };
  const items: unknown = Array.isArray(value)
    ? value
    : isObject(value) &&
        typeof value["kind"] === "string" &&
        value["kind"].endsWith("List") &&
        Array.isArray(value["items"])
      ? value["items"]
      : undefined;
  if (!Array.isArray(items)) {
    out.push({ value, line, where });
    return;
  }
  const seqNode = isSeq(node) ? node : isMap(node) ? node.get("items", true) : undefined;
  items.forEach((item, i) => {
    const itemNode = isSeq(seqNode) ? seqNode.items[i] : undefined;
    flatten(item, itemNode, `${where} item ${i}`, lineOf(itemNode), lc, out);
  });
};

export const loadManifests = (
  sources: ReadonlyArray<{ readonly file: string; readonly text: string }>,
): LoadedManifests => {
  const out: LoadedManifests = { namespaces: [], pods: [], policies: [], issues: [], skipped: [] };
  for (const { file, text } of sources) {
    const lc = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    list.forEach((doc, d) => {
      const where = `document ${d + 1}`;
      const line = doc.contents?.range?.[0] === undefined ? undefined : lc.linePos(doc.contents.range[0]).line;
      if (doc.errors.length > 0) {
        const e = doc.errors[0]!;
        const at = e.linePos?.[0]?.line ?? line;
        out.issues.push({
          file,
          line: at,
          object: where,
          path: "",
          message: `not valid YAML/JSON: ${e.message.split("\n")[0] ?? e.code}`,
        });
        return;
      }
      const located: Located[] = [];
      flatten(doc.toJS({ maxAliasCount: 100 }), doc.contents, where, line, lc, located);
      for (const o of located) addObject(file, o.value, o.line, o.where, out);
    });
  }
  return out;
};

const addObject = (
  file: string,
  value: unknown,
  line: number | undefined,
  where: string,
  out: LoadedManifests,
): void => {
  if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
  if (!isObject(value)) {
    out.issues.push({ file, line, object: where, path: "", message: "must be a Kubernetes object" });
    return;
  }
  const kind = typeof value["kind"] === "string" ? value["kind"] : undefined;
  if (kind === undefined) {
    out.issues.push({ file, line, object: where, path: "kind", message: "required" });
    return;
  }
  const object = describeObject(kind, value, where);
  const fail = (issues: Parsed<unknown>): void => {
    if (!issues.ok)
      for (const i of issues.issues) out.issues.push({ file, line, object, path: i.path, message: i.message });
  };
  const expected = API_VERSIONS[kind];
  if (expected === undefined) {
    out.skipped.push({
      file,
      line,
      object,
      path: "kind",
      message: `${kind} is not used by policy evaluation, skipped`,
    });
    return;
  }
  const apiVersion = value["apiVersion"];
  if (apiVersion !== undefined && apiVersion !== expected) {
    out.issues.push({
      file,
      line,
      object,
      path: "apiVersion",
      message: `${JSON.stringify(apiVersion)} unsupported (want ${expected})`,
    });
    return;
  }
  if (kind === "Namespace") {
    const r = parseNamespace(value);
    if (r.ok) out.namespaces.push(r.value);
    else fail(r);
  } else if (kind === "Pod") {
    const r = parsePod(value);
    if (r.ok) out.pods.push(r.value);
    else fail(r);
  } else {
    const r = parsePolicy(value);
    if (r.ok) out.policies.push(r.value);
    else fail(r);
  }
};
