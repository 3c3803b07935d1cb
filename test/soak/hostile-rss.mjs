// The memory a server holds for clients that pipeline requests and never read an answer, nova-http (every I/O
// model) next to node:http under the same clients: each client writes R pipelined `GET /fixed?n=S` (S bytes each,
// given in one res.end() by test/soak/server.mjs, as most handlers do; --route=/big streams them with
// backpressure instead) and never reads. The server runs in a child process; its RSS
// is read from /proc before (after warm-up and GC) and every 100 ms while the clients hold on.
//
//   node test/soak/hostile-rss.mjs [--clients=1,1000] [--requests=400] [--size=16384] [--seconds=3] [--route=/fixed]
//                                  [--servers=blocking,epoll,poll,inline,node]
//
// Prints one line per server and client count: baseline and peak RSS, the growth per client, the RSS after a GC
// with the clients still connected, the RSS once they left (the difference is what the connections held; the
// rest of the growth is the process's own after the burst: the JS heap V8 keeps, memory the allocator keeps), and
// how many requests reached a handler (a bounded server stops parsing once its answers go unread, beyond what the
// kernel's socket buffers absorb).
import * as fs from 'node:fs';
import * as net from 'node:net';
import { startServer } from './server-child.mjs';

const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const CLIENTS = arg('clients', '1,1000').split(',').map(Number);
const REQUESTS = Number(arg('requests', '400'));
const SIZE = Number(arg('size', '16384'));
const SECONDS = Number(arg('seconds', '3'));
const ROUTE = arg('route', '/fixed');
const SERVERS = {
  blocking: { ioModel: 'blocking', maxConnections: 20000 },
  epoll: { ioModel: 'evented', backend: 'epoll', maxConnections: 20000 },
  poll: { ioModel: 'evented', backend: 'poll', maxConnections: 20000 },
  inline: { ioModel: 'evented', backend: 'epoll', threads: 0, maxConnections: 20000 },
  node: { peer: 'node:http' },
};
const chosen = arg('servers', Object.keys(SERVERS).join(',')).split(',');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (n) => (n / 1048576).toFixed(1);

function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

function request(port, target) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('data', () => {});
    s.on('close', resolve);
    s.on('error', reject);
    s.write(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  });
}

async function measure(name, clients) {
  const srv = await startServer(SERVERS[name], ['--expose-gc']);
  for (let i = 0; i < 50; i++) await request(srv.port, `/warm/${i}`);
  await srv.ask('gc');
  await sleep(200);
  const base = rssOf(srv.pid);
  const calls0 = (await srv.ask('stats')).calls;
  const pipeline = Buffer.from(
    Array.from({ length: REQUESTS }, (_, i) => `GET ${ROUTE}?n=${SIZE}&i=${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
  const sockets = [];
  for (let i = 0; i < clients; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, clients - i) }, () => new Promise((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      s.once('connect', () => {
        s.pause(); // never read an answer
        s.write(pipeline);
        resolve(s);
      });
    })));
    sockets.push(...batch);
  }
  let peak = base;
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    await sleep(100);
    peak = Math.max(peak, rssOf(srv.pid));
  }
  await srv.ask('gc');
  await sleep(300);
  const held = rssOf(srv.pid);  // the clients are still connected: what they make the server hold after a GC
  const st = await srv.ask('stats');
  const calls = st.calls - calls0;
  const js = `JS heap ${mib(st.memory.heapTotal)} MiB, external ${mib(st.memory.external)} MiB at the end`;
  for (const s of sockets) s.destroy();
  // What the connections themselves held: the RSS that goes when they do (their buffers and objects; the server
  // trims malloc once a surge of connections is over). The rest of `held` is the process's own after the burst:
  // the JS heap V8 grew and keeps, allocator memory not given back.
  await sleep(1000);
  await srv.ask('gc');
  await sleep(300);
  const gone = rssOf(srv.pid);
  srv.child.kill('SIGKILL');
  const per = (bytes) => `${(bytes / clients / 1024).toFixed(0)} KiB per client`;
  const line = `${name.padEnd(8)} clients ${String(clients).padStart(5)}: RSS ${mib(base)} -> peak ${mib(peak)} MiB ` +
    `(+${mib(peak - base)} MiB, ${per(peak - base)}), ` +
    `${mib(held)} MiB held after a GC (+${per(held - base)}), ${mib(gone)} MiB once they left ` +
    `(the connections held ${per(held - gone)}); ` +
    `${calls} of ${clients * REQUESTS} requests reached a handler; ${js}`;
  console.log(line);
  await sleep(300);
}

console.log(`# ${REQUESTS} pipelined GET ${ROUTE}?n=${SIZE} per client, never read, held ${SECONDS} s ` +
  `(${mib(REQUESTS * SIZE)} MiB of answers per client if all were made)`);
for (const clients of CLIENTS) for (const name of chosen) await measure(name, clients);
