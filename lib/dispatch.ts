// The batch dispatcher: walks the event records native delivers in one thread-safe-function call (the layout is in
// lib/contract.ts), turns them into req/res objects and stream events, and hands the responses back with one native
// flush() per batch. Responses ended outside a batch (after an await, a timer) share one microtask flush.
import {
  BodyEndRec, BodyRec, ClientErrorRec, CloseRec, DrainRec, Ev, RawEndRec, RawRec, ReqFlag, RequestRec, recordEnd,
  UpgradeTail,
} from './contract';
import type { NativeServer, OnBatch } from './contract';
import { drainFront, link } from './conn';
import type { Conn, ConnOwner } from './conn';
import { HeadText, IncomingMessage, endBody, endIfBodiless, limitHeaders, methodString, pushBody, rawFields,
  requestGone, resumeForDrain, urlString } from './request';
import type { BatchBytes } from './request';
import { ServerResponse, endIfFinished, finishResponse, responseGone } from './response';
import { NovaSocket } from './socket';
import { codedError } from './errors';
import type { ErrorWithCode } from './errors';

/** What the dispatcher needs from the Server that owns it. */
export interface DispatchHost {
  /** Runs the 'request' listeners (catching what they throw or reject). */
  _onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** A request with an Expect field (ReqFlag.ExpectContinue / ExpectOther): 'checkContinue', 'checkExpectation',
   *  417 or 'request', as node:http decides. */
  _onExpect(req: IncomingMessage, res: ServerResponse): void;
  /** A ClientError record: emit 'clientError' if anyone listens. */
  _onClientError(err: ErrorWithCode, socket: NovaSocket): void;
  /** The ServerClosed record. */
  _onServerClosed(): void;
  /** An accepted upgrade or CONNECT: emit 'upgrade' / 'connect' (req, socket, head). */
  _onUpgrade(event: 'upgrade' | 'connect', req: IncomingMessage, socket: NovaSocket, head: Buffer): void;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
  /** server.setTimeout(): every new connection's idle timeout in ms (0: none). */
  readonly timeout: number;
  /** node's server.maxHeadersCount: req.headers holds at most this many fields (not trailers); null or 0: all. */
  readonly maxHeadersCount: number | null;
}

// The 'clientError' codes, after what node:http reports for the same failures.
const clientErrorCodes: Record<number, [string, string]> = {
  400: ['HPE_INVALID_REQUEST', 'Parse Error: the request is malformed'],
  408: ['ERR_HTTP_REQUEST_TIMEOUT', 'Request timeout: the head or the body did not arrive in time'],
  413: ['ERR_HTTP_PAYLOAD_TOO_LARGE', 'Payload Too Large'],
  414: ['HPE_URI_TOO_LONG', 'Parse Error: the request line is too long'],
  431: ['HPE_HEADER_OVERFLOW', 'Parse Error: Header overflow'],
  501: ['HPE_INVALID_TRANSFER_ENCODING', 'Parse Error: unsupported transfer coding'],
  503: ['ERR_NOVA_CONNECTION_LIMIT', 'Connection refused: maxConnections reached and no idle connection to evict'],
  505: ['HPE_INVALID_VERSION', 'Parse Error: HTTP version not supported'],
};

export function clientError(status: number): ErrorWithCode & { status: number } {
  const [code, message] = clientErrorCodes[status] ?? ['HPE_INVALID_REQUEST', `Request refused with ${status}`];
  const err = codedError(Error, code, message) as ErrorWithCode & { status: number };
  err.status = status;
  return err;
}

function throwLater(err: unknown): void {
  // A listener (data, close, finish...) threw inside a batch: the rest of the batch still runs, and the error
  // surfaces as an uncaught exception, as it would have from node:http's own event emission.
  process.nextTick(() => {
    throw err;
  });
}

export class Dispatcher implements ConnOwner {
  /** Set right after construction: the native Server takes onBatch in its constructor. */
  native!: NativeServer;
  readonly host: DispatchHost;
  readonly conns = new Map<number, Conn>();
  /** onBatch() is running: whatever gets queued is flushed at its end. */
  private inBatch = false;
  /** Responses were handed to native since the last flush(). */
  private dirty = false;
  private scheduled = false;
  /** Responses fed by node's own write()/end(): checked for node's `finished` before the next flush. */
  private endChecks: ServerResponse[] = [];
  /** Ended responses ('finish' pending) and write() callbacks, run after the next flush. */
  private after: (ServerResponse | (() => void))[] = [];
  private spare: (ServerResponse | (() => void))[] = [];
  private readonly heads = new HeadText();

  constructor(host: DispatchHost) {
    this.host = host;
  }

  /** The batch callback given to the native Server (bound once). */
  readonly onBatch: OnBatch = (bytes, meta, count) => {
    this.inBatch = true;
    try {
      this.walk(bytes as BatchBytes, meta, count);
    } finally {
      this.inBatch = false;
      this.flushNow();
    }
  };

  private readonly flushTask = (): void => {
    this.scheduled = false;
    this.flushNow();
  };

