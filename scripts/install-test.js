#!/usr/bin/env node
// The no-compiler install test (CI's pack step): packs the package (`prepack` refuses without all seven prebuilds),
// checks the tarball holds them, installs it into a fresh project with a PATH that has node, npm and sh but no cc,
// c++, gcc, g++, make or python, and serves a request from there through the shipped prebuild. Then it removes this
// platform's prebuilds from the installed copy and checks the load error says what a user needs to know.
//   node scripts/install-test.js [--tarball=<file.tgz>]
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { TARGETS } = require('./prebuild-targets');

const ROOT = path.resolve(__dirname, '..');
const COMPILERS = ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'make', 'python', 'python3'];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300000, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout || ''}${r.stderr || ''}`);
  return r;
}

// A bin directory with links to node, npm, npx and sh only.
function barePath(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const which = (c) => must(sh('sh', ['-c', `command -v ${c}`]), `command -v ${c}`).stdout.trim();
  for (const c of ['node', 'npm', 'npx', 'sh', 'env']) fs.symlinkSync(fs.realpathSync(which(c)), path.join(bin, c));
  // npm and npx are scripts next to their own modules: link them by real path so they still find them.
  return bin;
}

function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-install-'));
  try {
    let tgz = (process.argv.find((a) => a.startsWith('--tarball=')) || '').slice('--tarball='.length);
    if (!tgz) {
      const r = must(sh('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }), 'npm pack');
      tgz = path.join(tmp, r.stdout.trim().split('\n').pop());
    }
    const listing = must(sh('tar', ['-tzf', tgz]), 'tar -t').stdout.split('\n').map((l) => l.replace(/^package\//, ''));
    const missing = TARGETS.filter((t) => !listing.includes(t.file));
    if (missing.length) throw new Error(`the tarball lacks ${missing.map((t) => t.file).join(', ')}`);
    const size = fs.statSync(tgz).size;
    console.log(`install-test: ${path.basename(tgz)}: ${(size / 1024 / 1024).toFixed(2)} MB, ${listing.filter(Boolean).length} files, all ${TARGETS.length} prebuilds`);

    const project = path.join(tmp, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "consumer", "private": true }\n');
    const env = { HOME: process.env.HOME, PATH: barePath(tmp), npm_config_fund: 'false', npm_config_audit: 'false',
      npm_config_update_notifier: 'false' };
    const found = COMPILERS.filter((c) => sh('sh', ['-c', `command -v ${c}`], { env }).status === 0);
    if (found.length) throw new Error(`the bare PATH still has ${found.join(', ')}`);
    console.log(`install-test: PATH=${env.PATH} (no ${COMPILERS.join(', ')})`);
    must(sh('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', tgz], { cwd: project, env, stdio: 'inherit' }), 'npm install of the tarball');

    const serve = `
      const http = require('http');
      const dir = require('path').dirname(require.resolve('nova-http/package.json'));
      const file = require('node-gyp-build').resolve(dir);
      const { createServer } = require('nova-http');
      const server = createServer((req, res) => res.end('served ' + req.url));
      server.listen(0, '127.0.0.1', () => {
        http.get({ host: '127.0.0.1', port: server.address().port, path: '/no-compiler' }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            console.log('install-test: ' + require('path').relative(dir, file) + ' answered ' + res.statusCode + ' ' + JSON.stringify(body));
            server.close();
            if (!file.includes('prebuilds') || res.statusCode !== 200 || body !== 'served /no-compiler') process.exit(1);
          });
        });
      });`;
    must(sh('node', ['-e', serve], { cwd: project, env, stdio: 'inherit', timeout: 30000 }), 'serving a request from the installed package');

    // Without a binary for this host, the load error names the host and says how to build from source.
    const installed = path.join(project, 'node_modules', 'nova-http');
    fs.rmSync(path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true, force: true });
    const r = sh('node', ['-e', "require('nova-http')"], { cwd: project, env });
    const msg = r.stderr;
    const want = [`${process.platform}-${process.arch}`, `Node ${process.version}`, 'npm rebuild nova-http --build-from-source', 'darwin-arm64', 'win32-x64'];
    if (process.platform === 'linux') want.push(fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
    const lacking = want.filter((w) => !msg.includes(w));
    if (r.status === 0 || lacking.length) throw new Error(`the load error without a prebuild lacks ${lacking.join(', ') || '(it loaded)'}:\n${msg}`);
    const lines = msg.split('\n');
    const start = lines.findIndex((l) => l.startsWith('Error: nova-http'));
    const end = lines.findIndex((l, i) => i > start && /^\s+(at |\.\.\.)/.test(l));
    console.log(`install-test: without a prebuild for this host, require() says:\n${lines.slice(start, end).join('\n')}`);
    console.log('install-test: ok');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  console.error(`install-test: ${e.message}`);
  process.exit(1);
}
