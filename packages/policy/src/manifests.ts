// Manifest files → namespaces, pods and policies. The documents are walked by @netpulse/kube's
// walkManifests (YAML or JSON, several documents per file, `kind: List` with items), the one
// reader the enricher and the detector share. Every invalid object becomes one issue naming
// file:line, the object and the field; the rest still load.
import { walkManifests } from "@netpulse/kube/manifests/walkManifests";
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

const describeObject = (kind: string, value: Readonly<Record<string, unknown>>, where: string): string => {
  const meta = isObject(value["metadata"]) ? value["metadata"] : {};
  const name = typeof meta["name"] === "string" && meta["name"] !== "" ? meta["name"] : undefined;
  if (name === undefined) return `${kind} (${where}, no name)`;
  if (kind === "Namespace") return `Namespace ${name}`;
  const ns = typeof meta["namespace"] === "string" && meta["namespace"] !== "" ? meta["namespace"] : "default";
  return `${kind} ${ns}/${name}`;
};

export const loadManifests = (
  sources: ReadonlyArray<{ readonly file: string; readonly text: string }>,
): LoadedManifests => {
  const out: LoadedManifests = { namespaces: [], pods: [], policies: [], issues: [], skipped: [] };
  for (const { file, text } of sources)
    for (const entry of walkManifests(text)) {
      if (entry.type === "syntax")
        out.issues.push({
          file,
          line: entry.line,
          object: entry.where,
          path: "",
          message: `not valid YAML/JSON: ${entry.message}`,
        });
      else addObject(file, entry.value, entry.line, entry.where, out);
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
