#!/usr/bin/env node
'use strict';
// Where a keep-alive connection's memory goes: starts bench/memory/server.js (the benchmark's nova-http server with
// a memory probe), drives it with wrk -t1 at each connection count, and prints, at the sample with the highest RSS
// of each cell, RSS, V8's heap (per space) and what is left for native memory (RSS minus the V8 heap's committed
// pages and ArrayBuffers), then the difference per added connection between the two counts.
//   node bench/memory/run.js [--conns=100,5000] [--seconds=5] [--nova-root=DIR] [--threads=N] [--rounds=N]
const path = require('node:path');
const { fork, spawnSync } = require('node:child_process');

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split(/=(.*)/s);
  return [k, v === undefined ? true : v];
}));
const CONNS = String(args.conns ?? '100,5000').split(',').map(Number);
const SECONDS = Number(args.seconds ?? 5);
const ROUNDS = Number(args.rounds ?? 1);
const env = { ...process.env };
if (args['nova-root']) env.NOVA_ROOT = path.resolve(String(args['nova-root']));
if (args.threads !== undefined) env.NOVA_THREADS = String(args.threads);

function ask(child, msg) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(msg);
  });
}

// The port from the server's `READY <port>` line (bench/servers/_common.js); an UNAVAILABLE line or an exit ends
// the run with its reason.
function readyPort(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(?:READY (\d+)|UNAVAILABLE (.*))$/m.exec(out);
      if (m) (m[1] ? resolve(Number(m[1])) : reject(new Error(`server unavailable: ${m[2]}`)));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before READY`)));
  });
}

async function cell(conns) {
  // Each cell in a fresh server, as bench/run.js measures peak RSS per cell.
  const child = fork(path.join(__dirname, 'server.js'), [], { env: { ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await readyPort(child);
  const wrk = (s) => spawnSync('bash', ['-c',
    `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec wrk -t1 -c${conns} -d${s}s --timeout 2s http://127.0.0.1:${port}/`],
  { encoding: 'utf8' });
  wrk(2);  // warm-up, as bench/run.js
  const w = wrk(SECONDS);
  const rps = /Requests\/sec:\s*([\d.]+)/.exec(w.stdout)?.[1];
  const { peak } = await ask(child, 'report');
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  return { ...peak, conns, rps: Number(rps) };
}

const KEYS = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers', 'new_space.size', 'new_space.used',
  'old_space.size', 'old_space.used', 'code_space.size', 'map_space.size', 'large_object_space.size'];

function native(s) {
  // RSS not explained by V8's committed heap pages nor ArrayBuffer contents: native allocations (malloc'd by the
  // addon, libuv, node), thread stacks, and code/data pages of the binaries.
  let heapPhysical = 0;
  for (const k of Object.keys(s)) if (k.endsWith('.physical')) heapPhysical += s[k];
  return s.rss - heapPhysical - s.arrayBuffers;
}

(async () => {
  const results = [];
  for (let r = 0; r < ROUNDS; r++) for (const c of CONNS) results.push(await cell(c));
  const keys = [...KEYS, 'native (rss - heap physical - arrayBuffers)'];
  const val = (s, k) => (k.startsWith('native') ? native(s) : s[k]);
  console.log(`| at the highest-RSS sample | ${results.map((s) => `${s.conns} conns (${Math.round(s.rps / 1000)}k req/s)`).join(' | ')} |`);
  console.log(`|---|${results.map(() => '---:').join('|')}|`);
  for (const k of keys) {
    if (results.every((s) => val(s, k) === undefined)) continue;
    console.log(`| ${k} | ${results.map((s) => `${(val(s, k) / 1048576).toFixed(2)} MiB`).join(' | ')} |`);
  }
  // Per added connection, between the first and last count of each round.
  for (let r = 0; r < ROUNDS; r++) {
    const a = results[r * CONNS.length];
    const b = results[r * CONNS.length + CONNS.length - 1];
    const n = b.conns - a.conns;
    const per = (k) => `${k} ${((val(b, k) - val(a, k)) / n).toFixed(0)} B`;
    console.log(`requests per batch: ${a.conns}: ${(a.requests / a.batches).toFixed(1)}, ${b.conns}: ${(b.requests / b.batches).toFixed(1)}`);
    console.log(`round ${r + 1}, per added connection: ${keys.map(per).join(', ')}`);
  }
})();
