// Vitest for nova-http: behaviour tests in forked processes (the native addon owns threads and sockets, so each
// test file gets its own process); stress tests are run separately. The heavy files run afterwards, one at a time
// (vitest.heavy.mts); `npm test` runs both.
import { defineConfig } from 'vitest/config';
import { heavyFiles } from './test/heavy-files.mjs';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // test/win/: node:test files for Windows under wine (scripts/win-test.js)
    exclude: ['test/stress/**', 'test/win/**', 'node_modules/**', 'dist/**', ...heavyFiles],
    testTimeout: 20000,
    hookTimeout: 20000,
    teardownTimeout: 10000,
  },
});
