// The JS layer against a fake native server (no addon, no sockets): batch decoding, lazy headers and node:http's
// joining rules, one flush per batch and one microtask flush for responses ended later, the respond()/write()
// calls responses make, body streams with flow control, connection close, handler failures, server lifecycle.
import * as http from 'node:http';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';

// lib/binding.ts loads the addon when imported; here the loader is replaced (the contract, lib/contract.ts, is
// imported as it is).
vi.mock('../lib/binding', () => ({
  binding: {
    Server: class {
      constructor() {
        throw new Error('unit tests inject a fake native server');
      }
    },
  },
}));

import { Server } from '../lib/server';
import {
  BodyEndRec, BodyRec, ClientErrorRec, CloseRec, DrainRec, Ev, FieldQuad, ReqFlag, RequestRec, ServerClosedRec,
} from '../lib/contract';
import type { NativeServer, NativeServerOptions, OnBatch } from '../lib/contract';
import type { IncomingMessage } from '../lib/request';
import type { ServerResponse } from '../lib/response';

const V11 = 1, HEAD = ReqFlag.Head, HAS_BODY = ReqFlag.HasBody;

type Call = [string, ...unknown[]];

class FakeNative implements NativeServer {
  calls: Call[] = [];
  queued = 0;        // what respond()/write() return
  drainNow = false;  // what wantDrain() returns
  listenError: (Error & { code?: string }) | null = null;
  listen(host: string, port: number, backlog: number, path = '', flags = 0, fd = -1) {
    this.calls.push(['listen', host, port, backlog, path, flags, fd]);
    if (this.listenError) throw this.listenError;
    return { address: host || '::', family: host.includes('.') ? 'IPv4' : 'IPv6', port: port || 40001 };
  }
  respond(...a: unknown[]) {
    this.calls.push(['respond', ...a]);
    return this.queued;
  }
  write(...a: unknown[]) {
    this.calls.push(['write', ...a]);
    return this.queued;
  }
  interim(...a: unknown[]) { this.calls.push(['interim', ...a]); }
  endWithTrailers(...a: unknown[]) {
    this.calls.push(['endWithTrailers', ...a]);
    return this.queued;
  }
  abort(connId: number, seq: number) { this.calls.push(['abort', connId, seq]); }
  fail(connId: number, seq: number) { this.calls.push(['fail', connId, seq]); }
  upgrade(connId: number, seq: number, accept: boolean) { this.calls.push(['upgrade', connId, seq, accept]); }
  rawWrite(...a: unknown[]) {
    this.calls.push(['rawWrite', ...a]);
    return this.queued;
  }
  flush() { this.calls.push(['flush']); }
  pauseBody(connId: number) { this.calls.push(['pauseBody', connId]); }
  resumeBody(connId: number) { this.calls.push(['resumeBody', connId]); }
  wantDrain(connId: number) {
    this.calls.push(['wantDrain', connId]);
    return this.drainNow;
  }
  bytes(connId: number): [number, number] { return [connId * 100, connId * 10]; }
  addresses(connId: number): [string, number, string, number] {
    return ['10.0.0.' + connId, 50000 + connId, '10.1.0.1', 8080];
  }
  close() { this.calls.push(['close']); }
  closeIdle() { this.calls.push(['closeIdle']); }
  closeAll() { this.calls.push(['closeAll']); }
  stats() {
    return { accepted: 1, active: 0, idle: 0, requests: 2, closes: {} as never };
  }
  ref() {}
  unref() {}
  /** The calls of one kind. */
  of(name: string): Call[] { return this.calls.filter((c) => c[0] === name); }
}

class TestServer extends Server {
  fake = new FakeNative();
  nativeOptions: NativeServerOptions | undefined;
  batch!: OnBatch;
  protected override _createNative(options: NativeServerOptions, onBatch: OnBatch) {
    this.nativeOptions = options;
    this.batch = onBatch;
    return this.fake;
  }
}

