// ESLint 9 flat config: `npm run lint:eslint`. Formatting is Prettier's job (eslint-config-prettier switches off
// every stylistic rule); this config keeps the rules about meaning, plus the project's boundaries inside files:
// no console and no `process` outside src/cli/ (the CLI is the only place that talks to the terminal and the OS),
// and no line over 140 characters (Prettier cannot break a long string, template or comment, so it needs a check).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const MAX_LINE = 140;

const processMessage = 'Only src/cli/ talks to the process (argv, env, exit, stdio): pass what you need in as arguments.';
const consoleMessage = 'Only src/cli/ writes to the terminal: return data or take a writer as an argument.';

export default defineConfig(
  globalIgnores(['dist/', 'reports/', 'coverage/', '.vitest-tmp/', 'test/fixtures/', '**/__snapshots__/']),
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  // Type-checked rules through tsconfig.test.json (it covers src/, test/, bench/ and vitest.config.ts): one
  // TypeScript program, the one `npm run typecheck` builds. recommendedTypeChecked, not strictTypeChecked: the
  // strict set mostly restyles code that tsc --strict already accepts.
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // tsc's noUnusedLocals already reports unused locals; this adds unused parameters, unless they are `_`-named.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // Tests: vitest types its asymmetric matchers (expect.stringMatching, expect.stringContaining, expect.any…) as
  // `any`, so every matcher put in an expected object or passed to toMatchObject is an "unsafe assignment". The
  // other no-unsafe-* rules stay on: reading a member of an untyped JSON.parse result is still reported.
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  // Everything under src/ is library code: the CLI is the one layer that owns the terminal and the process.
  // (bin/, test/ and bench/ are programs and may use both.)
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': ['error', { name: 'process', message: processMessage }],
      'no-restricted-properties': [
        'error',
        { object: 'globalThis', property: 'process', message: processMessage },
        { object: 'globalThis', property: 'console', message: consoleMessage },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'process', message: processMessage },
            { name: 'node:process', message: processMessage },
            { name: 'console', message: consoleMessage },
            { name: 'node:console', message: consoleMessage },
          ],
        },
      ],
    },
  },
  // Last: switch off every rule that would fight Prettier…
  prettier,
  // …then put back the one eslint-config-prettier turns off on purpose: the line length. Prettier wraps code at
  // printWidth 140 but leaves long strings, templates, comments and URLs alone, so nothing is ignored here.
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    rules: {
      'max-len': [
        'error',
        {
          code: MAX_LINE,
          tabWidth: 2,
          ignoreUrls: false,
          ignoreStrings: false,
          ignoreTemplateLiterals: false,
          ignoreRegExpLiterals: false,
          ignoreComments: false,
        },
      ],
    },
  },
);
