// The addon inside worker_threads: it loads, serves and closes there, the worker then exits by itself, and
// terminating a worker whose server is still listening closes the server and its connections (the environment
// cleanup hook). Each scenario runs in a child process, so a native crash or a hang shows up as this test failing
// (with the child's stderr) rather than taking the test runner down.
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { distPath, ioModels } from './helpers.js';
import { runChild as runChildProcess } from './helpers.js';

const runChild = (code: string, timeoutMs = 15000) => runChildProcess(code, timeoutMs);

/** The worker: starts a server, asks it one question over a raw socket, then closes it or leaves it listening. */
// Written to run both as a CommonJS and as an ES module eval script (an eval worker takes its parent's input type).
const workerSource = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const net = await import('node:net');
  const mod = await import(workerData.distUrl);
  const { createServer } = mod.createServer ? mod : mod.default;
  const s = createServer(workerData.model, (req, res) => res.end('from worker'));
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  const text = await new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n'));
    let d = '';
    c.on('data', (x) => (d += x.toString('latin1')));
    c.on('error', () => {});
    c.on('close', () => resolve(d));
  });
  if (workerData.mode === 'close') {
    await new Promise((r) => s.close(r));
    parentPort.postMessage({ text: text.replace(/Date: [^\\r]*/, 'Date: X') });
  } else {
    parentPort.postMessage({ text: text.replace(/Date: [^\\r]*/, 'Date: X'), port });
  }
})();
`;

/** Child-process prelude: helpers to run the worker and to talk to its server. */
function childPrelude(model: object): string {
  return `
    import { Worker } from 'node:worker_threads';
    import net from 'node:net';
    const distUrl = ${JSON.stringify(pathToFileURL(distPath).href)};
    const model = ${JSON.stringify(model)};
    const workerSource = ${JSON.stringify(workerSource)};
    const out = {};
    const timeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('timed out: ' + what)), ms).unref())]);
    const start = (mode) => {
      const w = new Worker(workerSource, { eval: true, workerData: { distUrl, model, mode } });
      w.on('error', (e) => { out.workerError = String(e && e.stack || e); });
      const message = new Promise((r) => w.once('message', r));
      const exit = new Promise((r) => w.once('exit', r));
      return { w, message, exit };
    };
    const refused = (port) => new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', (e) => resolve(e.code === 'ECONNREFUSED'));
    });
    const keepAliveClient = (port) => new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n'));
      const st = { data: '', closed: false, closedAfterTerminate: false };
      c.on('data', (d) => { st.data += d; if (!st.resolved) { st.resolved = true; resolve({ c, st }); } });
      c.on('error', () => {});
      c.on('close', () => { st.closed = true; });
    });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  `;
}

const expectedText =
  'HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\nContent-Length: 11\r\n\r\nfrom worker';

describe.each(ioModels)('worker_threads (%o)', (model) => {
  test('loads, serves and closes inside a worker, which then exits by itself with code 0', async () => {
    const code = `
      ${childPrelude(model)}
      try {
        const { message, exit } = start('close');
        out.text = (await timeout(message, 8000, 'worker message')).text;
        out.exitCode = await timeout(exit, 8000, 'the worker to exit by itself after server.close()');
      } catch (e) {
        out.failure = String(e.message);
      }
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    `;
    const r = await runChild(code);
    expect(r.signal, `child killed; stderr: ${r.stderr}`).toBe(null);
    expect(r.code, `child crashed; stderr: ${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ text: expectedText, exitCode: 0 });
  });

  test('terminate() with the server listening and a keep-alive client: everything closes; twice in a row', async () => {
    const code = `
      ${childPrelude(model)}
      out.rounds = [];
      try {
        for (let round = 0; round < 2; round++) {
          const { w, message } = start('stay');
          const msg = await timeout(message, 8000, 'worker message');
          const { st } = await timeout(keepAliveClient(msg.port), 3000, 'a response on the keep-alive connection');
          await timeout(w.terminate(), 8000, 'worker.terminate()');
          for (let i = 0; i < 150 && !st.closed; i++) await sleep(20);
          let isRefused = false;
          for (let i = 0; i < 50 && !isRefused; i++) { isRefused = await refused(msg.port); if (!isRefused) await sleep(20); }
          out.rounds.push({ text: msg.text, clientClosed: st.closed, refused: isRefused });
        }
      } catch (e) {
        out.failure = String(e.message);
      }
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    `;
    const r = await runChild(code);
    expect(r.signal, `child killed; stderr: ${r.stderr}`).toBe(null);
    expect(r.code, `child crashed; stderr: ${r.stderr}`).toBe(0);
    const round = { text: expectedText, clientClosed: true, refused: true };
    expect(JSON.parse(r.stdout)).toEqual({ rounds: [round, round] });
  });

  test('the process exits by itself after terminating a worker whose server was listening', async () => {
    const code = `
      ${childPrelude(model)}
      const { w, message } = start('stay');
      await timeout(message, 8000, 'worker message');
      await timeout(w.terminate(), 8000, 'worker.terminate()');
      process.on('exit', () => process.stdout.write('exit'));
    `;
    const r = await runChild(code);
    expect(r.signal, `child killed (hang?); stderr: ${r.stderr}`).toBe(null);
    expect(r.code, `child crashed; stderr: ${r.stderr}`).toBe(0);
    expect(r.stdout).toBe('exit');
  });
});
