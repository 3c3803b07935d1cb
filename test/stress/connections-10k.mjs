// Stress: 10,000 concurrent keep-alive connections x a few requests each, per I/O model. The server runs in a child
// process (test/stress/server-child.mjs, listen backlog 4096) so that each process holds ~10,000 descriptors and
// the server's RSS is its own; this process is the client. Reports per model: connect and request times, errors,
// the server's RSS before, with every connection open and idle, and per connection; exits 1 on any error.
//   node test/stress/connections-10k.mjs [--connections N] [--requests R] [--models blocking,epoll,poll,inline]
// Run it through test/stress/run.sh (npm run test:stress), which raises `ulimit -n` first.
import { execSync } from 'node:child_process';
import { closeAll, exerciseAll, openMany } from './load-client.mjs';
import { startServerProcess } from './server-process.mjs';

const MODELS = {
  blocking: { ioModel: 'blocking' },
  epoll: { ioModel: 'evented', backend: 'epoll' },
  poll: { ioModel: 'evented', backend: 'poll' },
  inline: { ioModel: 'evented', backend: 'epoll', threads: 0 },
};

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const N = Number(arg('connections', 10000));
const R = Number(arg('requests', 3));
const models = arg('models', 'blocking,epoll,poll,inline').split(',');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (b) => (b / 1048576).toFixed(1);

async function until(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function runModel(name) {
  const model = MODELS[name];
  if (!model) throw new Error(`unknown model ${name} (known: ${Object.keys(MODELS).join(', ')})`);
  const problems = [];
  // maxConnections is the default (10,000): exactly N = 10,000 must fit without evictions.
  const srv = await startServerProcess(model, { backlog: 4096 });
  let conns = [];
  try {
    const rssBase = (await srv.call('rss')).rss;
    const t0 = performance.now();
    conns = await openMany(srv.port, N, {
      wave: 500,
      timeoutMs: 20000,
      afterWave: (opened) => until(async () => (await srv.call('stats')).accepted >= opened, 20000, `${opened} accepts`),
    });
    await until(async () => (await srv.call('stats')).active === N, 20000, `${N} active connections`);
    const tOpen = performance.now();
    const result = await exerciseAll(conns, R, (i, j) => `/c${i}/r${j}`, (raw, i, j) => {
      const body = `/c${i}/r${j}`;
      const ok = raw.startsWith('HTTP/1.1 200 OK\r\n') && raw.endsWith(`\r\nContent-Length: ${body.length}\r\n\r\n${body}`) &&
        raw.includes('\r\nKeep-Alive: timeout=65\r\n') && !raw.includes('Connection: close');
      return ok ? undefined : `unexpected response ${JSON.stringify(raw.slice(0, 300))}`;
    });
    const tDone = performance.now();
    await until(async () => (await srv.call('stats')).idle === N, 10000, `${N} idle connections`);
    await sleep(200);
    const rssOpen = (await srv.call('rss')).rss;
    const open = await srv.call('stats');
    await closeAll(conns);
    await until(async () => (await srv.call('stats')).active === 0, 20000, 'every connection closed');
    const tClosed = performance.now();
    const end = await srv.call('stats');

    if (result.errorCount > 0) {
      problems.push(`${result.errorCount} request errors, first ${JSON.stringify(result.errors.slice(0, 3))}`);
    }
    if (result.responses !== N * R) problems.push(`${result.responses} of ${N * R} responses`);
    if (open.accepted !== N) problems.push(`accepted ${open.accepted}, expected ${N}`);
    if (open.requests !== N * R) problems.push(`stats.requests ${open.requests}, expected ${N * R}`);
    if (end.closes.client !== N) problems.push(`closes ${JSON.stringify(end.closes)}, expected client: ${N} only`);
    console.log(`${name.padEnd(8)} ${N} connections: connect ${Math.round(tOpen - t0)} ms, ${N * R} requests ` +
      `${Math.round(tDone - tOpen)} ms, close ${Math.round(tClosed - tDone)} ms; ${result.errorCount} errors; ` +
      `server RSS ${mb(rssBase)} MB -> ${mb(rssOpen)} MB with all open ` +
      `(${((rssOpen - rssBase) / N / 1024).toFixed(1)} KiB per connection)` +
      (problems.length ? `\n         PROBLEMS: ${problems.join('; ')}` : ''));
  } catch (e) {
    problems.push(e.message);
    console.log(`${name.padEnd(8)} FAILED: ${e.message}`);
    await closeAll(conns);
  } finally {
    await srv.close();
  }
  return problems.length === 0;
}

const limit = Number(execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim());
if (limit < N + 200) {
  console.error(`ulimit -n is ${limit}: ${N} connections need ${N + 200} descriptors in each of the client and the ` +
    'server process. Run through test/stress/run.sh, or lower --connections.');
  process.exit(2);
}
console.log(`nova-http stress: ${N} concurrent keep-alive connections x ${R} requests, models ${models.join(', ')}; ` +
  `ulimit -n ${limit}, ${(await import('node:os')).cpus().length} cores`);
const t0 = performance.now();
let ok = true;
for (const m of models) ok = (await runModel(m)) && ok;
console.log(`${ok ? 'ok' : 'FAILED'} in ${Math.round((performance.now() - t0) / 1000)} s`);
process.exit(ok ? 0 : 1);
