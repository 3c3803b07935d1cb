// Response trailers (res.addTrailers): the trailer fields go after the last chunk of a chunked response, validated
// like header fields; a response that is not chunked (a known length, HTTP/1.0, HEAD, 204) drops them, as node:http
// does. Exact bytes in every I/O model, and the same handlers on node:http for the cases where framing is chosen.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, exchange, get, ioModels, normalize, RawClient, response, startServer } from './helpers.js';
import { compare, servePair } from './compat-helpers.js';
import type { Listener, Pair } from './compat-helpers.js';

afterEach(cleanup);

const chunked = (body: string) => response({ framing: 'chunked', body });

describe.each(ioModels)('response trailers (%o)', (model) => {
  test('addTrailers() on a streamed response: the fields after the last chunk', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.write('ab');
      res.addTrailers({ 'X-Sum': 'abc', 'Server-Timing': 'db;dur=53' });
      res.end('cd');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(
      chunked('2\r\nab\r\n2\r\ncd\r\n0\r\nX-Sum: abc\r\nServer-Timing: db;dur=53\r\n\r\n'));
    const [r] = client.split().responses;
    expect(r.trailers).toEqual([['X-Sum', 'abc'], ['Server-Timing', 'db;dur=53']]);
  });

  test('pairs and array values; the last addTrailers() call wins, as in node:http', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.write('x');
      res.addTrailers({ 'X-Gone': '1' });
      res.addTrailers([['X-A', '1'], ['X-B', ['2', '3']]]);
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(chunked('1\r\nx\r\n0\r\nX-A: 1\r\nX-B: 2\r\nX-B: 3\r\n\r\n'));
  });

  test('a Trailer field makes end(body) chunked (node\'s rule), with the trailers after it', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.setHeader('Trailer', 'X-Sum');
      res.addTrailers({ 'X-Sum': '5' });
      res.end('hello');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({
      fields: ['Trailer: X-Sum', 'Transfer-Encoding: chunked'], framing: 'none',
      body: '5\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n',
    }));
  });

  test('not chunked, no trailers: end(body) with a length, HEAD, 204, and a streamed answer to HTTP/1.0', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      res.addTrailers({ 'X-Sum': 'abc' });
      if (req.url === '/204') res.statusCode = 204;
      if (req.url === '/old') {
        res.write('ab');
        res.end('cd');
        return;
      }
      res.end(req.url === '/204' ? undefined : 'whole');
    });
    const client = await RawClient.connect(port);
    await client.write(get('/len') + 'HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n' + get('/204'));
    client.head = [1];
    await client.waitResponses(3);
    expect(normalize(client.text)).toBe(response({ body: 'whole' }) + response({ contentLength: 5 }) +
      response({ status: 204, framing: 'none' }));
    await client.write(get('/old', ['Connection: keep-alive'], '1.0'));
    await client.until(() => client.serverClosed, 3000, 'the close');
    expect(normalize(client.text).slice(normalize(client.text).lastIndexOf('HTTP/1.1'))).toBe(
      response({ persist: false, framing: 'close', body: 'abcd' }));
  });

  test('invalid trailer names and values throw node\'s errors; the response still ends cleanly', async () => {
    const errors: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      for (const t of [{ 'Bad Name': 'x' }, { 'X-Ok': 'a\r\nInjected: 1' }, { 'X-Ok': 'nul\0' }]) {
        try {
          res.addTrailers(t);
        } catch (e) {
          errors.push((e as { code: string }).code);
        }
      }
      res.write('a');
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(errors).toEqual(['ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR']);
    expect(normalize(client.text)).toBe(chunked('1\r\na\r\n0\r\n\r\n'));
  });

  test('pipelined: each response with its own trailers, in request order, the second answered first', async () => {
    const { port } = await startServer({ ...model }, (req, res) => {
      const n = req.url!.slice(1);
      const answer = () => {
        res.write(n);
        res.addTrailers({ 'X-N': n });
        res.end();
      };
      if (n === '1') setTimeout(answer, 50);
      else answer();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/1') + get('/2'));
    await client.waitResponses(2);
    expect(normalize(client.text)).toBe(chunked('1\r\n1\r\n0\r\nX-N: 1\r\n\r\n') + chunked('1\r\n2\r\n0\r\nX-N: 2\r\n\r\n'));
  });

  test('after a prototype swap (Express), node\'s own addTrailers()/write()/end() send them too', async () => {
    const http = await import('node:http');
    const { port } = await startServer({ ...model }, (req, res) => {
      const proto = Object.create(http.ServerResponse.prototype);
      Object.setPrototypeOf(res, proto);
      res.write('ab');
      res.addTrailers({ 'X-Swapped': 'yes' });
      res.end();
    });
    const client = await RawClient.connect(port);
    await client.write(get('/'));
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(chunked('2\r\nab\r\n0\r\nX-Swapped: yes\r\n\r\n'));
  });

  describe('the same handlers on node:http', () => {
    let pair: Pair | undefined;
    afterEach(async () => {
      await pair?.close();
      pair = undefined;
    });
    const app: Listener = (req, res) => {
      switch (req.url) {
        case '/stream':
          res.write('ab');
          res.addTrailers({ 'X-Sum': 'abc' });
          res.end('cd');
          break;
        case '/trailer-field':
          res.setHeader('Trailer', 'X-Sum');
          res.addTrailers([['X-Sum', '5'], ['X-More', ['a', 'b']]]);
          res.end('hello');
          break;
        case '/length':
          res.addTrailers({ 'X-Sum': 'dropped' });
          res.end('whole');
          break;
        case '/set-length':
          res.setHeader('Content-Length', '4');
          res.write('ab');
          res.addTrailers({ 'X-Sum': 'dropped' });
          res.end('cd');
          break;
        default:
          res.writeHead(204);
          res.addTrailers({ 'X-Sum': 'dropped' });
          res.end();
      }
    };

    test('framing, fields, body and trailers as node:http sends them', async () => {
      pair = await servePair(() => app, model);
      const rs = await compare(pair, get('/stream') + get('/trailer-field') + get('/length') + get('/set-length') +
        get('/204'), { responses: 5 });
      expect(rs.map((r) => r.trailers.length)).toEqual([1, 3, 0, 0, 0]);
      const old = await exchange(pair.novaPort, get('/stream', [], '1.0'), { until: 'close' });
      old.client.destroy();
      expect(old.responses[0].framing).toBe('close');
      expect(old.responses[0].body.toString()).toBe('abcd');
      await compare(pair, get('/stream', [], '1.0'), { responses: 1 });
    });
  });
});
