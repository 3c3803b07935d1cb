// Conn: one live connection as the dispatcher sees it (its unfinished responses oldest first, the request whose body
// is arriving, who waits for 'drain'), and the interface that lets requests and responses reach their connection and
// dispatcher without importing lib/dispatch.ts. Its fields live on the connection's NovaSocket (lib/socket.ts), so a
// connection is one JS object: a second one per connection was ~100 bytes more, promoted out of V8's young
// generation with every new connection. Requests and responses are reached through plain functions of
// request.ts/response.ts, never their methods: a framework may have swapped their prototypes.
import { emitDrain } from './response';
import type { ServerResponse } from './response';
import type { NovaSocket, SocketOwner } from './socket';

/** What a connection, its requests and its responses need from the dispatcher that owns them. */
export interface ConnOwner extends SocketOwner {
  /** A response's end was handed to native: 'finish' and 'close' follow the flush. */
  ended(res: ServerResponse): void;
  /** node's own end() ran on a response fed through its _send hook: checked before the next flush. */
  checkEnd(res: ServerResponse): void;
  /** Closes the connection once the responses before `seq` are out (works before any response too). */
  abortExchange(conn: Conn, seq: number): void;
}

/** A connection: its socket, which holds the dispatcher's fields (_owner, _connId, _gone, _head...). */
export type Conn = NovaSocket;

export function link(conn: Conn, res: ServerResponse): void {
  res._prev = conn._tail;
  if (conn._tail === null) conn._head = res;
  else conn._tail._next = res;
  conn._tail = res;
}

export function unlink(conn: Conn, res: ServerResponse): void {
  const prev = res._prev;
  const next = res._next;
  if (prev === null) {
    if (conn._head !== res) return;  // not linked
    conn._head = next;
  } else {
    prev._next = next;
  }
  if (next === null) conn._tail = prev;
  else next._prev = prev;
  res._prev = res._next = null;
  // A new front response that waits for 'drain': the Drain records so far were not for it (see drainFront).
  if (prev === null && next !== null && conn._drainWaiters !== null && !conn._gone &&
      conn._drainWaiters.includes(next) && conn._owner.native.wantDrain(conn._connId)) {
    process.nextTick(drainFront, conn);
  }
}

export function waitDrain(conn: Conn, res: ServerResponse): void {
  if (conn._drainWaiters === null) conn._drainWaiters = [res];
  else if (!conn._drainWaiters.includes(res)) conn._drainWaiters.push(res);
}

/**
 * Native's write buffer is below the mark: 'drain' for the front response if it waits. Responses pipelined behind
 * it keep waiting (their bytes cannot leave before it ends, so waking them would only let them pile up more);
 * unlink() asks native again when one of them becomes the front.
 */
export function drainFront(conn: Conn): void {
  const waiters = conn._drainWaiters;
  const front = conn._head;
  if (waiters === null || front === null || conn._gone) return;
  const i = waiters.indexOf(front);
  if (i < 0) return;
  if (waiters.length === 1) conn._drainWaiters = null;
  else waiters.splice(i, 1);
  emitDrain(front);
}
