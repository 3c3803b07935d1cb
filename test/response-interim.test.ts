// 1xx interim responses: res.writeEarlyHints() (103 with Link fields, formatted as node:http formats them),
// res.writeProcessing() (102) and res.writeContinue() (100) before the final response; in request order when
// pipelined; never after the final head started; never to HTTP/1.0 (RFC 9110 15.2). Exact bytes in every I/O model,
// and the same handlers on node:http where the bytes are the same.
import * as http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, get, ioModels, normalize, RawClient, response, sleep, startServer } from './helpers.js';
import { compare, servePair } from './compat-helpers.js';
import type { Pair } from './compat-helpers.js';

afterEach(cleanup);

const LINKS = ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'];
const k103 = `HTTP/1.1 103 Early Hints\r\nLink: ${LINKS.join(', ')}\r\nx-extra: v\r\n\r\n`;
const k102 = 'HTTP/1.1 102 Processing\r\n\r\n';
const k100 = 'HTTP/1.1 100 Continue\r\n\r\n';

describe.each(ioModels)('interim responses (%o)', (model) => {
  test('writeEarlyHints() and writeProcessing() go out before the final response, callbacks after', async () => {
    const calls: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      res.writeEarlyHints({ link: LINKS, 'x-extra': 'v' }, () => calls.push('hints'));
      res.writeProcessing(() => calls.push('processing'));
      res.writeEarlyHints({ link: '</c.css>; rel=preload' });
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(k103 + k102 + 'HTTP/1.1 103 Early Hints\r\nLink: </c.css>; rel=preload\r\n\r\n' +
      response({ body: 'ok' }));
    expect(calls).toEqual(['hints', 'processing']);
    expect(client.split().interim.map((r) => r.status)).toEqual([103, 102, 103]);
  });

  test('node\'s argument rules: no link sends nothing; a bad link or a CR LF in a hint throws; the response goes on',
    async () => {
      const codes: string[] = [];
      const { port } = await startServer({ ...model }, (req, res) => {
        res.writeEarlyHints({});
        res.writeEarlyHints({ link: [] });
        for (const hints of [{ link: 'no-angle-brackets' }, { link: '</a>', 'x-bad': 'a\r\nInjected: 1' },
          { link: '</a>', 'bad name': 'v' }, 'not an object']) {
          try {
            res.writeEarlyHints(hints as never);
          } catch (e) {
            codes.push((e as { code: string }).code);
          }
        }
        res.end('ok');
      });
      const client = await RawClient.connect(port);
      await client.write(get('/'));
      await client.waitResponses(1);
      expect(normalize(client.text)).toBe(response({ body: 'ok' }));
      expect(codes).toEqual(['ERR_INVALID_ARG_VALUE', 'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN',
        'ERR_INVALID_ARG_TYPE']);
    });

  test('after the final head started nothing is sent (node would write it into the body); the callback runs',
    async () => {
      let called = false;
      const { port } = await startServer({ ...model }, (req, res) => {
        res.writeHead(200, { 'Content-Length': '4' });
        res.write('ab');
        res.writeProcessing(() => { called = true; });
        res.writeEarlyHints({ link: '</x>' });
        res.end('cd');
      });
      const client = await RawClient.connect(port);
      await client.write(get('/'));
      await client.waitResponses(1);
      expect(normalize(client.text)).toBe(response({ fields: ['Content-Length: 4'], framing: 'none', body: 'abcd' }));
      expect(called).toBe(true);
    });

  test('HTTP/1.0: no 1xx at all (RFC 9110 15.2; node:http sends them)', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.writeEarlyHints({ link: LINKS, 'x-extra': 'v' });
      res.writeProcessing();
      res.writeContinue();
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/', ['Connection: keep-alive'], '1.0'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'ok', http10: true }));
  });

  test('pipelined: a later request\'s 103 waits behind the earlier response; the front\'s goes out at once',
    async () => {
      let release!: () => void;
      const { port } = await startServer({ ...model }, (req, res) => {
        if (req.url === '/1') {
          res.writeProcessing();
          release = () => res.end('one');
        } else {
          res.writeEarlyHints({ link: LINKS, 'x-extra': 'v' });
          res.end('two');
        }
      });
      const client = await RawClient.connect(port);
      await client.write(get('/1') + get('/2'));
      await client.until(() => client.text.length >= k102.length, 2000, 'the 102');
      await sleep(50);
      expect(client.text).toBe(k102);
      release();
      await client.waitResponses(2);
      expect(normalize(client.text)).toBe(k102 + response({ body: 'one' }) + k103 + response({ body: 'two' }));
    });

  test('writeContinue() for a request without Expect sends one 100 (as node does); a second one nothing',
    async () => {
      const { port } = await startServer({ ...model }, (req, res) => {
        res.writeContinue();
        res.writeContinue();
        res.end('ok');
      });
      const client = await RawClient.connect(port);
      await client.write(get('/'));
      await client.waitResponses(1);
      expect(normalize(client.text)).toBe(k100 + response({ body: 'ok' }));
    });

  test('after a prototype swap (Express), node\'s own writeEarlyHints() answers through native', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      Object.setPrototypeOf(res, Object.create(http.ServerResponse.prototype));
      res.writeEarlyHints({ link: LINKS, 'x-extra': 'v' });
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(k103 + response({ body: 'ok' }));
  });

  describe('the same handler on node:http', () => {
    let pair: Pair | undefined;
    afterEach(async () => {
      await pair?.close();
      pair = undefined;
    });

    test('103, 102 and 100 bytes as node:http sends them, alone and pipelined', async () => {
      pair = await servePair(() => (req, res) => {
        res.writeEarlyHints({ link: LINKS, 'x-extra': 'v' });
        res.writeProcessing();
        if (req.url === '/c') res.writeContinue();
        res.end(req.url);
      }, model);
      const [r] = await compare(pair, get('/'));
      expect(r.body.toString()).toBe('/');
      await compare(pair, get('/c') + get('/2'), { responses: 2 });
    });
  });
});
