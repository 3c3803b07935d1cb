// ESLint for lib/ and test/ (flat config): ESLint's recommended rules everywhere, typescript-eslint's recommended
// rules on TypeScript. Run from the repository root with `npm run lint` (it installs this folder's packages).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', 'build/**', 'build-*/**', 'bench/**'] },
  {
    files: ['lib/**/*.ts', 'test/**/*.ts', 'test/**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      // Node-compatible signatures keep their parameters (setTimeout(_ms, _cb)): an underscore marks them unused.
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['lib/**/*.ts', 'test/**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Tests drive untyped objects on purpose (handlers' req/res, ws sockets, node internals): any is allowed there.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS scripts (require/module).
    files: ['test/**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
