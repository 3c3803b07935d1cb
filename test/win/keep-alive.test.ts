// Windows subset: the whole keep-alive matrix (test/helpers/keep-alive-cases.ts) and curl-style reuse (the next
// request written once the previous response is in), exact bytes, in both Windows I/O models.
import { afterEach, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  cleanup, get, keepAliveCases, keepAliveRequest, normalize, RawClient, response, startServer,
} from '../helpers.js';
import { label, winModels } from './models.js';

afterEach(cleanup);

for (const model of winModels) {
  describe(`keep-alive matrix ${label(model)}`, () => {
    for (const c of keepAliveCases) {
      test(c.name, async () => {
        const urls: string[] = [];
        const { port } = await startServer({ ...model }, (req, res) => {
          urls.push(req.url);
          res.end('ok');
        });
        const client = await RawClient.connect(port);
        await client.write(keepAliveRequest(c, '/first'));
        const [first] = await client.waitResponses(1);
        const expected = response({ body: 'ok', persist: c.persist, http10: c.version === '1.0' });
        assert.equal(normalize(first?.raw ?? client.text), expected);
        if (c.persist) {
          assert.equal(await client.staysOpen(100), true);
          await client.write(keepAliveRequest(c, '/second'));
          const rs = await client.waitResponses(2);
          assert.equal(normalize(rs[1].raw), expected);
          assert.deepEqual(urls, ['/first', '/second']);
        } else {
          assert.equal(await client.waitClose(2000), true);
          assert.equal(normalize(client.text), expected);
          assert.deepEqual(urls, ['/first']);
        }
      });
    }
  });

  describe(`curl-style reuse ${label(model)}`, () => {
    test('20 requests one after another on one socket, each answered exactly, one connection', async () => {
      const { port, server } = await startServer({ ...model }, (req, res) => res.end(`you asked for ${req.url}`));
      const client = await RawClient.connect(port);
      for (let i = 1; i <= 20; i++) {
        await client.write(get(`/r${i}`, ['User-Agent: curl/8.0', 'Accept: */*']));
        const rs = await client.waitResponses(i);
        assert.equal(normalize(rs[i - 1].raw), response({ body: `you asked for /r${i}` }));
      }
      assert.equal(client.serverClosed, false);
      const stats = server.stats();
      assert.equal(stats.accepted, 1);
      assert.equal(stats.requests, 20);
    });
  });
}
