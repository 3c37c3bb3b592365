// Label selectors (matchLabels + matchExpressions): parsing with Kubernetes' validation rules and
// matching. An empty selector matches everything; the two parts are ANDed.
import type { LabelSelector, Labels, Operator, Requirement } from "./model.js";
import {
  at,
  checkKeys,
  child,
  type IssueList,
  labelKeyProblem,
  labelValueProblem,
  readList,
  readObject,
  readString,
  readStringMap,
} from "./raw.js";

const OPERATORS: ReadonlySet<string> = new Set<Operator>(["In", "NotIn", "Exists", "DoesNotExist"]);

export const EMPTY_SELECTOR: LabelSelector = { matchLabels: [], matchExpressions: [] };

export const parseSelector = (v: unknown, path: string, issues: IssueList): LabelSelector | undefined => {
  const obj = readObject(v, path, issues);
  if (obj === undefined) return undefined;
  checkKeys(obj, ["matchLabels", "matchExpressions"], path, issues);
  const matchLabels = Object.entries(readStringMap(obj["matchLabels"], child(path, "matchLabels"), issues));
  for (const [k, v] of matchLabels) {
    const problem = labelKeyProblem(k) ?? labelValueProblem(v);
    if (problem !== undefined) issues.add(child(child(path, "matchLabels"), k), problem);
  }
  const exprPath = child(path, "matchExpressions");
  const matchExpressions: Requirement[] = [];
  readList(obj["matchExpressions"], exprPath, issues).forEach((raw, i) => {
    const p = at(exprPath, i);
    const e = readObject(raw, p, issues);
    if (e === undefined) {
      if (raw === null || raw === undefined) issues.add(p, "must be an object");
      return;
    }
    checkKeys(e, ["key", "operator", "values"], p, issues);
    const key = readString(e["key"], child(p, "key"), issues);
    if (key === undefined || key === "") issues.add(child(p, "key"), "required");
    else if (labelKeyProblem(key) !== undefined) issues.add(child(p, "key"), labelKeyProblem(key) as string);
    const op = readString(e["operator"], child(p, "operator"), issues);
    if (op === undefined) issues.add(child(p, "operator"), "required");
    else if (!OPERATORS.has(op))
      issues.add(child(p, "operator"), `unknown operator "${op}" (In, NotIn, Exists, DoesNotExist)`);
    const values: string[] = [];
    readList(e["values"], child(p, "values"), issues).forEach((val, j) => {
      if (typeof val === "string") {
        const problem = labelValueProblem(val);
        if (problem !== undefined) issues.add(at(child(p, "values"), j), problem);
        values.push(val);
      } else issues.add(at(child(p, "values"), j), "must be a string (quote it)");
    });
    if ((op === "In" || op === "NotIn") && values.length === 0)
      issues.add(child(p, "values"), `must be non-empty when operator is ${op}`);
    if ((op === "Exists" || op === "DoesNotExist") && values.length > 0)
      issues.add(child(p, "values"), `must be empty when operator is ${op}`);
    if (key !== undefined && op !== undefined && OPERATORS.has(op))
      matchExpressions.push({ key, operator: op as Operator, values });
  });
  return { matchLabels, matchExpressions };
};

const requirementMatches = (r: Requirement, labels: Labels): boolean => {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case "In":
      return has && r.values.includes(labels[r.key] as string);
    case "NotIn":
      return !has || !r.values.includes(labels[r.key] as string);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
  }
};

export const selectorMatches = (sel: LabelSelector, labels: Labels): boolean => {
  for (const [k, v] of sel.matchLabels) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions) if (!requirementMatches(r, labels)) return false;
  return true;
};

export const isEmptySelector = (sel: LabelSelector): boolean =>
  sel.matchLabels.length === 0 && sel.matchExpressions.length === 0;

export const describeSelector = (sel: LabelSelector): string => {
  if (isEmptySelector(sel)) return "{}";
  const parts = sel.matchLabels.map(([k, v]) => `${k}=${v}`);
  for (const r of sel.matchExpressions) {
    if (r.operator === "Exists") parts.push(r.key);
    else if (r.operator === "DoesNotExist") parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === "In" ? "in" : "notin"} (${r.values.join(",")})`);
  }
  return parts.join(",");
};
