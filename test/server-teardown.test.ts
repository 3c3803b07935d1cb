// Environment teardown while the server's JS thread is stalled and a large body arrives (the queue for JS full, the
// reading thread waiting for room): worker.terminate() returns promptly and the process lives on. With threads: 0
// it crashed the process (libuv ran the addon's close callbacks after the worker's addon was unloaded).
import { describe, expect, test } from 'vitest';
import { distPath, ioModels, runChild } from './helpers.js';

function script(model: Record<string, unknown>): string {
  const worker = `(async () => {
    const { parentPort } = await import('node:worker_threads');
    const { createServer } = await import(${JSON.stringify(distPath)});
    const server = createServer(${JSON.stringify(model)}, () => {});
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => { for (;;) {} });  // stall: nothing takes the batches any more
  })();`;
  return `
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
const w = new Worker(${JSON.stringify(worker)}, { eval: true });
const port = await new Promise((r) => w.once('message', r));
// Another process sends a 64 MiB body, so the queue for JS fills to its cap and the reading thread waits for room.
const client = spawn(process.execPath, ['-e', \`
  const s = require('net').connect(\${port}, '127.0.0.1', () => {
    s.write('POST / HTTP/1.1\\\\r\\\\nHost: t\\\\r\\\\nContent-Length: 67108864\\\\r\\\\n\\\\r\\\\n');
    s.write(Buffer.alloc(67108864));
  });
  s.on('error', () => {});
  setTimeout(() => process.exit(0), 15000);\`], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 200));
w.postMessage('stall');
await new Promise((r) => setTimeout(r, 1000));
const t0 = Date.now();
await w.terminate();
console.log('terminate-ms', Date.now() - t0);
client.kill();
`;
}

describe.each(ioModels)('teardown (%o)', (model) => {
  test('worker.terminate() while its JS is stalled and a 64 MiB body arrives: prompt, no crash', async () => {
    const r = await runChild(script(model), 20000);
    expect(r.code, r.stderr).toBe(0);
    const ms = Number(/terminate-ms (\d+)/.exec(r.stdout)?.[1]);
    expect(ms, 'ms worker.terminate() took').toBeLessThan(2000);
  });
});
