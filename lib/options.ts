// createServer() options: defaults, validation (TypeError/RangeError naming the option and what it expects) and
// the conversion to what the native Server takes. Nothing here touches the addon.
import * as os from 'node:os';
import type { NativeServerOptions } from './contract';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';

export type IoModel = 'blocking' | 'evented';
export type Backend = 'epoll' | 'poll';

/**
 * The I/O model used when the options do not name one: 'evented' (loop threads over epoll/poll). 'blocking' (a
 * thread per connection) stays available by name.
 */
export const DEFAULT_IO_MODEL: IoModel = 'evented';

export interface ServerOptions {
  /** Idle time allowed between two requests on a connection, in ms (default 65000; 0 = no idle timeout). */
  keepAliveTimeout?: number;
  /** Time allowed to receive a whole request head, in ms (default 60000, capped by requestTimeout; 0 = off). */
  headersTimeout?: number;
  /** Time allowed to receive a whole request (head and body), in ms (default 300000; 0 = off). */
  requestTimeout?: number;
  /** Requests served on one connection before it closes (default 0 = unlimited). */
  maxRequestsPerSocket?: number;
  /** Largest request head in bytes (default 16384); larger heads get 431. */
  maxHeaderSize?: number;
  /** Most connections open at once (default 10000); at the cap the oldest idle one is evicted, else 503. */
  maxConnections?: number;
  /** 'blocking' (thread per connection) or 'evented' (loop threads); default DEFAULT_IO_MODEL. */
  ioModel?: IoModel;
  /** Evented model only: the readiness API ('epoll' is Linux only); default: the best one for the platform. */
  backend?: Backend;
  /**
   * Evented model only: the number of loop threads (default DEFAULT_THREADS: 0 on one or two cores, else 1).
   * 0 = no I/O thread at all: the sockets are polled from Node's own event loop and handlers are called directly
   * (epoll backend; with 'poll', or where epoll does not exist, it falls back to 1).
   */
  threads?: number;
  /**
   * A client that half-closes (sends FIN) while its response is owed still gets it (true), or has left (false, the
   * default, as node:http): its requests get 'aborted'/'close' at once and their work is dropped.
   */
  allowHalfOpen?: boolean;
  /**
   * As node:http's: an HTTP/1.1 request without a Host field is refused with 400 (true, the default), or served
   * (false). Two Host fields are refused either way (RFC 9112 3.2).
   */
  requireHostHeader?: boolean;
}

/** Options after validation and defaulting: every field set; the numbers are the ones native takes. */
export type ResolvedOptions = Omit<NativeServerOptions,
  'ioModel' | 'backend' | 'allowHalfOpen' | 'highWaterMark' | 'checkContinue' | 'requireHostHeader'> & {
  ioModel: IoModel;
  backend: Backend | undefined;
  allowHalfOpen: boolean;
  requireHostHeader: boolean;
};

/**
 * Loop threads when the options name none, from the cores this process may use. On one or two cores: 0 (the
 * sockets polled from Node's own loop, no thread hop): a loop thread would compete with JS and the load for the
 * same cores, and the hop costs CPU (wake-ups, data crossing cores). On more: 1, where a spare core turns the
 * loop's kernel work into throughput. The measurements and the reasoning for larger machines: docs/performance.md.
 */
export const DEFAULT_THREADS: number = usableCores() > 2 ? 1 : 0;

function usableCores(): number {
  // availableParallelism() (Node >= 18.14) honours the CPU affinity mask; cpus() is the fallback.
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : Math.max(1, os.cpus().length);
}

/** The options' defaults: the only ones (native receives every option and has no defaults of its own). */
export const defaults = Object.freeze({
  keepAliveTimeout: 65_000,
  headersTimeout: 60_000,
  requestTimeout: 300_000,
  maxRequestsPerSocket: 0,
  maxHeaderSize: 16_384,
  maxConnections: 10_000,
  threads: DEFAULT_THREADS,
});

/**
 * Output queued on one connection above which write() returns false (until 'drain'), and at which native stops
 * reading and parsing that connection's requests: a client that pipelines requests and reads no answers is held
 * to this much output plus the answers to the requests already dispatched. Handed to native (highWaterMark).
 */
export const HIGH_WATER_MARK = 64 * 1024;

// Timers and SO_RCVTIMEO take 32-bit signed milliseconds (~24.8 days); larger values would wrap natively.
const MAX_MS = 0x7fff_ffff;
const MAX_COUNT = 0x7fff_ffff;
const MAX_THREADS = 1024;

/** Checks one integer option; `what` completes "must be ..." for both the type and the range message. */
export function validateInteger(name: string, value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, `of type number (${what})`, value, 'option');
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, what, value, 'option');
  return value;
}

const msWhat = `a non-negative integer (milliseconds, at most ${MAX_MS})`;
const keepAliveWhat = 'a non-negative integer (milliseconds); 0 disables the idle timeout';

