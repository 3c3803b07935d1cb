// Request smuggling against a server in a child process (test/helpers/hostile.ts): the classics (CL.TE, TE.CL,
// TE.TE with obfuscated Transfer-Encoding values: space or tab before the colon, xchunked, "chunked, identity",
// duplicated fields, CL+TE in both orders) and their neighbours. Each attack carries a second request inside what
// a differently-parsing front end would take for the first one's body ("GET /smuggled..."). For each: the exact
// error response and a close, or (for the unambiguous ones) the right answer with the framing kept; never a
// dispatch of the smuggled request; a bystander connection served throughout; the server's connections, fds and
// RSS back to their baseline.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, errorResponse, get, ioModels, normalize, RawClient } from './helpers.js';
import { backToBaseline, baseline, Bystander, ChildServer, expectServed } from './helpers/hostile.js';

afterEach(cleanup);

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n';
const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
const post = (fields: string[], body: string, version = '1.1') =>
  `POST /echo HTTP/${version}\r\nHost: t\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n${body}`;
// A chunked body whose single chunk is the smuggled request: a parser that takes Content-Length (or no framing)
// instead sees "5c\r\n" or the like as body and the request after it as the next request.
const chunkedSmuggle = `${chunk(SMUGGLED)}0\r\n\r\n`;
// A body of Content-Length 0 per the chunked reading ("0\r\n\r\n"), followed by the smuggled request: a parser that
// takes Content-Length (longer) would swallow it, one that takes chunked would dispatch it.
const clteSmuggle = `0\r\n\r\n${SMUGGLED}`;

interface Attack {
  name: string;
  bytes: string;
  /** The error response expected, then a close. */
  status?: number;
  /** The head is valid, the body is not: the handler was called before the error. */
  headValid?: boolean;
  /** Accepted: the body the handler reads (its length; /echo answers "<length> <byte sum>"). */
  body?: string;
}

