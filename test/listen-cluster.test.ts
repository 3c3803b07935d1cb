// node:cluster workers each listening on one port. nova-http's listener is native, so it never goes through the
// cluster primary's shared handle: with `reusePort: true` every worker binds the port itself (SO_REUSEPORT) and the
// kernel spreads connections over them; without it the first worker gets the port and the others EADDRINUSE (never a
// port of their own). Every I/O model; exact bytes from each worker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { distPath, ioModels, runChild } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nova-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const worker = join(dir, 'worker.cjs');
writeFileSync(worker, `
const { createServer } = require(${JSON.stringify(distPath)});
const model = JSON.parse(process.env.MODEL);
const server = createServer(model, (req, res) => res.end('worker ' + process.env.WORKER));
server.on('error', (e) => process.send({ worker: process.env.WORKER, error: e.code, message: e.message }));
server.listen({ port: Number(process.env.PORT), host: '127.0.0.1', reusePort: process.env.REUSE === '1' },
  () => process.send({ worker: process.env.WORKER, listening: server.address().port }));
process.on('message', (m) => { if (m === 'stop') server.close(() => process.exit(0)); });
`);

/** The primary: forks two workers on one free port; with both listening, 40 connections say which one answered. */
const primary = (model: object, reuse: boolean) => `
import cluster from 'node:cluster';
const port = await new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => {
  const p = s.address().port; s.close(() => r(p)); }); });
cluster.setupPrimary({ exec: ${JSON.stringify(worker)}, execArgv: [] });  // not this -e code again
const results = [];
const workers = [];
// The second worker starts once the first has listened, so that "first" is well defined.
for (const n of [1, 2]) {
  const w = cluster.fork({ PORT: port, WORKER: n, REUSE: ${reuse ? "'1'" : "'0'"},
    MODEL: ${JSON.stringify(JSON.stringify(model))} });
  workers.push(w);
  await new Promise((r) => w.once('message', (m) => { results.push(m); r(); }));
}
const answers = {};
const get = () => new Promise((resolve, reject) => {
  const c = net.connect(port, '127.0.0.1', () => c.end('GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n'));
  let d = ''; c.on('data', (x) => d += x); c.on('end', () => resolve(d)); c.on('error', reject);
});
for (let i = 0; i < 40 && Object.keys(answers).length < 2; i++) {
  const text = await get();
  const body = text.slice(text.indexOf('\\r\\n\\r\\n') + 4);
  answers[body] = text.replace(/Date: [^\\r]*/, 'Date: X');
}
console.log(JSON.stringify({ port, results, answers }));
for (const w of workers) w.send('stop');
`;

const answer = (n: number) =>
  `HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\nContent-Length: 8\r\n\r\nworker ${n}`;

describe.each(ioModels)('node:cluster (%o)', (model) => {
  test('reusePort: true: both workers listen on the port and both answer', async () => {
    const r = await runChild(primary(model, true), 20000);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.results).toEqual([{ worker: '1', listening: out.port }, { worker: '2', listening: out.port }]);
    expect(out.answers).toEqual({ 'worker 1': answer(1), 'worker 2': answer(2) });
    expect(r.code).toBe(0);
  });

  test('without reusePort: the first worker serves, the second gets EADDRINUSE', async () => {
    const r = await runChild(primary(model, false), 20000);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.results).toEqual([
      { worker: '1', listening: out.port },
      { worker: '2', error: 'EADDRINUSE', message: `listen EADDRINUSE: address already in use 127.0.0.1:${out.port}` },
    ]);
    expect(out.answers).toEqual({ 'worker 1': answer(1) });
    expect(r.code).toBe(0);
  });
});

