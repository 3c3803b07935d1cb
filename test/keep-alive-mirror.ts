// The persistence decision written again in TypeScript, as a readable statement of the rule that native owns
// (native/core/keep_alive.cc decides on the wire). test/keep-alive.test.ts runs test/vectors/keep-alive.json
// against this and test/native/keep_alive_test.cc runs the same file against native, which holds the two together.
// Test-only: nothing in lib/ decides keep-alive.
import { ConnToken } from '../lib/keep-alive';

/** How the end of the response body is marked: the same cases as Framing in http_types.h. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface KeepAliveInput {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (any other 1.x is served as 1.1). */
  versionMinor: number;
  /** ConnToken bits of the request's Connection fields. */
  requestTokens: number;
  /** ConnToken bits of a Connection header the handler set on the response. */
  responseTokens: number;
  framing: Framing;
  /** The request body was fully read (or will be drained within the bound). */
  bodyComplete: boolean;
  /** Shutdown, maxRequestsPerSocket reached, or a deadline passed. */
  serverClosing: boolean;
}

/**
 * Does the request alone end the connection after its response? Any close token does (on 1.0 too), and an
 * HTTP/1.0 request without a keep-alive token does. Nothing pipelined after such a request is processed.
 */
export function requestCloses(versionMinor: number, tokens: number): boolean {
  if (tokens & ConnToken.Close) return true;
  return versionMinor === 0 && !(tokens & ConnToken.KeepAlive);
}

/** true when the connection stays open for the next request after this response. */
export function keepAlive(input: KeepAliveInput): boolean {
  if (input.serverClosing) return false;
  // An unread body beyond the drain bound would otherwise be parsed as the next request.
  if (!input.bodyComplete) return false;
  // The client finds the end of such a body only by the close.
  if (input.framing === 'close') return false;
  if ((input.requestTokens | input.responseTokens) & ConnToken.Close) return false;
  if (input.versionMinor === 0) {
    // HTTP/1.0 persists only by opt-in, and only with a body end it can find without chunked coding.
    if (!(input.requestTokens & ConnToken.KeepAlive)) return false;
    return input.framing === 'length' || input.framing === 'none';
  }
  return true;
}

