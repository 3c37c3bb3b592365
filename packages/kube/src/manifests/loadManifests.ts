// Static manifests → slim objects, for the local demo and offline tools: what walkManifests finds
// (multi-document YAML/JSON, `kind: List` as `kubectl get pods,rs,ns -A -o yaml` prints), slimmed.
// Kinds without a slim form are skipped; anything malformed fails the file with file:line.
import { readFile } from "node:fs/promises";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import { slim, type Slim, type SlimOptions } from "../slim.js";
import { walkManifests } from "./walkManifests.js";

export class ManifestError extends Data.TaggedError("ManifestError")<{
  readonly file: string;
  readonly message: string;
  readonly cause?: unknown;
}> {}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

const at = (file: string, line: number | undefined) => `${file}${line === undefined ? "" : `:${line}`}`;

/** What is wrong with one walked object, or undefined when it can be slimmed. */
const problem = (value: unknown): string | undefined => {
  if (!isObject(value)) return `expected a Kubernetes object, got ${Array.isArray(value) ? "an array" : typeof value}`;
  const kind = value["kind"];
  if (typeof kind !== "string" || kind === "") return `missing "kind"`;
  const meta = value["metadata"];
  if (!isObject(meta) || typeof meta["name"] !== "string" || meta["name"] === "")
    return `${kind} without metadata.name`;
  return undefined;
};

/** Parse manifest text; `file` names it in errors. */
export const parseManifestText = (
  text: string,
  file: string,
  options: SlimOptions | ReadonlyArray<string>,
): Slim[] | ManifestError => {
  const out: Slim[] = [];
  for (const entry of walkManifests(text)) {
    if (entry.type === "syntax")
      return new ManifestError({ file, message: `${at(file, entry.line)}: ${entry.message}`, cause: entry });
    if (entry.value === null || entry.value === undefined) continue; // empty document, e.g. a trailing `---`
    const bad = problem(entry.value);
    if (bad !== undefined) return new ManifestError({ file, message: `${file} ${entry.where}: ${bad}` });
    const s = slim(entry.value, options);
    if (s !== null) out.push(s);
  }
  return out;
};

export const loadManifestFile = (file: string, options: SlimOptions | ReadonlyArray<string>) =>
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
      const r = parseManifestText(text, file, options);
      return r instanceof ManifestError ? Effect.fail(r) : Effect.succeed(r);
    }),
  );

/** Every object of every file, in order (a later file's object replaces an earlier one of the same name). */
export const loadManifests = (files: ReadonlyArray<string>, options: SlimOptions | ReadonlyArray<string>) =>
  Effect.map(
    Effect.forEach(files, (f) => loadManifestFile(f, options)),
    (lists) => lists.flat(),
  );
