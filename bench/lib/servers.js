'use strict';
// The servers under test: how to start each, and whether it can be (a peer that is not installed is reported
// as missing, a nova-http model that does not exist yet as not yet available; neither is silently dropped).
const fs = require('node:fs');
const path = require('node:path');

const BENCH = path.join(__dirname, '..');
const SERVERS_DIR = path.join(BENCH, 'servers');
const NM = path.join(BENCH, 'node_modules');

function isElf(file) {
  try {
    const fd = fs.openSync(file, 'r');
    const b = Buffer.alloc(4);
    fs.readSync(fd, b, 0, 4, 0);
    fs.closeSync(fd);
    return b.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

// The bun executable from the npm package `bun`: its postinstall replaces bin/bun.exe with the platform binary;
// when install scripts did not run (npm 11 skips them unless allowed), the binary is still in @oven/bun-<platform>.
function bunBinary() {
  const candidates = [
    path.join(NM, 'bun', 'bin', 'bun.exe'),
    path.join(NM, '@oven', `bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`, 'bin', 'bun'),
    path.join(NM, '@oven', `bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}-baseline`, 'bin', 'bun'),
    path.join(NM, '.bin', 'bun'),
  ];
  return candidates.find(isElf) ?? null;
}

function peerVersion(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(NM, pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function onPath(prog) {
  return (process.env.PATH || '').split(path.delimiter).concat(['/usr/sbin', '/sbin'])
    .some((d) => d && fs.existsSync(path.join(d, prog)));
}

const node = process.execPath;
const nova = (ioModel, keepAlive, extra = {}) => ({
  usage: true,
  argv: [node, path.join(SERVERS_DIR, 'nova.js')],
  env: { NOVA_IO_MODEL: ioModel, NOVA_KEEPALIVE: keepAlive ? 'on' : 'off', ...extra },
});

// id -> definition. `nova: true` marks this project's servers; `peer` names the npm package it needs; `system` the
// program it needs on PATH (an apt package, not an npm one);
// `optional` ones run only when named in --servers; `usage`: a single process answering SIGUSR2 with its context
// switches (servers/_common.js).
const SERVERS = [
  { id: 'nova-evented', label: 'nova-http evented (default)', nova: true, ...nova('evented', true),
    note: 'createServer() defaults: the evented model, threads from the core count (0 on 1-2 cores, else 1)' },
  { id: 'nova-thread', label: 'nova-http evented, threads: 1', nova: true, ...nova('evented', true, { NOVA_THREADS: '1' }),
    note: 'one loop thread (the default on more than two cores)' },
  { id: 'nova-blocking', label: 'nova-http blocking', nova: true, ...nova('blocking', true) },
  { id: 'nova-close', label: 'nova-http blocking, keep-alive off', nova: true, ...nova('blocking', false),
    note: 'handler sends Connection: close: one connection per request (Phase 1 baseline)' },
  { id: 'nova-inline', label: 'nova-http evented, threads: 0', nova: true, optional: true,
    ...nova('evented', true, { NOVA_THREADS: '0' }),
    note: 'no I/O thread: sockets polled from Node\'s own loop (opt-in: the default on 1-2 cores, so nova-evented measures it there)' },
  { id: 'node', label: 'node:http', usage: true, argv: [node, path.join(SERVERS_DIR, 'node-http.js')], env: {} },
  { id: 'node-cluster', label: 'node:http cluster x2', argv: [node, path.join(SERVERS_DIR, 'node-cluster.js')],
    env: { CLUSTER_WORKERS: '2' } },
  { id: 'uws', label: 'uWebSockets.js', peer: '@trufflesuite/uws-js-unofficial', usage: true,
    argv: [node, path.join(SERVERS_DIR, 'uws.js')], env: {} },
  { id: 'nginx', label: 'nginx (1 worker)', system: 'nginx', argv: ['bash', path.join(SERVERS_DIR, 'nginx.sh')], env: {},
    note: 'worker_processes 1, access_log off, keepalive_requests lifted (others keep a connection for good); `return 200` from the config' },
  { id: 'bun', label: 'Bun.serve', peer: 'bun', argv: null, env: {} },
  { id: 'fastify', label: 'fastify', peer: 'fastify', usage: true, argv: [node, path.join(SERVERS_DIR, 'fastify.js')], env: {} },
];

// Fills in what depends on the installation: argv for bun, `missing` for peers that are not there.
function resolveServers() {
  return SERVERS.map((s) => {
    const d = { ...s, cwd: BENCH };
    if (s.peer && !peerVersion(s.peer)) d.missing = `npm package ${s.peer} is not installed in bench/node_modules`;
    if (s.system && !onPath(s.system)) d.missing = `${s.system} is not installed (Debian: apt-get install ${s.system})`;
    if (s.id === 'bun' && !d.missing) {
      const bin = bunBinary();
      if (bin) d.argv = [bin, path.join(SERVERS_DIR, 'bun.js')];
      else d.missing = 'the bun package is installed but no bun executable was found (postinstall did not run?)';
    }
    return d;
  });
}

module.exports = { SERVERS, resolveServers, peerVersion, bunBinary, BENCH };
