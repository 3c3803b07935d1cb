'use strict';
// What a result is worth without: the machine, the versions of everything measured, and the bench's own
// dependencies (installed on demand with `npm install --prefix bench`).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { peerVersion, bunBinary, BENCH } = require('./servers');

const PEERS = ['@trufflesuite/uws-js-unofficial', 'bun', 'fastify'];

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 }).trim();
  } catch (e) {
    return ((e.stdout || '') + (e.stderr || '')).trim() || null;
  }
}

// Installs bench/node_modules when a peer is missing. Returns a note (or null). Never throws: a peer that
// can't be installed is reported as missing by the run.
function ensureDeps({ log }) {
  const missing = PEERS.filter((p) => !peerVersion(p));
  if (!missing.length) return null;
  log(`bench: installing the bench's dependencies (missing: ${missing.join(', ')}): npm install --prefix bench`);
  const r = spawnSync('npm', ['install', '--prefix', BENCH, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60 * 1000,
  });
  const still = PEERS.filter((p) => !peerVersion(p));
  return r.status === 0 && !still.length ? null : `npm install --prefix bench failed (${r.status ?? r.error?.message}); missing: ${still.join(', ')}`;
}

function novaVersion() {
  const root = path.join(BENCH, '..');
  let v = null;
  try {
    v = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  } catch {}
  const rev = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--', 'lib', 'native', 'package.json']);
  return `${v ?? '?'}${rev && /^[0-9a-f]+$/.test(rev) ? ` (${rev}${dirty ? '+local changes' : ''})` : ''}`;
}

// nginx -v prints to stderr.
function nginxVersion() {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8', timeout: 5000,
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  return `${r.stdout || ''}${r.stderr || ''}`.match(/nginx\/(\S+)/)?.[1] ?? null;
}

function readSysctl(name) {
  try {
    return fs.readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim().replace(/\s+/g, ' ');
  } catch {
    return null;
  }
}

function collect() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model;
  const bun = bunBinary();
  return {
    date: new Date().toISOString(),
    cpuModel: cpu,
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `Linux ${os.release()}`,
    node: process.version,
    loadavgStart: os.loadavg().map((x) => x.toFixed(2)),
    versions: {
      'nova-http': novaVersion(),
      'uWebSockets.js (@trufflesuite/uws-js-unofficial)': peerVersion('@trufflesuite/uws-js-unofficial'),
      bun: bun ? sh(bun, ['--version']) : null,
      fastify: peerVersion('fastify'),
      wrk: (sh('wrk', ['-v']) || '').match(/wrk (\S+)/)?.[1] ?? null,
      ab: (sh('ab', ['-V']) || '').match(/Version (\S+)/)?.[1] ?? null,
      nginx: nginxVersion(),
    },
    sysctl: {
      'net.core.somaxconn': readSysctl('net.core.somaxconn'),
      'net.ipv4.tcp_tw_reuse': readSysctl('net.ipv4.tcp_tw_reuse'),
      'net.ipv4.ip_local_port_range': readSysctl('net.ipv4.ip_local_port_range'),
    },
  };
}

// The loop threads nova-http's createServer() uses by default on this machine (lib/options.ts DEFAULT_THREADS), or
// null when the build does not say.
function novaDefaultThreads(root) {
  try {
    const o = require(path.resolve(root, 'dist', 'options.js'));
    return typeof o.DEFAULT_THREADS === 'number' ? o.DEFAULT_THREADS : o.defaults?.threads ?? null;
  } catch {
    return null;
  }
}

module.exports = { ensureDeps, collect, novaDefaultThreads, PEERS };