/** Validators for the options that are also Server properties (settable before listen()). */
export const validators = {
  keepAliveTimeout: (v: unknown) => validateInteger('keepAliveTimeout', v, 0, MAX_MS, keepAliveWhat),
  headersTimeout: (v: unknown) => validateInteger('headersTimeout', v, 0, MAX_MS, msWhat),
  requestTimeout: (v: unknown) => validateInteger('requestTimeout', v, 0, MAX_MS, msWhat),
  maxRequestsPerSocket: (v: unknown) =>
    validateInteger('maxRequestsPerSocket', v, 0, MAX_COUNT, 'a non-negative integer (0 = unlimited)'),
  maxHeaderSize: (v: unknown) =>
    validateInteger('maxHeaderSize', v, 1, MAX_COUNT, 'a positive integer (bytes)'),
  maxConnections: (v: unknown) =>
    validateInteger('maxConnections', v, 1, MAX_COUNT, 'a positive integer'),
} as const;

export type NumericOption = keyof typeof validators;

function validateBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value, 'option');
  return value;
}

function validateIoModel(value: unknown): IoModel {
  if (value === 'blocking' || value === 'evented') return value;
  throw invalidArgValue('ioModel', `one of 'blocking', 'evented'`, value, 'option');
}

function validateBackend(value: unknown): Backend | undefined {
  if (value === undefined) return undefined;
  if (value === 'poll') return value;
  if (value === 'epoll') {
    if (process.platform !== 'linux') {
      throw invalidArgValue('backend', `'poll' on ${process.platform} (epoll exists on Linux only)`, value,
        'option');
    }
    return value;
  }
  throw invalidArgValue('backend', `one of 'epoll', 'poll' or undefined`, value, 'option');
}

/**
 * Node's rule: with both deadlines on, the head deadline cannot be later than the whole request's.
 * Checked at createServer() and again at listen() (the properties can be set in between).
 */
export function checkTimeoutRelation(headersTimeout: number, requestTimeout: number): void {
  if (requestTimeout > 0 && headersTimeout > 0 && headersTimeout > requestTimeout) {
    throw outOfRange('headersTimeout', `<= requestTimeout (${requestTimeout})`, headersTimeout, 'option');
  }
}

/** Validates createServer()'s options object (unknown keys are ignored, as node:http does). */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  else if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType('options', 'of type object', options);
  }
  const o = options as Record<string, unknown>;
  const pick = (name: NumericOption, fallback: number): number =>
    o[name] === undefined ? fallback : validators[name](o[name]);

  const requestTimeout = pick('requestTimeout', defaults.requestTimeout);
  // Like node: the head deadline defaults to min(60 s, requestTimeout), but stays 60 s when requestTimeout is off
  // (node would turn it off too, leaving slowloris unguarded).
  const headersTimeout = pick('headersTimeout',
    requestTimeout > 0 ? Math.min(defaults.headersTimeout, requestTimeout) : defaults.headersTimeout);
  checkTimeoutRelation(headersTimeout, requestTimeout);

  const ioModel = o.ioModel === undefined ? DEFAULT_IO_MODEL : validateIoModel(o.ioModel);
  return {
    keepAliveTimeout: pick('keepAliveTimeout', defaults.keepAliveTimeout),
    headersTimeout,
    requestTimeout,
    maxRequestsPerSocket: pick('maxRequestsPerSocket', defaults.maxRequestsPerSocket),
    maxHeaderSize: pick('maxHeaderSize', defaults.maxHeaderSize),
    maxConnections: pick('maxConnections', defaults.maxConnections),
    ioModel,
    backend: validateBackend(o.backend),
    threads: o.threads === undefined ? defaults.threads
      : validateInteger('threads', o.threads, 0, MAX_THREADS,
        `an integer from 0 to ${MAX_THREADS} (0 = poll from Node's own event loop)`),
    allowHalfOpen: validateBoolean('allowHalfOpen', o.allowHalfOpen, false),
    requireHostHeader: validateBoolean('requireHostHeader', o.requireHostHeader, true),
  };
}

/** The numbers native/node/addon.cc takes (see NativeServerOptions in contract.ts); `checkContinue`: the server has
 *  a 'checkContinue' listener (not an option: it follows the listeners). */
export function toNativeOptions(r: ResolvedOptions, checkContinue = false): NativeServerOptions {
  return {
    ioModel: r.ioModel === 'evented' ? 1 : 0,
    backend: r.backend === 'epoll' ? 1 : r.backend === 'poll' ? 2 : 0,
    threads: r.threads,
    keepAliveTimeout: r.keepAliveTimeout,
    headersTimeout: r.headersTimeout,
    requestTimeout: r.requestTimeout,
    maxRequestsPerSocket: r.maxRequestsPerSocket,
    maxHeaderSize: r.maxHeaderSize,
    maxConnections: r.maxConnections,
    allowHalfOpen: r.allowHalfOpen ? 1 : 0,
    highWaterMark: HIGH_WATER_MARK,
    checkContinue: checkContinue ? 1 : 0,
    requireHostHeader: r.requireHostHeader ? 1 : 0,
  };
}
