// Type-checked lint over sources and tests; floating promises are errors (an unhandled
// rejection kills a Node service).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "node_modules/**", "**/*.js", ".netpulse/**", "bpf/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-yield": "off",
      "require-yield": "off",
      // The "effect" barrel loads every module of the library, Schema and its fast-check
      // dependency included (~600 modules against ~230 for what we use), and a service keeps
      // all of it in its heap for its whole life: import each module by its own path.
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "effect", message: 'Import the module by path: import * as Effect from "effect/Effect".' }] },
      ],
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
);
