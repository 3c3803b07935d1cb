// Ready-made error responses follow the HEAD rule: a refused HEAD request gets the error's head (Content-Length
// included, as a GET would) and no body bytes, then the close; a GET gets the whole response.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, errorResponse, ioModels, normalize, RawClient, startServer } from './helpers.js';

afterEach(cleanup);

describe.each(ioModels)('error responses to HEAD (%o)', (model) => {
  test.each([
    ['a malformed HEAD request', 'HEAD / HTTP/1.1\r\nHost: t\r\nBad Field\r\n\r\n'],
    ['a HEAD request whose chunked body breaks', 'HEAD / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ])('%s: the 400 head, no body, then the close', async (_what, bytes) => {
    const { port } = await startServer(model, (req, res) => res.end('never'));
    const c = await RawClient.connect(port);
    await c.write(bytes);
    expect(await c.waitClose(3000)).toBe(true);
    const full = errorResponse(400);
    expect(normalize(c.text)).toBe(full.slice(0, full.indexOf('\r\n\r\n') + 4));
  });

  test('the same malformed request as GET: the whole 400', async () => {
    const { port } = await startServer(model, (req, res) => res.end('never'));
    const c = await RawClient.connect(port);
    await c.write('GET / HTTP/1.1\r\nHost: t\r\nBad Field\r\n\r\n');
    expect(await c.waitClose(3000)).toBe(true);
    expect(normalize(c.text)).toBe(errorResponse(400));
  });
});
