import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The core decides; it never reaches out. Anything that does I/O, reads the clock or the
// environment, or talks HTTP belongs in src/adapters and is passed in.
const impureModules = [
  {
    group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'http', 'https', 'net'],
    message: 'src/core is pure: no Node built-ins.',
  },
  {
    group: ['ky', '@octokit/*', 'pino', 'yaml', 'commander', 'msw', 'msw/*'],
    message: 'src/core is pure: no HTTP clients, loggers, parsers of files or CLI libraries.',
  },
  {
    group: [
      '**/adapters/*',
      '**/adapters',
      '**/commands/*',
      '**/commands',
      '**/tick/*',
      '**/tick',
      '../cli.js',
    ],
    message: 'src/core must not import adapters, commands or the tick module.',
  },
];

// src/ is what the image ships. The emulators (test fakes) and tools (demo, bench) sit beside it,
// need dev-only packages, and must never become part of it.
const notShipped = {
  group: ['**/emulators', '**/emulators/**', '**/tools', '**/tools/**'],
  message: 'src/ is what ships: it must not import emulators/ or tools/.',
};
// no-restricted-imports does not see `import()`, and src/ loads most modules that way.
const notShippedDynamic = {
  selector: 'ImportExpression[source.value=/(^|[.][.].)(emulators|tools)([^a-z-]|$)/]',
  message: notShipped.message,
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [notShipped] }],
      'no-restricted-syntax': ['error', notShippedDynamic],
    },
  },
  {
    // Replaces both rules' options for src/core (flat config does not merge them): keep both.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...impureModules, notShipped] }],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core is pure: pass env and argv in.' },
        { name: 'fetch', message: 'src/core is pure: HTTP lives in src/adapters.' },
        { name: 'setTimeout', message: 'src/core is pure: no timers.' },
      ],
      'no-restricted-syntax': [
        'error',
        notShippedDynamic,
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/core is pure: take `now` as a parameter.',
        },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'src/core is pure: take `now` as a parameter.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'src/core is pure: take randomness as a parameter.',
        },
      ],
    },
  },
);
