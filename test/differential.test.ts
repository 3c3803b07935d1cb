// The differential run against llhttp (test/differential/run.mjs, docs/differential.md) as part of the suite: every
// input of the corpus and its variants goes to nova-http and to node:http, and no difference may appear that is not
// documented in test/differential/expected.json with the same kind and reason (a new one is either a bug to fix or
// a reason to write in test/differential/reasons.mjs and document with `npm run test:diff -- --write`).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'differential/run.mjs');

test('nova-http vs llhttp: every difference is documented, none unexplained', () => {
  const r = spawnSync(process.execPath, [script, '--check', '--json'], { encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  let summary: { inputs: number; differences: number; unexplained: number; undocumented: string[] } | undefined;
  try {
    summary = JSON.parse(lines[lines.length - 1]);
  } catch {
    // reported below with the whole output
  }
  expect(summary, `run.mjs did not finish (exit ${r.status}):\n${r.stdout}\n${r.stderr}`).toBeDefined();
  expect(summary!.inputs).toBeGreaterThan(1000);
  expect(summary!.unexplained, r.stdout).toBe(0);
  expect(summary!.undocumented, r.stdout).toEqual([]);
  expect(r.status, r.stdout + r.stderr).toBe(0);
}, 150_000);