/** Builds one batch: the bytes buffer and the meta records, as native would send them (lib/contract.ts). */
class Batch {
  private text = '';
  readonly meta: number[] = [];
  private str(s: string): [number, number] {
    const off = this.text.length;
    this.text += s;
    return [off, s.length];
  }
  /** Appends a record of `size` words: `kind` in word 0, each [offset, value] in place. */
  private record(kind: Ev, size: number, words: [number, number][]): void {
    const r = new Array<number>(size).fill(0);
    r[0] = kind;
    for (const [at, value] of words) r[at] = value;
    this.meta.push(...r);
  }
  /** Appends the field quads (FieldQuad) for name/value pairs. */
  private fields(fields: [string, string][]): void {
    for (const [n, v] of fields) {
      const [nameOff, nameLen] = this.str(n);
      const [valueOff, valueLen] = this.str(v);
      const quad = new Array<number>(FieldQuad.Size);
      quad[FieldQuad.NameOff] = nameOff;
      quad[FieldQuad.NameLen] = nameLen;
      quad[FieldQuad.ValueOff] = valueOff;
      quad[FieldQuad.ValueLen] = valueLen;
      this.meta.push(...quad);
    }
  }
  request(conn: number, seq: number, method: string, url: string, fields: [string, string][] = [], flags = V11) {
    const [methodOff, methodLen] = this.str(method);
    const [urlOff, urlLen] = this.str(url);
    this.record(Ev.Request, RequestRec.Fields, [
      [RequestRec.ConnId, conn], [RequestRec.Seq, seq], [RequestRec.Flags, flags],
      [RequestRec.MethodOff, methodOff], [RequestRec.MethodLen, methodLen], [RequestRec.UrlOff, urlOff],
      [RequestRec.UrlLen, urlLen], [RequestRec.FieldCount, fields.length],
    ]);
    this.fields(fields);
    return this;
  }
  body(conn: number, seq: number, data: string) {
    const [off, len] = this.str(data);
    this.record(Ev.Body, BodyRec.Size,
      [[BodyRec.ConnId, conn], [BodyRec.Seq, seq], [BodyRec.Off, off], [BodyRec.Len, len]]);
    return this;
  }
  bodyEnd(conn: number, seq: number, trailers: [string, string][] = []) {
    this.record(Ev.BodyEnd, BodyEndRec.Trailers,
      [[BodyEndRec.ConnId, conn], [BodyEndRec.Seq, seq], [BodyEndRec.TrailerCount, trailers.length]]);
    this.fields(trailers);
    return this;
  }
  close(conn: number, reason = 0) {
    this.record(Ev.Close, CloseRec.Size, [[CloseRec.ConnId, conn], [CloseRec.Reason, reason]]);
    return this;
  }
  drain(conn: number) {
    this.record(Ev.Drain, DrainRec.Size, [[DrainRec.ConnId, conn]]);
    return this;
  }
  clientError(conn: number, status: number) {
    this.record(Ev.ClientError, ClientErrorRec.Size, [[ClientErrorRec.ConnId, conn], [ClientErrorRec.Status, status]]);
    return this;
  }
  serverClosed() {
    this.record(Ev.ServerClosed, ServerClosedRec.Size, []);
    return this;
  }
  /** Delivers the batch; the meta array is longer than `count` on purpose (native may reuse a larger one). */
  to(server: TestServer): void {
    const meta = new Uint32Array(this.meta.length + 3);
    meta.set(this.meta);
    server.batch(Buffer.from(this.text, 'latin1'), meta, this.meta.length);
  }
}

const servers: TestServer[] = [];
afterEach(() => {
  servers.length = 0;
  vi.restoreAllMocks();
});

