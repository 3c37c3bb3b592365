// Reading untyped manifest/informer objects into typed values while collecting every problem
// with its field path (`spec.ingress[0].from[1].ipBlock.cidr`), so one bad field names itself.
export type RawObject = Readonly<Record<string, unknown>>;

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export const isObject = (v: unknown): v is RawObject => typeof v === "object" && v !== null && !Array.isArray(v);

export const child = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);
export const at = (path: string, i: number): string => `${path}[${i}]`;

const describe = (v: unknown): string => (Array.isArray(v) ? "a list" : v === null ? "null" : `a ${typeof v}`);

export class IssueList {
  readonly items: FieldIssue[] = [];
  add(path: string, message: string): void {
    this.items.push({ path, message });
  }
  get size(): number {
    return this.items.length;
  }
}

/** Strict field checking: a typo such as `form:` must not silently become an allow-all rule. */
export const checkKeys = (obj: RawObject, allowed: readonly string[], path: string, issues: IssueList): void => {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) issues.add(child(path, key), "unknown field");
};

/** null/absent → undefined (Kubernetes treats an explicit null like a missing field). */
export const readObject = (v: unknown, path: string, issues: IssueList): RawObject | undefined => {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  issues.add(path, `must be an object, got ${describe(v)}`);
  return undefined;
};

export const readList = (v: unknown, path: string, issues: IssueList): readonly unknown[] => {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  issues.add(path, `must be a list, got ${describe(v)}`);
  return [];
};

export const readString = (v: unknown, path: string, issues: IssueList): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  issues.add(path, `must be a string, got ${describe(v)}`);
  return undefined;
};

export const readBool = (v: unknown, path: string, issues: IssueList): boolean | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v;
  issues.add(path, `must be true or false, got ${describe(v)}`);
  return undefined;
};

export const readStringMap = (v: unknown, path: string, issues: IssueList): Record<string, string> => {
  const obj = readObject(v, path, issues);
  const out: Record<string, string> = {};
  if (obj === undefined) return out;
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val === "string") out[k] = val;
    else issues.add(child(path, k), `must be a string, got ${describe(val)} (quote it)`);
  }
  return out;
};

export const isPortNumber = (v: unknown): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;

/** IANA_SVC_NAME as Kubernetes validates port names: ≤ 15 chars, a-z0-9 and single inner '-', a letter. */
export const portNameProblem = (name: string): string | undefined => {
  if (name.length === 0 || name.length > 15) return "must be 1-15 characters";
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) return "must be lowercase letters, digits and inner '-'";
  if (name.includes("--")) return "must not contain '--'";
  if (!/[a-z]/.test(name)) return "must contain at least one letter";
  return undefined;
};

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Label keys as the API server validates them: [prefix/]name, name ≤ 63, prefix a DNS subdomain. */
export const labelKeyProblem = (key: string): string | undefined => {
  const slash = key.lastIndexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `label key "${key}" has an invalid prefix (must be a DNS subdomain)`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name))
    return `label key "${key}" is invalid (≤ 63 characters, alphanumeric with inner '-', '_', '.')`;
  return undefined;
};

export const labelValueProblem = (value: string): string | undefined =>
  value === "" || (value.length <= 63 && LABEL_NAME.test(value))
    ? undefined
    : `label value "${value}" is invalid (≤ 63 characters, alphanumeric with inner '-', '_', '.')`;
