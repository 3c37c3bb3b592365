// The detector's rules: kinds, defaults, parsing (YAML files), canonical JSON (the rules topic).
export * from "./RuleSet.js";
export { RulesError, rulesError } from "./RulesError.js";
export { parseRules, validateRules } from "./parseRules.js";
export { encodeRules, decodeRules, rulesDocument } from "./encodeRules.js";
