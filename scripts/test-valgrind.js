#!/usr/bin/env node
// `npm run test:valgrind`: valgrind memcheck over test/valgrind/requests.js (a server in each I/O model: keep-alive,
// pipelined, bodies, streamed, HTTP/1.0, malformed, reset; then closed) against the addon built without
// sanitizers, with debug info, into build-valgrind/. Fails on any memcheck error or definitely lost block
// (--error-exitcode), or if the script itself fails. test/valgrind/node.supp, if present, holds suppressions for
// Node's own errors (none were needed with Node 20.20 and valgrind 3.19).
//   node scripts/test-valgrind.js [--no-build] [blocking|evented|inline ...]
'use strict';

const fs = require('fs');
const path = require('path');
const { buildAddon, run } = require('./test-asan.js');

const ROOT = path.resolve(__dirname, '..');
const OUT = 'build-valgrind';
const VALGRIND_ERROR = 99;

async function main() {
  const argv = process.argv.slice(2);
  const models = argv.filter((a) => !a.startsWith('--'));
  const t0 = Date.now();
  if (!argv.includes('--no-build')) {
    console.log(`==== test:valgrind: build the addon into ${OUT}/ (no sanitizers, -g), compile lib/ to dist/`);
    const code = await buildAddon(OUT, ['--CDNOVA_SANITIZE=']);
    if (code !== 0) return code;
  }
  const addon = path.join(ROOT, OUT, 'RelWithDebInfo', 'nova_http.node');
  if (!fs.existsSync(addon)) {
    console.log(`${path.relative(ROOT, addon)} is missing (run without --no-build)`);
    return 1;
  }
  const supp = path.join(ROOT, 'test', 'valgrind', 'node.supp');
  const args = [
    '--tool=memcheck', `--error-exitcode=${VALGRIND_ERROR}`, '--leak-check=full', '--show-leak-kinds=definite',
    '--errors-for-leak-kinds=definite', '--num-callers=40',
    ...(fs.existsSync(supp) ? [`--suppressions=${supp}`] : []),
    process.execPath, 'test/valgrind/requests.js', ...models,
  ];
  console.log(`==== test:valgrind: valgrind ${args.slice(0, -2 - models.length).join(' ')} node test/valgrind/requests.js`);
  const code = await run('valgrind', args, { ...process.env, NOVA_HTTP_ADDON: addon }, 900_000);
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (code === VALGRIND_ERROR) console.log(`test:valgrind: memcheck found errors or definite leaks (above), ${secs} s`);
  else if (code !== 0) console.log(`test:valgrind: the script failed (exit ${code}), ${secs} s`);
  else console.log(`test:valgrind: no memcheck errors, no definite leaks, ${secs} s`);
  return code === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(e);
  process.exitCode = 1;
});
