// Static manifests → slim objects: YAML or JSON, several documents per file, `kind: List`
// wrappers (what `kubectl get pods,rs,ns -A -o yaml` prints). Kinds the enricher doesn't use are
// skipped; anything malformed is reported with the file, document and line.
import { readFile } from "node:fs/promises";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import { parseAllDocuments } from "yaml";
import { slim, type Slim } from "../model/slim.js";

export class ManifestError extends Data.TaggedError("ManifestError")<{
  readonly file: string;
  readonly message: string;
  readonly cause?: unknown;
}> {}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

/** Flatten one document: a List's items (recursively), or the object itself. */
const objectsOf = (doc: unknown, where: string): Raw[] | string => {
  if (doc === null || doc === undefined) return [];
  if (!isObject(doc))
    return `${where}: expected a Kubernetes object, got ${Array.isArray(doc) ? "an array" : typeof doc}`;
  const kind = doc["kind"];
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(doc["items"])) {
    const out: Raw[] = [];
    for (const [i, item] of (doc["items"] as unknown[]).entries()) {
      const inner = objectsOf(item, `${where} items[${i}]`);
      if (typeof inner === "string") return inner;
      out.push(...inner);
    }
    return out;
  }
  if (typeof kind !== "string" || kind === "") return `${where}: missing "kind"`;
  const meta = doc["metadata"];
  if (!isObject(meta) || typeof meta["name"] !== "string" || meta["name"] === "")
    return `${where}: ${kind} without metadata.name`;
  return [doc];
};

/** Parse manifest text; `file` names it in errors. */
export const parseManifestText = (
  text: string,
  file: string,
  labelKeys: ReadonlyArray<string>,
): Slim[] | ManifestError => {
  const out: Slim[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    const err = doc.errors[0];
    if (err !== undefined) {
      const line = err.linePos?.[0].line;
      return new ManifestError({
        file,
        message: `${file}${line === undefined ? "" : `:${line}`}: ${err.message.split("\n")[0] ?? ""}`,
        cause: err,
      });
    }
    const objs = objectsOf(doc.toJS(), `${file} document ${i + 1}`);
    if (typeof objs === "string") return new ManifestError({ file, message: objs });
    for (const o of objs) {
      const s = slim(o, labelKeys);
      if (s !== null) out.push(s);
    }
  }
  return out;
};

export const loadManifestFile = (file: string, labelKeys: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (cause) =>
      new ManifestError({
        file,
        message: `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
        cause,
      }),
  }).pipe(
    Effect.flatMap((text) => {
      const r = parseManifestText(text, file, labelKeys);
      return r instanceof ManifestError ? Effect.fail(r) : Effect.succeed(r);
    }),
  );

/** Every object of every file, in order (a later file's object replaces an earlier one of the same name). */
export const loadManifests = (files: ReadonlyArray<string>, labelKeys: ReadonlyArray<string>) =>
  Effect.map(
    Effect.forEach(files, (f) => loadManifestFile(f, labelKeys)),
    (lists) => lists.flat(),
  );
