// A response's declared Content-Length is enforced: more body bytes than declared, or an end() short of it, throw
// ERR_HTTP_CONTENT_LENGTH_MISMATCH (node's code) before anything mismatched reaches the wire. On a keep-alive
// connection the surplus used to be read by the client as the next response, and a short body left it waiting.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels, RawClient, response, normalize, startServer } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('Content-Length enforcement (%o)', (model) => {
  test('write() past the declared length throws ERR_HTTP_CONTENT_LENGTH_MISMATCH; the next response is intact',
    async () => {
      const errors: string[] = [];
      const { port } = await startServer(model, (req, res) => {
        if (req.url === '/over') {
          res.setHeader('Content-Length', '5');
          res.write('hel');
          try {
            res.write('lo, world');
          } catch (e) {
            errors.push(`${(e as { code: string }).code}: ${(e as Error).message}`);
          }
          res.end('lo');
          return;
        }
        res.end('next');
      });
      const c = await RawClient.connect(port);
      await c.write(get('/over') + get('/next'));
      const rs = await c.waitResponses(2, 3000);
      expect(errors).toEqual(['ERR_HTTP_CONTENT_LENGTH_MISMATCH: Response body\'s content-length of 12 byte(s) ' +
        'does not match the content-length of 5 byte(s) set in header']);
      expect(rs.map((r) => r.body.toString())).toEqual(['hello', 'next']);
      expect(normalize(c.text)).toBe(
        response({ fields: ['Content-Length: 5'], body: 'hello', framing: 'none' }) +
        response({ body: 'next' }));
    });

  test('end(body) with a body longer than the declared length throws, nothing is sent for it; a 500 follows',
    async () => {
      const codes: string[] = [];
      const { port } = await startServer(model, (req, res) => {
        res.setHeader('Content-Length', '2');
        try {
          res.end('toolong');
        } catch (e) {
          codes.push((e as { code: string }).code);
          throw e;  // the handler fails: nova-http answers 500 and closes
        }
      });
      const c = await RawClient.connect(port);
      await c.write(get('/'));
      expect(await c.waitClose(3000)).toBe(true);
      expect(codes).toEqual(['ERR_HTTP_CONTENT_LENGTH_MISMATCH']);
      const rs = c.responses;
      expect(rs.map((r) => [r.status, r.body.toString()])).toEqual([[500, 'Internal Server Error']]);
    });

  test('end() short of the declared length throws; the handler failing closes the connection after the bytes sent',
    async () => {
      const codes: string[] = [];
      const { port } = await startServer(model, (req, res) => {
        if (req.url === '/never') return void res.end('never sent: the connection closes before it');
        res.setHeader('Content-Length', '10');
        res.write('12345');
        try {
          res.end();
        } catch (e) {
          codes.push((e as { code: string }).code);
          throw e;
        }
      });
      const c = await RawClient.connect(port);
      await c.write(get('/') + get('/never'));
      expect(await c.waitClose(3000)).toBe(true);
      expect(codes).toEqual(['ERR_HTTP_CONTENT_LENGTH_MISMATCH']);
      // The head and the five bytes, then the close: the client sees a short body, never a desynchronized stream.
      expect(normalize(c.text)).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Length: 10\r\n[^]*\r\n\r\n12345$/);
    });

  test('HEAD, 204 and 304 count no body bytes against the declared length', async () => {
    const { port } = await startServer(model, (req, res) => {
      if (req.url === '/204') res.statusCode = 204;
      res.setHeader('Content-Length', '4');
      res.end(req.method === 'HEAD' ? 'body' : req.url === '/204' ? undefined : 'body');
    });
    const c = await RawClient.connect(port);
    c.head.push(0);
    await c.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\n' + get('/204') + get('/'));
    const rs = await c.waitResponses(3, 3000);
    expect(rs.map((r) => [r.status, r.body.toString()])).toEqual([[200, ''], [204, ''], [200, 'body']]);
    expect(c.serverClosed).toBe(false);
  });
});