  /** Something was handed to native: flush at the end of this batch, or in one microtask outside batches. */
  queued(): void {
    this.dirty = true;
    if (!this.inBatch && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** A response's end was handed to native: 'finish' follows the flush. */
  ended(res: ServerResponse): void {
    this.after.push(res);
    this.queued();
  }

  checkEnd(res: ServerResponse): void {
    this.endChecks.push(res);
    this.queued();
  }

  afterFlush(cb: () => void): void {
    this.after.push(cb);
  }

  abortExchange(conn: Conn, seq: number): void {
    if (conn._gone) return;
    this.native.abort(conn._connId, seq);
    this.queued();
  }

  // ConnOwner's SocketOwner part
  destroyConnection(connId: number): void {
    const conn = this.conns.get(connId);
    if (conn !== undefined) this.abortExchange(conn, conn._lastSeq);
  }

  resumeConnection(connId: number): void {
    const conn = this.conns.get(connId);
    if (conn === undefined) return;
    if (conn._bodyReq !== null && conn._bodyReq._paused) resumeForDrain(conn._bodyReq);
    for (let res = conn._head; res !== null; res = res._next) endIfBodiless(res.req);
  }

  socketTimeout(connId: number): boolean {
    const conn = this.conns.get(connId);
    const res = conn?._head ?? null;
    let heard = false;
    if (res !== null) {
      if (!res.req.complete && res.req.emit('timeout', conn)) heard = true;
      if (res.emit('timeout', conn)) heard = true;
    }
    if (this.host.emit('timeout', conn)) heard = true;
    return heard;
  }

  /** Name/value entries req.headers may take (node's parser.maxHeaderPairs); 0: no limit. */
  private maxHeaderPairs(): number {
    const max = this.host.maxHeadersCount;
    return typeof max === 'number' && max > 0 ? max << 1 : 0;
  }

  flushNow(): void {
    for (;;) {
      const checks = this.endChecks;
      if (checks.length !== 0) {
        this.endChecks = [];
        for (let i = 0; i < checks.length; i++) {
          try {
            endIfFinished(checks[i]);
          } catch (err) {
            throwLater(err);
          }
        }
      }
      if (this.dirty) {
        this.dirty = false;
        this.native.flush();
      }
      const list = this.after;
      if (list.length === 0) {
        if (this.endChecks.length === 0 && !this.dirty) return;
        continue;
      }
      this.after = this.spare;
      for (let i = 0; i < list.length; i++) {
        const item = list[i];
        try {
          if (typeof item === 'function') item();
          else finishResponse(item);
        } catch (err) {
          throwLater(err);
        }
      }
      list.length = 0;
      this.spare = list;
    }
  }

  /** `count` is the number of meta entries in use (records are variable-length). */
  private walk(bytes: BatchBytes, meta: Uint32Array, count: number): void {
    const end = Math.min(count, meta.length);
    // A connection this batch closes is gone for everything the batch's events trigger: a 'drain' listener or a
    // handler must not keep writing into a connection native already closed (native reports 0 bytes queued).
    for (let i = 0; i < end; i = recordEnd(meta, i)) {
      if (meta[i] === Ev.Close) {
        const conn = this.conns.get(meta[i + CloseRec.ConnId]);
        if (conn !== undefined) conn._gone = true;
      }
    }
    this.heads.reset(bytes);
    for (let i = 0; i < end;) {
      const type = meta[i];
      const next = recordEnd(meta, i);
      try {
        switch (type) {
          case Ev.Request: this.request(bytes, meta, i); break;
          case Ev.Body: this.body(bytes, meta, i); break;
          case Ev.BodyEnd: this.bodyEnd(bytes, meta, i); break;
          case Ev.Close: this.close(meta[i + CloseRec.ConnId]); break;
          case Ev.Drain: this.drain(meta[i + DrainRec.ConnId]); break;
          case Ev.ClientError:
            this.clientError(meta[i + ClientErrorRec.ConnId], meta[i + ClientErrorRec.Status]);
            break;
          case Ev.ServerClosed: this.host._onServerClosed(); break;
          case Ev.Raw: this.raw(bytes, meta, i); break;
          case Ev.RawEnd: this.rawEnd(meta[i + RawEndRec.ConnId]); break;
        }
      } catch (err) {
        throwLater(err);
      }
      i = next;
    }
  }

  private request(bytes: BatchBytes, meta: Uint32Array, i: number): void {
    const connId = meta[i + RequestRec.ConnId];
    let conn = this.conns.get(connId);
    if (conn === undefined) {
      conn = new NovaSocket(this, connId);
      this.conns.set(connId, conn);
      if (this.host.timeout > 0) conn.setTimeout(this.host.timeout);
      this.host.emit('connection', conn);
    } else if (conn._timer !== null) {
      conn._active();
    }
    const seq = meta[i + RequestRec.Seq];
    conn._lastSeq = seq;
    const req = new IncomingMessage(conn, seq, meta[i + RequestRec.Flags],
      methodString(bytes, meta[i + RequestRec.MethodOff], meta[i + RequestRec.MethodLen]),
      urlString(bytes, meta[i + RequestRec.UrlOff], meta[i + RequestRec.UrlLen]),
      this.heads.fields(meta, i + RequestRec.Fields, meta[i + RequestRec.FieldCount]));
    const maxPairs = this.maxHeaderPairs();
    if (maxPairs > 0 && req.rawHeaders.length > maxPairs) limitHeaders(req, maxPairs);
    if ((req._flags & ReqFlag.Upgrade) !== 0 &&
        this.upgrade(conn, req, bytes, meta, recordEnd(meta, i) - UpgradeTail.Size)) return;
    const res = new ServerResponse(conn, req);
    link(conn, res);
    if (!req.complete) conn._bodyReq = req;
    if ((req._flags & (ReqFlag.ExpectContinue | ReqFlag.ExpectOther)) !== 0) this.host._onExpect(req, res);
    else this.host._onRequest(req, res);
  }

  /**
   * A request native holds for a protocol switch (ReqFlag.Upgrade). With an 'upgrade' listener (for CONNECT,
   * 'connect'), the connection's socket becomes its passthrough and the listener gets (req, socket, head); true. Without
   * one, native is told to serve it as an ordinary request (false), except CONNECT, whose connection closes, as
   * node:http does (true).
   */
  private upgrade(conn: Conn, req: IncomingMessage, bytes: BatchBytes, meta: Uint32Array, tailAt: number): boolean {
    const event = req.method === 'CONNECT' ? 'connect' : 'upgrade';
    const accept = this.host.listenerCount(event) > 0;
    this.native.upgrade(conn._connId, req._seq, accept);
    this.queued();
    if (!accept) {
      if (event === 'upgrade') return false;
      this.abortExchange(conn, req._seq);
      return true;
    }
    const socket = conn;  // the same object as req.socket and the 'connection' socket, as in node:http
    socket._upgrade(req._seq);
    req.upgrade = true;
    const off = meta[tailAt + UpgradeTail.Off];
    // A copy: ws unshift()s it into the socket, and the batch buffer holds everything else of this batch.
    const head = Buffer.from(bytes.subarray(off, off + meta[tailAt + UpgradeTail.Len]));
    this.host._onUpgrade(event, req, socket, head);
    return true;
  }

  private raw(bytes: BatchBytes, meta: Uint32Array, i: number): void {
    const conn = this.conns.get(meta[i + RawRec.ConnId]);
    if (conn === undefined || conn._upgradeSeq < 0) return;
    const off = meta[i + RawRec.Off];
    conn._push(bytes.subarray(off, off + meta[i + RawRec.Len]));
  }

  private rawEnd(connId: number): void {
    const conn = this.conns.get(connId);
    if (conn !== undefined && conn._upgradeSeq >= 0) conn._push(null);
  }

  private body(bytes: BatchBytes, meta: Uint32Array, i: number): void {
    const req = this.conns.get(meta[i + BodyRec.ConnId])?._bodyReq;
    if (req == null || req._seq !== meta[i + BodyRec.Seq]) return;
    const off = meta[i + BodyRec.Off];
    const socket = req._conn;
    if (socket._timer !== null) socket._active();
    pushBody(req, bytes.subarray(off, off + meta[i + BodyRec.Len]));
  }

  private bodyEnd(bytes: BatchBytes, meta: Uint32Array, i: number): void {
    const conn = this.conns.get(meta[i + BodyEndRec.ConnId]);
    const req = conn?._bodyReq;
    if (req == null || req._seq !== meta[i + BodyEndRec.Seq]) return;
    conn!._bodyReq = null;
    const trailerCount = meta[i + BodyEndRec.TrailerCount];
    endBody(req, trailerCount === 0 ? null : rawFields(bytes, meta, i + BodyEndRec.Trailers, trailerCount));
  }

  private close(connId: number): void {
    const conn = this.conns.get(connId);
    if (conn === undefined) return;
    this.conns.delete(connId);
    conn._gone = true;
    conn._drainWaiters = null;
    // The socket first: node's IncomingMessage#_destroy (a swapped prototype) must find it destroyed already.
    conn._closed();
    const bodyReq = conn._bodyReq;
    conn._bodyReq = null;
    let res = conn._head;
    conn._head = conn._tail = null;
    while (res !== null) {
      const next = res._next;
      res._prev = res._next = null;
      try {
        responseGone(res);
      } catch (err) {
        throwLater(err);
      }
      res = next;
    }
    // A body still being read after its response finished.
    if (bodyReq !== null) requestGone(bodyReq);
  }

  private drain(connId: number): void {
    const conn = this.conns.get(connId);
    if (conn === undefined) return;
    try {
      if (conn._upgradeSeq >= 0) conn._drain();
      else drainFront(conn);
    } catch (err) {
      throwLater(err);
    }
  }

  private clientError(connId: number, status: number): void {
    if (this.host.listenerCount('clientError') === 0) return;
    const conn = this.conns.get(connId);
    this.host._onClientError(clientError(status), conn ?? new NovaSocket(this, connId));
  }
}
