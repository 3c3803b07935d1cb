// The pipelining flood, many times in a row, in every I/O model: the check that the 'drain' hand-off between
// pipelined responses cannot lose a wake-up (it used to stall the flood now and then: a response behind the front
// took the front's Drain and nothing moved again). Each run opens one connection, pipelines N requests (even ones
// echo their target, odd ones stream 16 KiB with backpressure, /big), leaves them unread for a moment, then reads
// every answer in order; a run with no progress for 10 s is a stall.
//
//   node test/soak/flood-repeat.mjs [--runs=200] [--requests=2000] [--models=blocking,epoll,poll,inline]
//
// Prints one line per model: runs done, stalls, slowest run; exits 1 on any stall or wrong answer. On a stall it
// also prints where the requests got to: how many native parsed (stats().requests) and how many reached a handler,
// against how many were sent, so a request never parsed, never delivered to JS or never answered can be told apart.
import * as net from 'node:net';
import { startServer } from './server-child.mjs';

const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const RUNS = Number(arg('runs', '200'));
const N = Number(arg('requests', '2000'));
const BIG = 16 * 1024;
const MODELS = {
  blocking: { ioModel: 'blocking' },
  epoll: { ioModel: 'evented', backend: 'epoll' },
  poll: { ioModel: 'evented', backend: 'poll' },
  inline: { ioModel: 'evented', backend: 'epoll', threads: 0 },
};
const chosen = arg('models', Object.keys(MODELS).join(',')).split(',');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const target = (i) => (i % 2 === 0 ? `/p/${i}` : `/big?n=${BIG}&i=${i}`);
const requests = Buffer.from(Array.from({ length: N }, (_, i) => `GET ${target(i)} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));

/** One flood: resolves with an error text, or undefined when all N answers came right and in order. */
function flood(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let pending = Buffer.alloc(0);
    let count = 0;
    let timer;
    const finish = (error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(`stall: no progress for 10 s after ${count} of ${N} answers`), 10000);
    };
    socket.on('error', (e) => finish(`socket error after ${count}: ${e.message}`));
    socket.on('close', () => finish(count === N ? undefined : `closed after ${count} answers`));
    socket.once('connect', async () => {
      socket.pause();
      socket.write(requests);
      await sleep(50); // unread for a moment: backpressure and the pipeline cap hold the server back
      socket.on('data', (d) => {
        arm();
        pending = pending.length ? Buffer.concat([pending, d]) : d;
        let off = 0;
        while (count < N) {
          const end = pending.indexOf('\r\n\r\n', off, 'latin1');
          if (end < 0) break;
          const head = pending.toString('latin1', off, end);
          const len = Number(/\r\nContent-Length: (\d+)/i.exec(head)?.[1] ?? NaN);
          if (Number.isNaN(len)) return finish(`answer ${count} has no Content-Length: ${head}`);
          if (end + 4 + len > pending.length) break;
          const body = pending.subarray(end + 4, end + 4 + len);
          const ok = count % 2 === 0 ? body.toString('latin1') === `/p/${count}` : body.length === BIG;
          if (!head.startsWith('HTTP/1.1 200 OK\r\n') || !ok) return finish(`answer ${count} is wrong: ${head}`);
          count++;
          off = end + 4 + len;
        }
        pending = pending.subarray(off);
        if (count === N) finish(undefined);
      });
      arm();
      socket.resume();
    });
  });
}

let failed = false;
for (const name of chosen) {
  const srv = await startServer(MODELS[name]);
  let stalls = 0;
  let wrong = 0;
  let slowest = 0;
  const t0 = Date.now();
  for (let run = 0; run < RUNS; run++) {
    const t = Date.now();
    const error = await flood(srv.port);
    slowest = Math.max(slowest, Date.now() - t);
    if (error) {
      if (error.startsWith('stall')) {
        stalls++;
        const st = await srv.ask('stats');
        console.log(`${name} run ${run}: ${N * (run + 1)} requests sent so far, ${st.stats?.requests} parsed by ` +
          `native, ${st.calls} reached a handler`);
      } else {
        wrong++;
      }
      console.log(`${name} run ${run}: ${error}`);
    }
  }
  srv.child.kill();
  console.log(`${name.padEnd(8)} ${RUNS} floods of ${N} pipelined requests: ${stalls} stalls, ${wrong} wrong, ` +
    `slowest ${slowest} ms, total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (stalls || wrong) failed = true;
}
process.exit(failed ? 1 : 0);
