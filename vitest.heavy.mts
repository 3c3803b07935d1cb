// The heavy and timing-sensitive test files (test/heavy-files.mjs), one file at a time after the rest.
import { defineConfig } from 'vitest/config';
import { heavyFiles } from './test/heavy-files.mjs';

export default defineConfig({
  test: {
    pool: 'forks',
    include: heavyFiles,
    fileParallelism: false,
    testTimeout: 60000,
    hookTimeout: 20000,
    teardownTimeout: 10000,
  },
});
