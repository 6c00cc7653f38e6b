import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Layers a folder of src/ must not import from: the dependency direction of the code map in README.md. */
const forbid = (files, layers, why) => ({
  files,
  rules: {
    "@typescript-eslint/no-restricted-imports": [
      "error",
      { patterns: layers.map((layer) => ({ group: [`**/${layer}/**`], message: why })) },
    ],
  },
});

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "charts/**", "coverage/**", ".tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  forbid(
    ["src/domain/**/*.ts"],
    ["data-access", "entry-points", "roles", "emulator", "cli", "local"],
    "the domain defines ports (domain/*/…-port.ts); data-access implements them and roles/ wires them",
  ),
  forbid(
    ["src/entry-points/**/*.ts"],
    ["data-access", "roles", "emulator", "cli", "local"],
    "entry points call the domain; roles/ wires the data-access implementations",
  ),
  forbid(
    ["src/data-access/**/*.ts"],
    ["entry-points", "roles", "emulator", "cli", "local"],
    "data-access implements the domain's ports and knows nothing of the edges",
  ),
  forbid(
    ["src/shared/**/*.ts", "src/config/**/*.ts"],
    ["domain", "data-access", "entry-points", "roles", "emulator", "cli", "local"],
    "shared code and config depend on nothing of the service",
  ),
);
