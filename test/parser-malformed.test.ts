// Malformed requests on the wire: each gets its ready-made error response (exact bytes, Connection: close), the
// socket closes afterwards (gracefully: the client reads the whole response), and the handler is never called.
// Also the accepted edge cases next to them (1.x minor versions, identical duplicate Content-Length, 1.0 without
// Host), so that the rejections are not just "reject everything odd".
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, errorResponse, ioModels, normalize, RawClient, readBody, response, sleep, startServer } from './helpers.js';

afterEach(cleanup);

interface Bad {
  name: string;
  bytes: string;
  status: number;
  options?: Record<string, unknown>;
}

const H = 'Host: t\r\n';
const long = (n: number, c = 'a') => c.repeat(n);

const heads: Bad[] = [
  // request line
  { name: 'method with a non-token character', bytes: `G@T / HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'method with a space inside (three words before version)', bytes: `GE T / HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'empty method (line starts with a space)', bytes: ` / HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'two spaces between method and target', bytes: `GET  / HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'space inside the target', bytes: `GET /a b HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'control character in the target', bytes: `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'DEL in the target', bytes: `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'HTTP/0.9 simple request (no version)', bytes: 'GET /\r\n\r\n', status: 400 },
  { name: 'lower-case protocol name', bytes: `GET / http/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'version without minor', bytes: `GET / HTTP/1\r\n${H}\r\n`, status: 400 },
  { name: 'version with letters', bytes: `GET / HTTP/x.y\r\n${H}\r\n`, status: 400 },
  { name: 'trailing space after the version', bytes: `GET / HTTP/1.1 \r\n${H}\r\n`, status: 400 },
  { name: 'bare CR in the request line', bytes: `GET /\r HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'TLS ClientHello bytes', bytes: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + long(40, '\x00') + '\r\n\r\n', status: 400 },
  // versions
  { name: 'HTTP/2.0 -> 505', bytes: `GET / HTTP/2.0\r\n${H}\r\n`, status: 505 },
  { name: 'HTTP/3.1 -> 505', bytes: `GET / HTTP/3.1\r\n${H}\r\n`, status: 505 },
  // fields
  { name: 'space inside a field name', bytes: `GET / HTTP/1.1\r\n${H}Bad Name: x\r\n\r\n`, status: 400 },
  { name: 'non-token character in a field name', bytes: `GET / HTTP/1.1\r\n${H}Bad@Name: x\r\n\r\n`, status: 400 },
  { name: 'empty field name', bytes: `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`, status: 400 },
  { name: 'field line without a colon', bytes: `GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n`, status: 400 },
  { name: 'whitespace before the colon', bytes: `GET / HTTP/1.1\r\nHost : t\r\n\r\n`, status: 400 },
  { name: 'tab before the colon', bytes: `GET / HTTP/1.1\r\n${H}X-A\t: x\r\n\r\n`, status: 400 },
  { name: 'obs-fold (continuation line with SP)', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, status: 400 },
  { name: 'obs-fold (continuation line with HTAB)', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\r\n\tb\r\n\r\n`, status: 400 },
  { name: 'whitespace line before the first field', bytes: `GET / HTTP/1.1\r\n x: y\r\n${H}\r\n`, status: 400 },
  { name: 'bare CR inside a field value', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, status: 400 },
  { name: 'bare CR ending a field line', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\r\r\n\r\n`, status: 400 },
  { name: 'NUL in a field value', bytes: `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, status: 400 },
  // Host
  { name: 'HTTP/1.1 without Host', bytes: 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', status: 400 },
  { name: 'HTTP/1.1 with two Host fields', bytes: `GET / HTTP/1.1\r\n${H}Host: u\r\n\r\n`, status: 400 },
  { name: 'HTTP/1.1 with two identical Host fields', bytes: `GET / HTTP/1.1\r\n${H}${H}\r\n`, status: 400 },
  // Content-Length
  { name: 'Content-Length with a sign', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length negative', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, status: 400 },
  { name: 'Content-Length with a letter', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5a\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length hex', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length empty', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n`, status: 400 },
  { name: 'Content-Length with inner space', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 1 0\r\n\r\n0123456789`, status: 400 },
  { name: 'Content-Length duplicates that differ', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, status: 400 },
  { name: 'Content-Length overflow (2^64)', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 18446744073709551616\r\n\r\n`, status: 400 },
  { name: 'Content-Length overflow (30 digits)', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: ${long(30, '9')}\r\n\r\n`, status: 400 },
  // Transfer-Encoding
  { name: 'Transfer-Encoding with Content-Length', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'Content-Length with Transfer-Encoding (other order)', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunked not the final coding', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, status: 400 },
  { name: 'gzip alone (chunked missing)', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, status: 400 },
  { name: 'unknown coding before chunked -> 501', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: x-custom, chunked\r\n\r\n0\r\n\r\n`, status: 501 },
  // limits
  { name: 'request line over 8 KiB -> 414', bytes: `GET /${long(9000)} HTTP/1.1\r\n${H}\r\n`, status: 414 },
  { name: 'head over 16 KiB (default maxHeaderSize) -> 431', bytes: `GET / HTTP/1.1\r\n${H}X-Big: ${long(17000)}\r\n\r\n`, status: 431 },
  { name: 'head over 16 KiB in many fields -> 431', bytes: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 90 }, (_, i) => `X-F${i}: ${long(200)}\r\n`).join('')}\r\n`, status: 431 },
  { name: 'head over maxHeaderSize 1024 -> 431', bytes: `GET / HTTP/1.1\r\n${H}X-Big: ${long(1100)}\r\n\r\n`, status: 431, options: { maxHeaderSize: 1024 } },
  { name: 'more than 100 fields -> 431', bytes: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, status: 431 },
];

// Errors in the body: the head was valid (the handler may have been called), the body is not.
const bodies: Bad[] = [
  { name: 'chunk size not hex', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size missing (extension only)', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n;ext=1\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size overflow', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${long(20, 'f')}\r\nhello\r\n`, status: 400 },
  { name: 'chunk data not followed by CRLF', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhelloXX\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk extension over 4 KiB', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;e=${long(5000)}\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'trailer section over 16 KiB -> 431', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-T: ${long(17000)}\r\n\r\n`, status: 431 },
  { name: 'obs-fold in a trailer', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-T: a\r\n b\r\n\r\n`, status: 400 },
];

async function expectRefused(port: number, bytes: string, status: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  await client.write(bytes);
  const closed = await client.waitClose(3000);
  expect(normalize(client.text)).toBe(errorResponse(status));
  expect(closed, 'the server closes the connection after the error response').toBe(true);
  // graceful close: the client got the whole response (a FIN), not a reset before it
  expect(client.ended || !client.reset).toBe(true);
  return client;
}

describe.each(ioModels)('malformed request heads (%o)', (model) => {
  test.each(heads)('$name -> $status', async (c) => {
    let calls = 0;
    const { port } = await startServer({ ...model, ...(c.options ?? {}) }, (req, res) => {
      calls++;
      res.end('handler');
    });
    await expectRefused(port, c.bytes, c.status);
    await sleep(20);
    expect(calls).toBe(0);
  });

  test('the same error after a valid request on the same connection: first answered, then the error', async () => {
    let calls = 0;
    const { port } = await startServer({ ...model }, (req, res) => {
      calls++;
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(`GET / HTTP/1.1\r\n${H}\r\n`);
    await client.waitResponses(1);
    await client.write(`GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`);
    expect(await client.waitClose(3000)).toBe(true);
    expect(normalize(client.text)).toBe(response({ body: 'ok' }) + errorResponse(400));
    expect(calls).toBe(1);
  });

  test('a refused request does not take the server down: the next connection is served', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('ok'));
    await expectRefused(port, 'BAD REQUEST LINE\r\n\r\n', 400);
    const client = await RawClient.connect(port);
    await client.write(`GET / HTTP/1.1\r\n${H}\r\n`);
    await client.waitResponses(1);
    expect(normalize(client.text)).toBe(response({ body: 'ok' }));
  });
});

describe.each(ioModels)('malformed request bodies (%o)', (model) => {
  test.each(bodies)('$name -> $status', async (c) => {
    const { port } = await startServer({ ...model }, (req, res) => {
      // waits for the whole body, which never comes complete; answering is left to the server
      readBody(req).then(
        () => res.end('handler'),
        () => {},
      );
      req.on('error', () => {});
    });
    await expectRefused(port, c.bytes, c.status);
  });
});

describe.each(ioModels)('accepted edge cases (%o)', (model) => {
  const accepted: Array<{ name: string; bytes: string; expect: string; options?: Record<string, unknown> }> = [
    { name: 'HTTP/1.2 is served as 1.1', bytes: `GET / HTTP/1.2\r\n${H}\r\n`, expect: '1.1' },
    { name: 'HTTP/1.9 is served as 1.1', bytes: `GET / HTTP/1.9\r\n${H}\r\n`, expect: '1.1' },
    { name: 'HTTP/1.0 without Host', bytes: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', expect: '1.0' },
    { name: 'identical duplicate Content-Length', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, expect: '1.1' },
    { name: 'field value with OWS around it and obs-text', bytes: `GET / HTTP/1.1\r\n${H}X-A: \t v\xe9 \t\r\n\r\n`, expect: '1.1' },
    { name: 'field with an empty value', bytes: `GET / HTTP/1.1\r\n${H}X-Empty:\r\n\r\n`, expect: '1.1' },
    { name: 'absolute-form target', bytes: `GET http://t/abs?q=1 HTTP/1.1\r\n${H}\r\n`, expect: '1.1' },
    { name: 'asterisk-form OPTIONS', bytes: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, expect: '1.1' },
    { name: 'extension method', bytes: `PURGE-ALL_x /p HTTP/1.1\r\n${H}\r\n`, expect: '1.1' },
    { name: 'Transfer-Encoding: Chunked (case-insensitive)', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`, expect: '1.1' },
    { name: 'head just under maxHeaderSize 1024', bytes: `GET / HTTP/1.1\r\n${H}X-Big: ${long(900)}\r\n\r\n`, expect: '1.1', options: { maxHeaderSize: 1024 } },
    { name: 'a 12 KiB head under the default maxHeaderSize', bytes: `GET / HTTP/1.1\r\n${H}X-Big: ${long(12000)}\r\n\r\n`, expect: '1.1' },
    { name: '100 fields', bytes: `GET / HTTP/1.1\r\n${Array.from({ length: 99 }, (_, i) => `X-${i}: v\r\n`).join('')}${H}\r\n`, expect: '1.1' },
  ];

  test.each(accepted)('$name', async (c) => {
    const seen: string[] = [];
    const { port } = await startServer({ ...model, ...(c.options ?? {}) }, async (req, res) => {
      await readBody(req);
      seen.push(`${req.method} ${req.url} ${req.httpVersion}`);
      res.end('ok');
    });
    const client = await RawClient.connect(port);
    await client.write(c.bytes);
    const rs = await client.waitResponses(1);
    expect(rs.length).toBe(1);
    expect(rs[0].status).toBe(200);
    expect(seen.length).toBe(1);
    expect(seen[0].endsWith(` ${c.expect}`)).toBe(true);
    expect(await client.staysOpen(50)).toBe(true);
  });
});
