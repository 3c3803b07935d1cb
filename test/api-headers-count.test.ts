// server.maxHeadersCount, as node:http applies it: req.headers holds the first N fields only, req.rawHeaders keeps
// them all, trailers are not limited; null or 0 means no limit. The same bytes go to a node:http server with the same
// handler in the same test, and the bodies must match. Every I/O model.
import * as http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, ioModels, normalize, RawClient, response, startServer } from './helpers.js';

afterEach(cleanup);

const handler = (req: any, res: any) => {
  req.resume();
  req.on('end', () => res.end(JSON.stringify({ raw: req.rawHeaders, headers: req.headers, trailers: req.trailers })));
};

const plain = 'GET / HTTP/1.1\r\nHost: t\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n';
const chunked = 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT1: a\r\nT2: b\r\nT3: c\r\n\r\n';

/** What node:http's server answers to `bytes` with `maxHeadersCount` set: the body. */
async function nodeBody(maxHeadersCount: number | null, bytes: string): Promise<string> {
  const server = http.createServer(handler);
  server.maxHeadersCount = maxHeadersCount as number;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const c = await RawClient.connect((server.address() as { port: number }).port);
    await c.write(bytes);
    const [r] = await c.waitResponses(1);
    c.destroy();
    return r.body.toString();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe.each(ioModels)('maxHeadersCount (%o)', (model) => {
  for (const max of [2, 0, null]) {
    test(`maxHeadersCount = ${max}: req.headers as node:http has it, rawHeaders and trailers whole`, async () => {
      const { port, server } = await startServer({ ...model }, handler);
      server.maxHeadersCount = max;
      for (const bytes of [plain, chunked]) {
        const c = await RawClient.connect(port);
        await c.write(bytes);
        const [r] = await c.waitResponses(1);
        const body = r.body.toString();
        expect(normalize(c.text)).toBe(response({ body }));
        expect(body).toBe(await nodeBody(max, bytes));
        c.destroy();
      }
      if (max === 2) {
        const c = await RawClient.connect(port);
        await c.write(plain);
        const [r] = await c.waitResponses(1);
        expect(JSON.parse(r.body.toString())).toEqual({
          raw: ['Host', 't', 'A', '1', 'B', '2', 'C', '3'], headers: { host: 't', a: '1' }, trailers: {},
        });
      }
    });
  }
});
