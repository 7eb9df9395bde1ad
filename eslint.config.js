import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".holdfast/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    // Protocols are pure: time, randomness and I/O arrive as inputs.
    files: ["src/protocols/**/*.ts"],
    ignores: ["src/protocols/**/*.test.ts"],
    rules: {
      "no-restricted-globals": ["error", "setTimeout", "setInterval", "setImmediate", "process"],
      "no-restricted-imports": ["error", { patterns: ["node:*", "fs", "net", "../../runtime/*", "../../adapters/*", "../../services/*"] }],
      "no-restricted-properties": ["error", { object: "Date", property: "now" }, { object: "Math", property: "random" }],
    },
  },
);
