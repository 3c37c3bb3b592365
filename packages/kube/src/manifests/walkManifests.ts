// The one walk over manifest text that every manifest reader shares: YAML or JSON (YAML parses
// both), several documents per file, `kind: List` (and FooList) wrappers and JSON arrays flattened
// at any depth, each object with the line it starts on. What an object must contain is the
// reader's business; this only says where each one is and which documents are not YAML at all.
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from "yaml";

export interface ManifestObject {
  readonly type: "object";
  /** As parsed: null for an empty document, any JSON value otherwise. */
  readonly value: unknown;
  /** 1-based line where the object starts, when known. */
  readonly line: number | undefined;
  /** "document 2", "document 1 item 3": the object's place when it has no name yet. */
  readonly where: string;
}

export interface ManifestSyntaxError {
  readonly type: "syntax";
  readonly line: number | undefined;
  readonly where: string;
  /** The parser's first line, e.g. "Nested mappings are not allowed in compact mappings". */
  readonly message: string;
}

export type ManifestEntry = ManifestObject | ManifestSyntaxError;

type Raw = Readonly<Record<string, unknown>>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

const listItems = (value: unknown): ReadonlyArray<unknown> | undefined =>
  Array.isArray(value)
    ? value
    : isObject(value) &&
        typeof value["kind"] === "string" &&
        value["kind"].endsWith("List") &&
        Array.isArray(value["items"])
      ? (value["items"] as unknown[])
      : undefined;

const flatten = (
  value: unknown,
  node: unknown,
  where: string,
  line: number | undefined,
  lc: LineCounter,
  out: ManifestEntry[],
): void => {
  const items = listItems(value);
  if (items === undefined) {
    out.push({ type: "object", value, line, where });
    return;
  }
  const lineOf = (n: unknown): number | undefined => {
    const start = (n as Node | undefined)?.range?.[0];
    return start === undefined ? line : lc.linePos(start).line;
  };
  const seqNode = isSeq(node) ? node : isMap(node) ? node.get("items", true) : undefined;
  items.forEach((item, i) => {
    const itemNode = isSeq(seqNode) ? seqNode.items[i] : undefined;
    flatten(item, itemNode, `${where} item ${i}`, lineOf(itemNode), lc, out);
  });
};

/** Every object of the text in order; a document that does not parse becomes one syntax entry. */
export const walkManifests = (text: string): ManifestEntry[] => {
  const out: ManifestEntry[] = [];
  const lc = new LineCounter();
  parseAllDocuments(text, { lineCounter: lc, prettyErrors: false }).forEach((doc, d) => {
    const where = `document ${d + 1}`;
    const start = doc.contents?.range?.[0];
    const line = start === undefined ? undefined : lc.linePos(start).line;
    const err = doc.errors[0];
    if (err !== undefined) {
      out.push({
        type: "syntax",
        line: err.linePos?.[0]?.line ?? line,
        where,
        message: err.message.split("\n")[0] ?? err.code,
      });
      return;
    }
    flatten(doc.toJS({ maxAliasCount: 100 }), doc.contents, where, line, lc, out);
  });
  return out;
};
