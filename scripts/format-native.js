#!/usr/bin/env node
// clang-format over the C++ of native/, test/native/ and test/fuzz/ with the repository's .clang-format.
//   node scripts/format-native.js           rewrites the files in place (npm run format)
//   node scripts/format-native.js --check   lists the files that differ and exits 1 (npm run format:check, CI)
// CLANG_FORMAT picks the binary (default: clang-format-16, else clang-format).
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DIRS = ['native/core', 'native/io', 'native/node', 'test/native', 'test/fuzz'];

function findFormatter() {
  const candidates = process.env.CLANG_FORMAT ? [process.env.CLANG_FORMAT] : ['clang-format-16', 'clang-format'];
  for (const c of candidates) {
    if (spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) return c;
  }
  throw new Error(`no clang-format found (${candidates.join(', ')}): apt-get install clang-format-16`);
}

function files() {
  const out = [];
  for (const dir of DIRS) {
    for (const name of fs.readdirSync(path.join(ROOT, dir)).sort()) {
      if (/\.(cc|h)$/.test(name)) out.push(path.join(dir, name));
    }
  }
  return out;
}

function main() {
  const check = process.argv.includes('--check');
  const bin = findFormatter();
  const list = files();
  const args = check ? ['--dry-run', '--Werror', ...list] : ['-i', ...list];
  const r = spawnSync(bin, ['--style=file', ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    const bad = [...new Set([...(r.stderr || '').matchAll(/^([^\s:]+\.(?:cc|h)):\d+:\d+: error/gm)].map((m) => m[1]))];
    console.error(bad.length ? `not formatted (npm run format):\n  ${bad.join('\n  ')}` : r.stderr);
    return 1;
  }
  console.log(`${list.length} files ${check ? 'formatted as .clang-format says' : 'formatted'} (${bin})`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`format-native: ${e.message}`);
  process.exitCode = 1;
}
