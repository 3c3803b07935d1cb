// Conn: one live connection as JS sees it (its socket, its unfinished responses oldest first, the request whose
// body is arriving, who waits for 'drain'), and the interface that lets requests and responses reach their
// connection and dispatcher without importing lib/dispatch.ts. Requests and responses are reached through plain
// functions of request.ts/response.ts, never their methods: a framework may have swapped their prototypes.
import type { IncomingMessage } from './request';
import { emitDrain } from './response';
import type { ServerResponse } from './response';
import { NovaSocket } from './socket';
import type { SocketOwner } from './socket';

/** What a connection, its requests and its responses need from the dispatcher that owns them. */
export interface ConnOwner extends SocketOwner {
  /** A response's end was handed to native: 'finish' and 'close' follow the flush. */
  ended(res: ServerResponse): void;
  /** node's own end() ran on a response fed through its _send hook: checked before the next flush. */
  checkEnd(res: ServerResponse): void;
  /** Closes the connection once the responses before `seq` are out (works before any response too). */
  abortExchange(conn: Conn, seq: number): void;
}

/** A request whose Body records are arriving. */
export type ConnRequest = IncomingMessage;
/** An unfinished response, linked in its connection's list. */
export type ConnResponse = ServerResponse;

export class Conn {
  readonly d: ConnOwner;
  readonly id: number;
  /** req.socket / res.socket: one per connection. */
  readonly socket: NovaSocket;
  /** The request whose Body records are arriving (bodies are sequential on the wire). */
  bodyReq: ConnRequest | null = null;
  /** Unfinished responses, oldest first (doubly linked through _prev/_next). */
  head: ConnResponse | null = null;
  tail: ConnResponse | null = null;
  drainWaiters: ConnResponse[] | null = null;
  /** The connection was handed to JS ('upgrade' / 'connect'): Raw records and Drain go to its socket. */
  upgraded = false;
  lastSeq = 0;
  gone = false;

  constructor(d: ConnOwner, id: number) {
    this.d = d;
    this.id = id;
    this.socket = new NovaSocket(d, id);
  }

  link(res: ConnResponse): void {
    res._prev = this.tail;
    if (this.tail === null) this.head = res;
    else this.tail._next = res;
    this.tail = res;
  }

  unlink(res: ConnResponse): void {
    const prev = res._prev;
    const next = res._next;
    if (prev === null) {
      if (this.head !== res) return;  // not linked
      this.head = next;
    } else {
      prev._next = next;
    }
    if (next === null) this.tail = prev;
    else next._prev = prev;
    res._prev = res._next = null;
    // A new front response that waits for 'drain': the Drain records so far were not for it (see drainFront).
    if (prev === null && next !== null && this.drainWaiters !== null && !this.gone &&
        this.drainWaiters.includes(next) && this.d.native.wantDrain(this.id)) {
      process.nextTick(() => this.drainFront());
    }
  }

  waitDrain(res: ConnResponse): void {
    if (this.drainWaiters === null) this.drainWaiters = [res];
    else if (!this.drainWaiters.includes(res)) this.drainWaiters.push(res);
  }

  /**
   * Native's write buffer is below the mark: 'drain' for the front response if it waits. Responses pipelined behind
   * it keep waiting (their bytes cannot leave before it ends, so waking them would only let them pile up more);
   * unlink() asks native again when one of them becomes the front.
   */
  drainFront(): void {
    const waiters = this.drainWaiters;
    const front = this.head;
    if (waiters === null || front === null || this.gone) return;
    const i = waiters.indexOf(front);
    if (i < 0) return;
    if (waiters.length === 1) this.drainWaiters = null;
    else waiters.splice(i, 1);
    emitDrain(front);
  }
}
