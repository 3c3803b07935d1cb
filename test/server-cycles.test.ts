// A closed server leaves nothing behind: 100 listen()/request/close() cycles in a child process, after 200 more to
// warm up, leave its threads and descriptors where they were and its RSS within a few MiB, and the native server
// objects are garbage-collected (nothing holds them once ServerClosed is delivered). Before the fix, 100 evented
// cycles left +100 loop threads, +200 descriptors and +15 MiB; a fixed server's RSS grows during the first 100-200
// cycles (allocator and V8 warm-up: +6 to +14 MiB), then by under 1 MiB per 100.
import { describe, expect, test } from 'vitest';
import { distPath, ioModels, runChild } from './helpers.js';
import { note } from './helpers/hostile.js';

const WARM = 200;
const CYCLES = WARM + 100;

// The child: cycles of createServer/listen/one request/close, with readings after the warm-up and at the end.
function script(model: Record<string, unknown>): string {
  return `
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createServer } from ${JSON.stringify(distPath)};
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const model = ${JSON.stringify(model)};
const refs = [];
const tick = (ms) => new Promise((r) => setTimeout(r, ms));
async function settle() {
  for (let i = 0; i < 6; i++) { gc(); await tick(20); }
}
function reading() {
  const rss = Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  return { threads: fs.readdirSync('/proc/self/task').length, fds: fs.readdirSync('/proc/self/fd').length, rss };
}
async function cycle(i) {
  const server = createServer(model, (req, res) => res.end('cycle ' + i));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  refs.push(new WeakRef(server._native));
  const body = await new Promise((resolve, reject) => {
    const s = net.connect(server.address().port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('close', () => resolve(got.slice(got.indexOf('\\r\\n\\r\\n') + 4)));
    s.on('error', reject);
    s.write('GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n');
  });
  if (body !== 'cycle ' + i) throw new Error('cycle ' + i + ': got ' + JSON.stringify(body));
  await new Promise((r) => server.close(r));
}
for (let i = 0; i < ${WARM}; i++) await cycle(i);
await settle();
const warm = reading();
for (let i = ${WARM}; i < ${CYCLES}; i++) await cycle(i);
await settle();
const end = reading();
const alive = refs.filter((r) => r.deref() !== undefined).length;
console.log(JSON.stringify({ warm, end, alive }));
`;
}

describe.each(ioModels)('listen/close cycles (%o)', (model) => {
  test(`${CYCLES - WARM} listen()/close() cycles: no thread, descriptor or native server left behind`, async () => {
    const r = await runChild(script(model), 60000);
    expect(r.code, r.stderr).toBe(0);
    const { warm, end, alive } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    note(`${JSON.stringify(model)}: after ${WARM} cycles ${JSON.stringify(warm)}, after ${CYCLES} ${JSON.stringify(end)}, ` +
      `native servers not collected: ${alive}`);
    expect(end.threads, 'threads after the last cycle vs after the warm-up').toBeLessThanOrEqual(warm.threads);
    expect(end.fds, 'descriptors after the last cycle vs after the warm-up').toBeLessThanOrEqual(warm.fds);
    expect(end.rss - warm.rss, 'RSS growth over 100 cycles (bytes)').toBeLessThan(8 * 1024 * 1024);
    expect(alive, 'native servers still alive after close() and GC').toBeLessThanOrEqual(2);
  });
});