function listening(handler?: (req: IncomingMessage, res: ServerResponse) => unknown, options = {}): TestServer {
  const s = new TestServer(options, handler as never);
  s.listen(0, '127.0.0.1');
  servers.push(s);
  return s;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('requests', () => {
  test('method, url, version; headers joined as node:http joins them; rawHeaders as sent', () => {
    let got: IncomingMessage | undefined;
    const s = listening((req, res) => {
      got = req;
      res.end();
    });
    new Batch().request(3, 0, 'DELETE', '/p?q=1', [
      ['Host', 'h'], ['X-Dup', 'a'], ['x-dup', 'b'], ['Cookie', 'c=1'], ['Cookie', 'd=2'], ['User-Agent', 'u1'],
      ['User-Agent', 'u2'], ['Set-Cookie', 's1'], ['Set-Cookie', 's2'], ['Content-Type', 't1'],
      ['content-type', 't2'], ['X-Latin', 'caf\xe9'],
    ]).to(s);
    const req = got!;
    expect([req.method, req.url, req.httpVersion, req.httpVersionMajor, req.httpVersionMinor])
      .toEqual(['DELETE', '/p?q=1', '1.1', 1, 1]);
    // rawHeaders is an own property (node's getters read it there, also after a framework swaps the prototype);
    // req.headers is joined only when first read, by node's own getter.
    expect(Object.hasOwn(req, 'rawHeaders')).toBe(true);
    expect(Object.getOwnPropertySymbols(req).find((k) => k.description === 'kHeaders')).toBe(undefined);
    expect(req.headers).toEqual({
      host: 'h', 'x-dup': 'a, b', cookie: 'c=1; d=2', 'user-agent': 'u1', 'set-cookie': ['s1', 's2'],
      'content-type': 't1', 'x-latin': 'caf\xe9',
    });
    expect(req.rawHeaders.slice(0, 4)).toEqual(['Host', 'h', 'X-Dup', 'a']);
    expect(req.headersDistinct['x-dup']).toEqual(['a', 'b']);
    expect(req.complete).toBe(true);
    expect(req.socket.remoteAddress).toBe('10.0.0.3');
    expect(req.socket.remotePort).toBe(50003);
  });

  test('HTTP/1.0 and the common methods as constants; other methods decoded', () => {
    const seen: string[] = [];
    const s = listening((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.httpVersion}`);
      res.end();
    });
    new Batch().request(1, 0, 'GET', '/', [], 0).request(1, 1, 'PROPFIND', '/x', [], 1).to(s);
    expect(seen).toEqual(['GET / 1.0', 'PROPFIND /x 1.1']);
  });

  test('the same socket object for every request of a connection, another for another connection', () => {
    const reqs: IncomingMessage[] = [];
    const s = listening((req, res) => {
      reqs.push(req);
      res.end();
    });
    new Batch().request(1, 0, 'GET', '/a').request(1, 1, 'GET', '/b').request(2, 0, 'GET', '/c').to(s);
    expect(reqs[0].socket).toBe(reqs[1].socket);
    expect(reqs[0].socket).not.toBe(reqs[2].socket);
  });

  test("the socket: a stream.Duplex per connection, 'connection' first; writes dropped; 'timeout'; 'close'", async () => {
    const order: string[] = [];
    let res!: ServerResponse;
    const s = listening((req, r) => {
      order.push(`request ${req.url}`);
      res = r;
      expect(r.socket).toBe(req.socket);
      r.end();
    });
    let socket!: Duplex & { setTimeout(ms: number, cb: () => void): void; remoteAddress: string };
    s.on('connection', (c: typeof socket) => {
      socket = c;
      order.push(`connection ${c instanceof Duplex}`);
    });
    new Batch().request(4, 0, 'GET', '/a').request(4, 1, 'GET', '/b').to(s);
    expect(order).toEqual(['connection true', 'request /a', 'request /b']);
    expect(res.socket).toBe(null);  // after the response, as in node
    expect(socket.write('raw bytes')).toBe(true);
    expect(s.fake.of('respond').length).toBe(2);  // nothing else reached native
    expect(socket.remoteAddress).toBe('10.0.0.4');
    const timedOut = new Promise<string>((resolve) => socket.setTimeout(20, () => resolve('timeout')));
    expect(await timedOut).toBe('timeout');
    const closed = new Promise<boolean>((resolve) => socket.on('close', () => resolve(socket.destroyed)));
    new Batch().close(4).to(s);
    expect(await closed).toBe(true);
  });

  test("after an Express-style prototype swap node's own methods answer through native", () => {
    const reqProto = Object.create(http.IncomingMessage.prototype);
    const resProto = Object.create(http.ServerResponse.prototype);
    const s = listening((req, res) => {
      Object.setPrototypeOf(req, reqProto);
      Object.setPrototypeOf(res, resProto);
      expect([req instanceof http.IncomingMessage, res instanceof http.ServerResponse]).toEqual([true, true]);
      expect(req.headers).toEqual({ host: 'h', 'x-a': '1' });
      res.setHeader('X-Powered-By', 'test');
      res.statusCode = 201;
      res.end('swapped');  // node's end -> node's writeHead -> own _storeHeader/_send hooks
      expect(res.headersSent).toBe(true);
      expect((res as any)._header).toMatch(/^HTTP\/1\.1 201 Created\r\nX-Powered-By: test\r\n/);
    });
    new Batch().request(1, 0, 'GET', '/', [['Host', 'h'], ['X-A', '1']]).to(s);
    const r = s.fake.of('respond');
    expect(r.length).toBe(1);
    expect(r[0].slice(3, 6)).toEqual([201, 'Created', 'X-Powered-By: test\r\n']);
    expect(r[0][8]).toBe(7);  // node's end(body) set the length before the implicit head
    expect(s.fake.of('write')).toEqual([['write', 1, 0, undefined, true]]);  // node's end() ends it natively
  });

  test('a body arrives as data/end with trailers; pushing past the high-water mark pauses native', async () => {
    let req!: IncomingMessage;
    const s = listening((r) => {
      req = r;
    });
    const big = 'x'.repeat(10000);
    new Batch().request(1, 0, 'POST', '/up', [['Content-Length', '20005']], V11 | HAS_BODY)
      .body(1, 0, big).body(1, 0, big).to(s);
    expect(req.complete).toBe(false);
    expect(s.fake.of('pauseBody')).toEqual([['pauseBody', 1]]);
    const chunks: string[] = [];
    req.on('data', (c: Buffer) => chunks.push(c.toString('latin1')));
    const ended = new Promise<void>((r) => req.on('end', () => r()));
    await tick();
    expect(s.fake.of('resumeBody')).toEqual([['resumeBody', 1]]);
    new Batch().body(1, 0, 'hello').bodyEnd(1, 0, [['X-Sum', 'abc']]).to(s);
    await ended;
    expect(chunks.join('')).toBe(big + big + 'hello');
    expect(req.complete).toBe(true);
    expect(req.trailers).toEqual({ 'x-sum': 'abc' });
    expect(req.rawTrailers).toEqual(['X-Sum', 'abc']);
  });

  test('a request without a body ends as soon as it is read; async iteration works', async () => {
    let got: Buffer[] | undefined;
    const s = listening(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      got = parts;
      res.end('done');
    });
    new Batch().request(1, 0, 'GET', '/').to(s);
    await tick();
    expect(got).toEqual([]);
    expect(s.fake.of('respond')).toHaveLength(1);
  });

  test("after the response, an unread body is dropped and the request closes; native is resumed if paused", async () => {
    const events: string[] = [];
    const s = listening((req, res) => {
      req.on('close', () => events.push('req close'));
      res.end('early');
    });
    new Batch().request(1, 0, 'POST', '/', [], V11 | HAS_BODY).body(1, 0, 'x'.repeat(20000)).to(s);
    expect(events).toEqual(['req close']);
    // the body outran the buffer before the batch's flush finished the response; then native drains the rest
    expect(s.fake.calls.filter((c) => /Body$/.test(c[0]))).toEqual([['pauseBody', 1], ['resumeBody', 1]]);
    new Batch().body(1, 0, 'more').bodyEnd(1, 0).to(s);  // ignored, no error
    await tick();
  });
});

describe('responses', () => {
  test('end(body) after nothing else: one respond() with end=true, length left to native; one flush per batch', () => {
    const s = listening((req, res) => res.end(`hi ${req.url}`));
    new Batch().request(1, 0, 'GET', '/a').request(1, 1, 'GET', '/b').request(2, 0, 'GET', '/c').to(s);
    expect(s.fake.calls.filter((c) => c[0] !== 'listen')).toEqual([
      ['respond', 1, 0, 200, undefined, '', 0, 0, -1, 'hi /a', true],
      ['respond', 1, 1, 200, undefined, '', 0, 0, -1, 'hi /b', true],
      ['respond', 2, 0, 200, undefined, '', 0, 0, -1, 'hi /c', true],
      ['flush'],
    ]);
  });

  test('HEAD: the length is counted here and no body is passed', () => {
    const s = listening((req, res) => res.end('héllo'));
    new Batch().request(1, 0, 'HEAD', '/', [], V11 | HEAD).to(s);
    expect(s.fake.of('respond')[0].slice(8)).toEqual([6, undefined, true]);
  });

  test('responses ended after an await share one microtask flush', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = listening(async (req, res) => {
      await gate;
      res.end(req.url);
    });
    new Batch().request(1, 0, 'GET', '/1').request(2, 0, 'GET', '/2').request(3, 0, 'GET', '/3').to(s);
    expect(s.fake.of('respond')).toHaveLength(0);
    release();
    await tick();
    expect(s.fake.of('respond')).toHaveLength(3);
    const after = s.fake.calls.slice(s.fake.calls.findIndex((c) => c[0] === 'respond'));
    expect(after.filter((c) => c[0] === 'flush')).toHaveLength(1);
    expect(after[after.length - 1]).toEqual(['flush']);
  });

  test('fields serialized once, in order, names as given; UserField bits and Connection tokens', () => {
    const s = listening((req, res) => {
      res.setHeader('X-A', '1');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('x-num', 42);
      res.setHeader('Connection', 'keep-alive, Close');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('Date', 'Thu, 01 Jan 1970 00:00:00 GMT');
      res.setHeader('Content-Length', '5');
      res.setHeader('x-a', 'again');  // replaces in place, new spelling kept
      res.statusCode = 201;
      res.statusMessage = 'Made';
      res.end('hello');
    });
    new Batch().request(1, 0, 'GET', '/').to(s);
    const [, , , status, reason, fields, userFields, tokens, length, body, end] = s.fake.of('respond')[0];
    expect([status, reason, length, body, end]).toEqual([201, 'Made', 5, 'hello', true]);
    expect(fields).toBe('x-a: again\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nx-num: 42\r\n' +
      'Connection: keep-alive, Close\r\nKeep-Alive: timeout=5\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n' +
      'Content-Length: 5\r\n');
    expect(userFields).toBe(1 | 2 | 8 | 16);  // Date, ContentLength, Connection, KeepAlive
    expect(tokens).toBe(1 | 2);                // close, keep-alive
  });

  test('sendDate = false: the Date bit without a Date field; Transfer-Encoding: chunked streams', () => {
    const s = listening((req, res) => {
      res.sendDate = false;
      res.writeHead(200, [['Transfer-Encoding', 'gzip, chunked']]);
      res.write('a');
      res.end();
    });
    new Batch().request(1, 0, 'GET', '/').to(s);
    expect(s.fake.of('respond')[0].slice(5, 11)).toEqual(
      ['Transfer-Encoding: gzip, chunked\r\n', 1 | 4, 0, -1, 'a', false]);
    expect(s.fake.of('write')).toEqual([['write', 1, 0, undefined, true]]);
  });

  test('to an HTTP/1.0 client too, Transfer-Encoding goes to native with its bit (native leaves it out)', () => {
    const s = listening((req, res) => {
      res.setHeader('Transfer-Encoding', 'chunked');
      res.end('x');
    });
    new Batch().request(1, 0, 'GET', '/', [], 0).to(s);
    expect(s.fake.of('respond')[0].slice(5, 7)).toEqual(['Transfer-Encoding: chunked\r\n', 4]);
  });

  test('writeHead forms: object, flat list, pairs; mixed with setHeader the argument wins', () => {
    const fieldsOf: string[] = [];
    const s = listening((req, res) => {
      if (req.url === '/obj') res.writeHead(404, { 'Content-Type': 'text/plain', 'X-N': 1 });
      else if (req.url === '/flat') res.writeHead(200, 'Fine', ['A', 'x', 'A', 'y']);
      else {
        res.setHeader('A', 'old');
        res.setHeader('B', 'kept');
        res.writeHead(200, { a: 'new' });
      }
      expect(res.headersSent).toBe(true);
      res.end();
    });
    new Batch().request(1, 0, 'GET', '/obj').request(1, 1, 'GET', '/flat').request(1, 2, 'GET', '/mix').to(s);
    for (const c of s.fake.of('respond')) fieldsOf.push(`${c[3]} ${c[4]} ${JSON.stringify(c[5])}`);
    expect(fieldsOf).toEqual([
      '404 undefined "Content-Type: text/plain\\r\\nX-N: 1\\r\\n"',
      '200 Fine "A: x\\r\\nA: y\\r\\n"',
      '200 undefined "a: new\\r\\nB: kept\\r\\n"',  // replaced in place, as node:http does
    ]);
  });

  test('header methods, case-insensitive; errors as node:http names them', () => {
    const errors: Record<string, unknown> = {};
    const s = listening((req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.appendHeader('X-List', 'a');
      res.appendHeader('x-list', ['b', 'c']);
      expect(res.getHeader('content-type')).toBe('text/html');
      expect(res.hasHeader('CONTENT-TYPE')).toBe(true);
      expect(res.getHeaderNames()).toEqual(['content-type', 'x-list']);
      expect((res as any).getRawHeaderNames()).toEqual(['Content-Type', 'X-List']);
      expect({ ...res.getHeaders() }).toEqual({ 'content-type': 'text/html', 'x-list': ['a', 'b', 'c'] });
      res.removeHeader('content-type');
      expect(res.hasHeader('content-type')).toBe(false);
      for (const [name, fn] of [
        ['token', () => res.setHeader('Bad Name', 'x')],
        ['char', () => res.setHeader('X-Bad', 'a\nb')],
        ['undef', () => res.setHeader('X-Undef', undefined as never)],
        ['status', () => res.writeHead(99)],
        ['chunk', () => res.write(5 as never)],
        ['null', () => res.write(null as never)],
      ] as const) {
        try {
          fn();
        } catch (e) {
          errors[name] = `${(e as Error).constructor.name} ${(e as { code: string }).code}`;
        }
      }
      res.end();
      try {
        res.setHeader('X-Late', '1');
      } catch (e) {
        errors.late = (e as { code: string }).code;
      }
    });
    new Batch().request(1, 0, 'GET', '/').to(s);
    expect(errors).toEqual({
      token: 'TypeError ERR_INVALID_HTTP_TOKEN', char: 'TypeError ERR_INVALID_CHAR',
      undef: 'TypeError ERR_HTTP_INVALID_HEADER_VALUE', status: 'RangeError ERR_HTTP_INVALID_STATUS_CODE',
      chunk: 'TypeError ERR_INVALID_ARG_TYPE', null: 'TypeError ERR_STREAM_NULL_VALUES', late: 'ERR_HTTP_HEADERS_SENT',
    });
    expect(s.fake.of('respond')[0][5]).toBe('X-List: a\r\nX-List: b\r\nX-List: c\r\n');
  });

  test('differences kept: Transfer-Encoding must end in chunked and not meet Content-Length; write after end',
    async () => {
      const errors: string[] = [];
      const s = listening((req, res) => {
        try {
          res.writeHead(200, { 'Transfer-Encoding': 'gzip' });
        } catch (e) {
          errors.push((e as { code: string }).code);
        }
        try {
          res.writeHead(200, { 'Transfer-Encoding': 'chunked', 'Content-Length': '3' });
        } catch (e) {
          errors.push((e as { code: string }).code);
        }
        res.end('ok');
        res.write('late', (err?: Error | null) => errors.push((err as { code?: string } | undefined)?.code ?? 'none'));
      });
      new Batch().request(1, 0, 'GET', '/').to(s);
      await tick();
      // No 'error' listener on res: node:http would throw from emit('error'); here only the callback hears of it.
      expect(errors).toEqual(['ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_HTTP_INVALID_HEADER_VALUE',
        'ERR_STREAM_WRITE_AFTER_END']);
    });

  test("'finish' then 'close' after the flush, then the request closes; end(cb) runs", async () => {
    const log: string[] = [];
    const s = listening((req, res) => {
      res.on('finish', () => log.push(`finish flushed=${s.fake.of('flush').length}`));
      res.on('close', () => log.push('res close'));
      req.on('close', () => log.push('req close'));
      res.end('x', () => log.push('end cb'));
      log.push(`ended=${res.writableEnded} finished=${res.writableFinished}`);
    });
    new Batch().request(1, 0, 'GET', '/').to(s);
    expect(log).toEqual(['ended=true finished=false', 'finish flushed=1', 'end cb', 'res close', 'req close']);
  });

  test('write() returns false above 64 KiB queued; drain comes from a Drain record or at once', async () => {
    let res!: ServerResponse;
    const drains: number[] = [];
    const s = listening((req, r) => {
      res = r;
      res.on('drain', () => drains.push(Date.now()));
    });
    new Batch().request(1, 0, 'GET', '/').to(s);
    s.fake.queued = 70000;
    expect(res.write('a')).toBe(false);
    expect(s.fake.of('wantDrain')).toHaveLength(1);
    await tick();
    expect(drains).toHaveLength(0);
    new Batch().drain(1).to(s);
    expect(drains).toHaveLength(1);
    s.fake.drainNow = true;
    expect(res.write('b')).toBe(false);
    await tick();
    expect(drains).toHaveLength(2);
    s.fake.queued = 10;
    expect(res.write('c')).toBe(true);
  });
});

describe('connections that go away', () => {
  test("Close: res gets 'close' (no 'finish'), req 'aborted' and 'close'; a late end() reaches nothing", async () => {
    const log: string[] = [];
    let res!: ServerResponse;
    const s = listening((req, r) => {
      res = r;
      req.on('aborted', () => log.push('aborted'));
      req.on('close', () => log.push('req close'));
      res.on('finish', () => log.push('finish'));
      res.on('close', () => log.push('res close'));
    });
    new Batch().request(1, 0, 'GET', '/').close(1).to(s);
    await tick();
    expect(log).toEqual(['aborted', 'res close', 'req close']);  // node:http's order
    expect(res.destroyed).toBe(true);
    res.end('late');
    expect(res.write('late')).toBe(false);
    await tick();
    expect(s.fake.of('respond')).toHaveLength(0);
    expect(log).not.toContain('finish');
  });

  test('a Drain followed by a Close in one batch: the drain listener cannot write into the dead connection', () => {
    let writes = 0;
    const s = listening((req, res) => {
      const pump = () => {
        while (writes < 100) {
          writes++;
          if (!res.write('x')) return void res.once('drain', pump);
        }
      };
      pump();
    });
    s.fake.queued = 1 << 20;
    new Batch().request(1, 0, 'GET', '/').to(s);
    expect(writes).toBe(1);
    s.fake.queued = 0;  // what native answers for a connection it closed
    new Batch().drain(1).close(1).to(s);
    expect(writes).toBe(1);
  });

  test('res.destroy() and req.destroy() abort the exchange natively', () => {
    const s = listening((req, res) => {
      if (req.url === '/res') res.destroy();
      else req.destroy();
    });
    new Batch().request(1, 0, 'GET', '/res').request(2, 0, 'POST', '/req', [], V11 | HAS_BODY).to(s);
    expect(s.fake.of('abort')).toEqual([['abort', 1, 0], ['abort', 2, 0]]);
  });
});

describe('handler failures', () => {
  // native sends the ready-made 500 (its bytes are asserted in test/handler-errors.test.ts and connection_test.cc).
  const internalError = ['fail', 1, 0];

  test("a throw before the head: 500 + close, reported to 'handlerError'", () => {
    const reported: unknown[] = [];
    const boom = new Error('boom');
    const s = listening(() => {
      throw boom;
    });
    s.on('handlerError', (err, req) => reported.push(err, req.url));
    new Batch().request(1, 0, 'GET', '/x').to(s);
    expect(s.fake.of('fail')).toEqual([internalError]);
    expect(s.fake.of('respond')).toEqual([]);
    expect(reported).toEqual([boom, '/x']);
  });

  test("a 'handlerError' listener may answer itself (a JSON error page): then no 500", () => {
    const s = listening(() => {
      throw new Error('bad input');
    });
    s.on('handlerError', (err: Error, _req, res) => {
      res.statusCode = 400;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ error: err.message }));
    });
    new Batch().request(1, 0, 'GET', '/x').to(s);
    const calls = s.fake.of('respond');
    expect(calls.length).toBe(1);
    expect(calls[0].slice(3, 6)).toEqual([400, undefined, 'Content-Type: application/json\r\n']);
    expect(calls[0][9]).toBe('{"error":"bad input"}');
  });

  test("a rejected promise: 500; without 'handlerError', 'error' listeners get ERR_NOVA_HANDLER_FAILED", async () => {
    const reported: (Error & { code?: string })[] = [];
    const boom = new Error('async boom');
    const s = listening(async () => {
      await tick();
      throw boom;
    });
    s.on('error', (e: Error) => reported.push(e));
    new Batch().request(1, 0, 'GET', '/y').to(s);
    await tick();
    await tick();
    expect(s.fake.of('fail')).toEqual([internalError]);
    expect(s.fake.of('respond')).toEqual([]);
    expect(reported[0].code).toBe('ERR_NOVA_HANDLER_FAILED');
    expect(reported[0].cause).toBe(boom);
    expect(reported[0].message).toBe('The request handler for GET /y failed: async boom');
  });

  test('a throw after the head was sent: abort; nobody listening: stderr', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const s = listening((req, res) => {
      res.write('partial');
      throw new Error('late boom');
    });
    new Batch().request(1, 0, 'GET', '/z').to(s);
    expect(s.fake.of('abort')).toEqual([['abort', 1, 0]]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(String(spy.mock.calls[0][0])).toContain('GET /z');
  });
});

describe('server', () => {
  test('listen forms, address(), options passed to native, listening event', async () => {
    const s = new TestServer({ keepAliveTimeout: 5000 });
    const cb = vi.fn();
    s.listen(8080, '127.0.0.1', 100, cb);
    expect(s.fake.calls[0]).toEqual(['listen', '127.0.0.1', 8080, 100, '', 0, -1]);
    expect(s.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: 8080 });
    expect(s.nativeOptions).toMatchObject({ keepAliveTimeout: 5000, ioModel: 1 });  // evented by default
    await tick();
    expect(cb).toHaveBeenCalledTimes(1);
    expect(() => s.listen(1)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));

    const t = new TestServer();
    t.listen({ port: '81', backlog: 7 });
    expect(t.fake.calls[0]).toEqual(['listen', '', 81, 7, '', 0, -1]);
    const u = new TestServer();
    u.listen(() => {});
    expect(u.fake.calls[0]).toEqual(['listen', '', 0, 511, '', 0, -1]);
    expect(() => new TestServer().listen(70000)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    // A string that is no number is a Unix domain socket's path, as in node; ipv6Only/reusePort become flags.
    const v = new TestServer();
    v.listen('/tmp/sock', 9);
    expect(v.fake.calls[0]).toEqual(['listen', '', 0, 9, '/tmp/sock', 0, -1]);
    expect(v.address()).toBe('/tmp/sock');
    const w = new TestServer();
    w.listen({ port: 0, host: '::', ipv6Only: true, reusePort: true });
    expect(w.fake.calls[0]).toEqual(['listen', '::', 0, 511, '', 3, -1]);
  });

  test("a native listen failure is emitted as 'error' on the next tick", async () => {
    const s = new TestServer();
    s.fake.listenError = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const errors: { code?: string }[] = [];
    s.on('error', (e) => errors.push(e as never));
    s.listen(80);
    expect(errors).toEqual([]);
    await tick();
    expect(errors[0].code).toBe('EADDRINUSE');
    expect(s.listening).toBe(false);
  });

  test("close(): native close, then 'close' and the callback on ServerClosed; stats kept; listen again", async () => {
    const s = listening();
    const cb = vi.fn();
    s.close(cb);
    expect(s.fake.of('close')).toHaveLength(1);
    expect(s.address()).toBe(null);
    new Batch().serverClosed().to(s);
    expect(cb).toHaveBeenCalledWith();
    expect(s.stats().requests).toBe(2);
    const again = vi.fn();
    s.close(again);
    await tick();
    expect(again.mock.calls[0][0]).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
    s.listen(0);
    expect(s.listening).toBe(true);
  });

  test('clientError: informational, with a code, the status and a socket stand-in', () => {
    const s = listening();
    const got: unknown[] = [];
    s.on('clientError', (err, socket) => got.push(err.code, err.status, typeof socket.destroy));
    new Batch().clientError(4, 431).to(s);
    expect(got).toEqual(['HPE_HEADER_OVERFLOW', 431, 'function']);
  });

  test('requestTimeout set as a property: a headersTimeout nobody set follows it, as node\'s default does', () => {
    const s = new TestServer();
    s.requestTimeout = 1000;  // Fastify sets it this way on node:http servers
    expect(s.headersTimeout).toBe(1000);
    s.listen(0);
    expect([s.nativeOptions!.headersTimeout, s.nativeOptions!.requestTimeout]).toEqual([1000, 1000]);
    const explicit = new TestServer({ headersTimeout: 5000 });
    explicit.requestTimeout = 1000;
    expect(explicit.headersTimeout).toBe(5000);
    expect(() => explicit.listen(0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  test('options are properties; a change before listen() reaches native, after it warns once', async () => {
    const s = new TestServer();
    s.keepAliveTimeout = 1000;
    expect(() => {
      s.headersTimeout = -5;
    }).toThrow(RangeError);
    s.listen(0);
    expect(s.nativeOptions!.keepAliveTimeout).toBe(1000);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    s.requestTimeout = 5000;
    s.maxRequestsPerSocket = 3;
    expect(warn).toHaveBeenCalledTimes(1);
    expect(s.requestTimeout).toBe(5000);
  });
});
