// ESLint flat config: typescript-eslint's recommended rules (syntactic only, no type
// information, so `npm run lint` stays fast) over src/.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  globalIgnores(["dist/", "node_modules/"]),
  {
    files: ["src/**/*.ts"],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      // The op registry stores heterogeneous op definitions; `any` there is deliberate.
      "@typescript-eslint/no-explicit-any": "off",
      // TypeScript checks undefined names itself, and knows Node's globals from @types/node.
      "no-undef": "off",
      "no-unused-vars": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },
);
