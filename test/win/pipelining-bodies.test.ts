// Windows subset: pipelined requests answered in order, request bodies (Content-Length and chunked, split across
// writes) and streamed (chunked) responses, exact bytes, in both Windows I/O models.
import { afterEach, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cleanup, get, normalize, RawClient, readBody, response, startServer } from '../helpers.js';
import { label, winModels } from './models.js';

afterEach(cleanup);

for (const model of winModels) {
  describe(`pipelining ${label(model)}`, () => {
    test('30 requests in one write: 30 responses in order, exact bytes, connection kept', async () => {
      const { port } = await startServer({ ...model }, (req, res) => res.end(req.url));
      const client = await RawClient.connect(port);
      let burst = '';
      for (let i = 0; i < 30; i++) burst += get(`/p${i}`);
      await client.write(burst);
      const rs = await client.waitResponses(30, 10000);
      rs.forEach((r, i) => assert.equal(normalize(r.raw), response({ body: `/p${i}` })));
      assert.equal(await client.staysOpen(100), true);
    });

    test('async handlers finishing in reverse order are answered in request order', async () => {
      const { port } = await startServer({ ...model }, (req, res) => {
        const n = Number(req.url.slice(2));
        setTimeout(() => res.end(req.url), (5 - n) * 30);
      });
      const client = await RawClient.connect(port);
      await client.write([1, 2, 3, 4, 5].map((i) => get(`/a${i}`)).join(''));
      const rs = await client.waitResponses(5, 5000);
      assert.deepEqual(rs.map((r) => r.body.toString()), ['/a1', '/a2', '/a3', '/a4', '/a5']);
    });
  });

  describe(`bodies ${label(model)}`, () => {
    const echo = async (req: { method: string }, res: { end(b: string): void }) => {
      const body = await readBody(req);
      res.end(`${req.method} ${body.length} ${body.toString('latin1')}`);
    };

    test('Content-Length body split across writes, then a second request on the connection', async () => {
      const { port } = await startServer({ ...model }, echo);
      const client = await RawClient.connect(port);
      await client.send(['POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello', ' world']);
      const rs = await client.waitResponses(1);
      assert.equal(normalize(rs[0].raw), response({ body: 'POST 11 hello world' }));
      await client.write('PUT /v HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc');
      const rs2 = await client.waitResponses(2);
      assert.equal(normalize(rs2[1].raw), response({ body: 'PUT 3 abc' }));
    });

    test('chunked request body with a trailer', async () => {
      const { port } = await startServer({ ...model }, echo);
      const client = await RawClient.connect(port);
      await client.send([
        'POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
        '6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n',
      ]);
      const rs = await client.waitResponses(1);
      assert.equal(normalize(rs[0].raw), response({ body: 'POST 11 hello world' }));
    });

    test('a 1 MiB body arrives whole', async () => {
      const { port } = await startServer({ ...model }, echo);
      const client = await RawClient.connect(port);
      const big = Buffer.alloc(1 << 20, 'x');
      await client.write(Buffer.concat([Buffer.from(`POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
      const rs = await client.waitResponses(1, 20000);
      assert.equal(rs[0].body.length, `POST ${big.length} `.length + big.length);
    });

    test('a streamed response without a length is sent chunked', async () => {
      const { port } = await startServer({ ...model }, (req, res) => {
        res.write('abc');
        setTimeout(() => res.end('defg'), 20);
      });
      const client = await RawClient.connect(port);
      await client.write(get('/s'));
      const rs = await client.waitResponses(1);
      assert.equal(normalize(rs[0].raw), response({ body: '3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n', framing: 'chunked' }));
    });
  });
}
