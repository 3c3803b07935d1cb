// nova-http's TypeScript types extend @types/node's: test/types/handlers.ts (an Express app as the listener,
// handlers typed with http.IncomingMessage/http.ServerResponse, supertest on a nova-http server) must compile under
// `strict`, and its @ts-expect-error line proves the check is real.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('handlers typed for node:http and Express apps type-check against createServer (strict)', () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'test', 'types', 'tsconfig.json')],
    { encoding: 'utf8', cwd: root, timeout: 120000 });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
