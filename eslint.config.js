// Type-checked lint over sources and tests; floating promises are errors (an unhandled
// rejection kills a Node service). Services keep to their own folder: a service imports
// packages, never another service (test/lint-boundaries.test.ts shows the rule firing).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const SERVICES = ["capture", "enricher", "detector", "sink"];

// The "effect" barrel loads every module of the library, Schema and its fast-check
// dependency included (~600 modules against ~230 for what we use), and a service keeps
// all of it in its heap for its whole life: import each module by its own path.
const effectBarrel = { name: "effect", message: 'Import the module by path: import * as Effect from "effect/Effect".' };

const restrict = (files, message, group) => ({
  files,
  rules: {
    // These options replace the general ones, so the barrel ban is repeated.
    "no-restricted-imports": ["error", { paths: [effectBarrel], patterns: [{ group: [...new Set(group)], message }] }],
  },
});

/** Every path by which `from` could reach into another workspace folder `to`. */
const reach = (to) => [
  `@netpulse/${to}`,
  `@netpulse/${to}/**`,
  `**/services/${to}/**`,
  `../../${to}/**`,
  `../../../${to}/**`,
];

const boundaries = [
  // A service imports packages only: never another service, nor the CLI.
  ...SERVICES.map((service) =>
    restrict(
      [`services/${service}/**/*.ts`],
      `services/${service} must not import another service or the CLI: shared code belongs in a package (packages/*).`,
      [
        ...SERVICES.filter((s) => s !== service).flatMap(reach),
        "@netpulse/cli",
        "@netpulse/cli/**",
        "**/packages/cli/**",
      ],
    ),
  ),
  // The CLI imports services by their public entry point only.
  restrict(
    ["packages/cli/**/*.ts"],
    "the CLI imports a service by its entry point (@netpulse/<service>) only: export what it needs from the service's src/index.ts.",
    [...SERVICES.map((s) => `@netpulse/${s}/**`), "**/services/**"],
  ),
  // Libraries never depend on services.
  restrict(
    ["packages/{runtime,kube,policy,clickhouse}/**/*.ts"],
    "a library package must not import a service.",
    SERVICES.flatMap((s) => [`@netpulse/${s}`, `@netpulse/${s}/**`, "**/services/**"]),
  ),
];

export default tseslint.config(
  // test/fixtures: inputs for tests that lint them under another name (lint-boundaries).
  { ignores: ["**/dist/**", "node_modules/**", "**/*.js", ".netpulse/**", "bpf/**", "test/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-yield": "off",
      "require-yield": "off",
      "no-restricted-imports": ["error", { paths: [effectBarrel] }],
    },
  },
  {
    files: ["**/test/**/*.ts", "test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  ...boundaries,
);