const TE = 'Transfer-Encoding';
const attacks: Attack[] = [
  { name: 'CL.TE: Content-Length then Transfer-Encoding', bytes: post([`Content-Length: ${clteSmuggle.length}`, `${TE}: chunked`], clteSmuggle), status: 400 },
  { name: 'TE.CL: Transfer-Encoding then Content-Length', bytes: post([`${TE}: chunked`, 'Content-Length: 4'], chunkedSmuggle), status: 400 },
  { name: 'CL.TE with Content-Length: 0', bytes: post(['Content-Length: 0', `${TE}: chunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: space before the colon (with Content-Length)', bytes: post(['Content-Length: 4', `${TE} : chunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: space before the colon (alone)', bytes: post([`${TE} : chunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: tab before the colon', bytes: post(['Content-Length: 4', `${TE}\t: chunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: tab as the whitespace before the value, with Content-Length', bytes: post(['Content-Length: 4', `${TE}:\tchunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: xchunked', bytes: post(['Content-Length: 4', `${TE}: xchunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: xchunked alone', bytes: post([`${TE}: xchunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: chunked, identity', bytes: post([`${TE}: chunked, identity`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: identity, chunked (a coding we do not decode)', bytes: post([`${TE}: identity, chunked`], chunkedSmuggle), status: 501 },
  { name: 'TE.TE: duplicated chunked fields', bytes: post([`${TE}: chunked`, `${TE}: chunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: chunked then a second field with x', bytes: post([`${TE}: chunked`, `${TE}: x`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: x then a second field with chunked', bytes: post([`${TE}: x`, `${TE}: chunked`], chunkedSmuggle), status: 501 },
  { name: 'TE.TE: chunked then an empty second field', bytes: post([`${TE}: chunked`, `${TE}:`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: obs-fold before chunked', bytes: post(['Content-Length: 4', `${TE}:`, ' chunked'], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: vertical tab before chunked', bytes: post(['Content-Length: 4', `${TE}:\x0bchunked`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: quoted "chunked"', bytes: post([`${TE}: "chunked"`], chunkedSmuggle), status: 400 },
  { name: 'TE.TE: chunked with a parameter', bytes: post([`${TE}: chunked;q=1`], chunkedSmuggle), status: 400 },
  { name: 'TE in an HTTP/1.0 request', bytes: post([`${TE}: chunked`], chunkedSmuggle, '1.0'), status: 400 },
  { name: 'CL.CL: two different Content-Length fields', bytes: post(['Content-Length: 4', `Content-Length: ${SMUGGLED.length + 4}`], `abcd${SMUGGLED}`), status: 400 },
  { name: 'CL.CL: a list of different values', bytes: post([`Content-Length: 4, ${SMUGGLED.length + 4}`], `abcd${SMUGGLED}`), status: 400 },
  { name: 'Content-Length with a sign', bytes: post(['Content-Length: +4'], `abcd${SMUGGLED}`), status: 400 },
  { name: 'chunk data longer than its size', bytes: post([`${TE}: chunked`], `3\r\nabc${SMUGGLED}\r\n0\r\n\r\n`), status: 400, headValid: true },
  { name: 'chunk size line with a bare LF', bytes: post([`${TE}: chunked`], `${SMUGGLED.length.toString(16)}\n${SMUGGLED}\r\n0\r\n\r\n`), status: 400, headValid: true },
  { name: 'chunk size with trailing whitespace', bytes: post([`${TE}: chunked`], `${SMUGGLED.length.toString(16)} \r\n${SMUGGLED}\r\n0\r\n\r\n`), status: 400, headValid: true },
  { name: 'bare LF ending a field line', bytes: `POST /echo HTTP/1.1\r\nHost: t\r\n${TE}: chunked\nContent-Length: 4\r\n\r\n${chunkedSmuggle}`, status: 400 },
  // Unambiguous framing: accepted, the smuggled bytes stay body, and the connection stays in step.
  { name: 'chunked with a tab before the value (valid OWS): body only', bytes: post([`${TE}:\tchunked`], chunkedSmuggle), body: SMUGGLED },
  { name: 'chunked in upper case: body only', bytes: post([`${TE}: CHUNKED`], chunkedSmuggle), body: SMUGGLED },
  { name: 'Content-Length body holding a request: body only', bytes: post([`Content-Length: ${SMUGGLED.length}`], SMUGGLED), body: SMUGGLED },
  { name: 'identical Content-Length fields: body only', bytes: post([`Content-Length: ${SMUGGLED.length}`, `Content-Length: ${SMUGGLED.length}`], SMUGGLED), body: SMUGGLED },
  // Transfer_Encoding is not Transfer-Encoding (an underscore is a token character, so an unknown field): framed by
  // Content-Length, which holds the whole would-be chunked body, so a front end that maps _ to - (and then refuses
  // TE with CL, or reads the chunks) and we agree on where the request ends.
  { name: 'Transfer_Encoding (underscore) is an unknown field: Content-Length frames, body only', bytes: post([`Content-Length: ${chunkedSmuggle.length}`, 'Transfer_Encoding: chunked'], chunkedSmuggle), body: chunkedSmuggle },
  { name: 'GET with a Content-Length body holding a request', bytes: `GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, body: SMUGGLED },
];

const sum = (s: string) => [...Buffer.from(s, 'latin1')].reduce((a, b) => (a + b) >>> 0, 0);

describe.each(ioModels)('hostile: request smuggling (%o)', (model) => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await ChildServer.start({ ...model, headersTimeout: 2000, requestTimeout: 4000 });
    await baseline(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  test.each(attacks)('$name', async (a) => {
    const base = await baseline(server, 0);
    const before = await server.stats();
    const bystander = await Bystander.start(server.port);
    // The attack, then a follow-up request on the same connection: answered only when the framing was accepted.
    const c = await RawClient.connect(server.port);
    await c.write(a.bytes);
    if (a.status !== undefined) {
      expect(await c.waitClose(5000), 'the server closes after the error').toBe(true);
      expect(normalize(c.text)).toBe(errorResponse(a.status));
    } else {
      await c.write(get('/after'));
      const rs = await c.waitResponses(2, 5000);
      expect(rs.map((r) => `${r.status} ${r.body.toString('latin1')}`))
        .toEqual([`200 ${a.body!.length} ${sum(a.body!)}`, '200 /after']);
      expect(await c.staysOpen(50)).toBe(true);
    }
    c.destroy();
    const b = await bystander.stop();
    expectServed(b);
    const after = await server.stats();
    expect(after.smuggled, 'a request from inside a body was dispatched').toEqual(before.smuggled);
    const attackCalls = a.status === undefined ? 2 : a.headValid ? 1 : 0;
    expect(after.calls - before.calls, 'handler calls besides the bystander').toBe(b.answered + attackCalls);
    expect(server.alive).toBe(true);
    await backToBaseline(server, base);
  });
});
