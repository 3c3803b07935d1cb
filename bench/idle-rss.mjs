// RSS per idle keep-alive connection: a server child (test/soak/server.mjs) gets N connections from 127.0.0.1 with
// one request each, left open; its RSS and JS heap after a GC, before and after, divided by N. With several roots
// (builds of nova-http), the rounds interleave them so that a busy machine weighs on each alike.
//   node bench/idle-rss.mjs [--conns=5000] [--rounds=3] [--options='{"threads":0}'] [ROOT ...]   (default ROOT: .)
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const conns = Number(opt('conns', '5000'));
const rounds = Number(opt('rounds', '3'));
const options = JSON.parse(opt('options', '{}'));
const roots = args.filter((a) => !a.startsWith('--'));
if (roots.length === 0) roots.push(path.resolve(here, '..'));
const kDeadlineMs = 120_000; // a round that takes longer than this fails rather than hang

async function oneRound(root) {
  process.env.NOVA_ROOT = path.resolve(root);
  const { startServer } = await import(path.resolve(here, '../test/soak/server-child.mjs'));
  const { child, port, ask } = await startServer({ keepAliveTimeout: 600_000, ...options }, ['--expose-gc']);
  const timer = setTimeout(() => {
    console.error(`idle-rss: round on ${root} took over ${kDeadlineMs} ms`);
    child.kill('SIGKILL');
    process.exit(1);
  }, kDeadlineMs);
  const measure = async () => {
    await ask('gc');
    await ask('gc');
    const s = await ask('stats');
    return { rss: s.rss, heapTotal: s.memory.heapTotal, heapUsed: s.memory.heapUsed };
  };
  // Warm-up: one connection through the whole path, so first-use allocations don't count per connection.
  await openOne(port).then((s) => s.destroy());
  await new Promise((r) => setTimeout(r, 200));
  const before = await measure();
  const sockets = [];
  for (let i = 0; i < conns; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(conns, i + 100); j++) batch.push(openOne(port));
    sockets.push(...(await Promise.all(batch)));
  }
  const after = await measure();
  for (const s of sockets) s.destroy();
  await ask('close').catch(() => {});
  child.kill();
  clearTimeout(timer);
  const per = (k) => (after[k] - before[k]) / conns;
  return { rss: per('rss'), heapTotal: per('heapTotal'), heapUsed: per('heapUsed') };
}

// One keep-alive connection with one request answered; resolves with the open socket.
function openOne(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1');
    s.once('error', reject);
    s.on('connect', () => s.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n'));
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n') && got.endsWith('/x')) resolve(s);
    });
  });
}

const results = new Map(roots.map((r) => [r, []]));
for (let round = 0; round < rounds; round++) {
  for (const root of roots) results.get(root).push(await oneRound(root));
}
const fmt = (xs, k) => xs.map((x) => (x[k] / 1024).toFixed(2)).join(' / ');
console.log(`${conns} idle keep-alive connections, one request each; KiB per connection, per round`);
console.log(`options ${JSON.stringify(options)}`);
for (const [root, xs] of results) {
  console.log(`${root}\n  RSS ${fmt(xs, 'rss')}   heapTotal ${fmt(xs, 'heapTotal')}   heapUsed ${fmt(xs, 'heapUsed')}`);
}
