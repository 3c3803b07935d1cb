// A handler that throws: before the head is sent the client gets a 500 with Connection: close; after, the
// connection just closes (the response is left incomplete). The error is reported (to an 'error' or 'clientError'
// listener, or to stderr when nobody listens) and the server keeps serving.
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup, distPath, errorResponse, get, ioModels, normalize, RawClient, response, sleep, startServer, waitFor,
} from './helpers.js';
import { runChild as runChildProcess } from './helpers.js';

const runChild = (code: string, timeoutMs = 10000) => runChildProcess(code, timeoutMs);

afterEach(cleanup);

describe.each(ioModels)('a throwing handler (%o)', (model) => {
  test('throws before sending headers -> 500 + Connection: close; the next connection is served', async () => {
    const reported: unknown[] = [];
    const boom = new Error('boom before headers');
    const { port, server } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/throw') throw boom;
      res.end('fine');
    });
    server.on('error', (e: unknown) => reported.push(e));
    server.on('clientError', (e: unknown) => reported.push(e));

    const c = await RawClient.connect(port);
    await c.write(get('/throw'));
    expect(await c.waitClose(3000)).toBe(true);
    expect(normalize(c.text)).toBe(errorResponse(500));

    const d = await RawClient.connect(port);
    await d.write(get('/ok'));
    const rs = await d.waitResponses(1);
    expect(normalize(rs[0].raw)).toBe(response({ body: 'fine' }));

    // the error reached a listener ('error' or 'clientError'), as the thrown object or as the cause of one
    await waitFor(() => reported.length > 0, 2000, 'the handler error to be reported');
    const r = reported[0] as { cause?: unknown; message?: string };
    expect(r === boom || r.cause === boom || String(r.message).includes('boom before headers')).toBe(true);
  });

  test('throws after the head and part of a streamed body -> the connection closes, response incomplete', async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/throw') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('partial');
        throw new Error('boom after headers');
      }
      res.end('fine');
    });
    server.on('error', () => {});
    server.on('clientError', () => {});
    const c = await RawClient.connect(port);
    await c.write(get('/throw'));
    expect(await c.waitClose(3000)).toBe(true);
    // not a 500 (the head was already committed) and no complete response: the client can tell it failed
    expect(c.text.startsWith('HTTP/1.1 500')).toBe(false);
    expect(c.responses.length).toBe(0);
    await sleep(20);
    const d = await RawClient.connect(port);
    await d.write(get('/ok'));
    const rs = await d.waitResponses(1);
    expect(normalize(rs[0].raw)).toBe(response({ body: 'fine' }));
  });

  test('a HEAD whose handler throws: the 500 head without its body, then close', async () => {
    const { port, server } = await startServer({ ...model }, () => {
      throw new Error('boom on HEAD');
    });
    server.on('handlerError', () => {});
    const c = await RawClient.connect(port);
    await c.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect(await c.waitClose(3000)).toBe(true);
    const full = errorResponse(500);
    expect(normalize(c.text)).toBe(full.slice(0, full.indexOf('\r\n\r\n') + 4));
  });

  test('a throw in the second of three pipelined requests: first answered, then 500 + close, third never handled', async () => {
    const urls: string[] = [];
    const { port, server } = await startServer({ ...model }, (req, res) => {
      urls.push(req.url);
      if (req.url === '/2') throw new Error('boom in pipeline');
      res.end(req.url);
    });
    server.on('error', () => {});
    server.on('clientError', () => {});
    const c = await RawClient.connect(port);
    await c.write(get('/1') + get('/2') + get('/3'));
    expect(await c.waitClose(3000)).toBe(true);
    expect(normalize(c.text)).toBe(response({ body: '/1' }) + errorResponse(500));
    await sleep(50);
    // /3 may have been dispatched with /2 in one batch, but its response must not appear
    expect(urls.slice(0, 2)).toEqual(['/1', '/2']);
  });

  test('other connections are not disturbed by a throwing handler', async () => {
    const { port, server } = await startServer({ ...model }, (req, res) => {
      if (req.url === '/throw') throw new Error('boom');
      res.end(req.url);
    });
    server.on('error', () => {});
    server.on('clientError', () => {});
    const keep = await RawClient.connect(port);
    await keep.write(get('/a'));
    await keep.waitResponses(1);
    for (let i = 0; i < 5; i++) {
      const c = await RawClient.connect(port);
      await c.write(get('/throw'));
      expect(await c.waitClose(3000)).toBe(true);
      expect(normalize(c.text)).toBe(errorResponse(500));
    }
    await keep.write(get('/b'));
    const rs = await keep.waitResponses(2);
    expect(normalize(rs[1].raw)).toBe(response({ body: '/b' }));
  });

  test('with no listener the error goes to stderr and the process neither crashes nor hangs', async () => {
    const code = `
      const mod = await import(${JSON.stringify(pathToFileURL(distPath).href)});
      const { createServer } = mod.createServer ? mod : mod.default;
      const net = await import('node:net');
      const s = createServer(${JSON.stringify(model)}, (req, res) => {
        if (req.url === '/throw') throw new Error('boom-to-stderr-7f3a');
        res.end('still here');
      });
      const ask = (port, path) => new Promise((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => c.write('GET ' + path + ' HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n'));
        let data = '';
        c.on('data', (d) => (data += d));
        c.on('error', () => {});
        c.on('close', () => resolve(data));
      });
      s.listen(0, '127.0.0.1', async () => {
        const port = s.address().port;
        const a = await ask(port, '/throw');
        const b = await ask(port, '/ok');
        process.stdout.write(JSON.stringify([a.split('\\r\\n')[0], b.split('\\r\\n\\r\\n')[1]]));
        s.close();
      });
    `;
    const r = await runChild(code, 10000);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['HTTP/1.1 500 Internal Server Error', 'still here']);
    expect(r.stderr).toContain('boom-to-stderr-7f3a');
  });
});
