// Vitest for nova-http: behaviour tests in forked processes (the native addon owns threads and sockets, so each
// test file gets its own process); stress tests are run separately.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    exclude: ['test/stress/**', 'node_modules/**', 'dist/**'],
    testTimeout: 20000,
    hookTimeout: 20000,
    teardownTimeout: 10000,
  },
});
