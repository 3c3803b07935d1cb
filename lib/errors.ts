// Errors thrown or emitted by the TypeScript layer, shaped like Node's internal ones: a TypeError/RangeError/Error
// with a `code` (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ...) and a stack that starts "TypeError [CODE]: ...",
// so code written against node:http that checks err.code keeps working.
import { getSystemErrorMap, inspect } from 'node:util';

export type ErrorWithCode = Error & { code: string };

type ErrorClass = new (message: string) => Error;

/** Builds an error of class `Base` with `code`, formatted the way Node formats its own coded errors. */
export function codedError(Base: ErrorClass, code: string, message: string): ErrorWithCode {
  const err = new Base(message) as ErrorWithCode;
  // Node shows the code in the first stack line: put it in the name while the stack is captured, then drop it.
  const name = err.name;
  Object.defineProperty(err, 'name', { value: `${name} [${code}]`, configurable: true, writable: true });
  void err.stack;
  delete (err as { name?: string }).name;
  Object.defineProperty(err, 'code', { value: code, enumerable: true, configurable: true, writable: true });
  return err;
}

/** How Node prints a received value: `-1`, `'abc'`, `type string ('abc')`, `an instance of Foo`. */
export function describeReceived(value: unknown, withType = false): string {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor;
    if (ctor && ctor.name) return ` Received an instance of ${ctor.name}`;
    return ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return withType ? ` Received type ${typeof value} (${shown})` : ` Received ${shown}`;
}

// --- arguments and options -----------------------------------------------------------------------------------

/** TypeError ERR_INVALID_ARG_TYPE: `The "name" argument must be of type number. Received type string ('5')`. */
export function invalidArgType(name: string, expected: string, value: unknown, kind = 'argument'): ErrorWithCode {
  return codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${kind} must be ${expected}.${describeReceived(value, true)}`);
}

/** TypeError ERR_INVALID_ARG_VALUE: `The "name" option must be one of 'a', 'b'. Received 'c'`. */
export function invalidArgValue(name: string, expected: string, value: unknown, kind = 'argument'): ErrorWithCode {
  return codedError(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The "${name}" ${kind} must be ${expected}.${describeReceived(value)}`);
}

/** RangeError ERR_OUT_OF_RANGE: `The "name" option must be a non-negative integer (milliseconds). Received -1`. */
export function outOfRange(name: string, expected: string, value: unknown, kind = 'argument'): ErrorWithCode {
  return codedError(RangeError, 'ERR_OUT_OF_RANGE',
    `The "${name}" ${kind} must be ${expected}.${describeReceived(value)}`);
}

/** RangeError ERR_SOCKET_BAD_PORT, worded as Node words it. */
export function badPort(value: unknown): ErrorWithCode {
  return codedError(RangeError, 'ERR_SOCKET_BAD_PORT',
    `options.port should be >= 0 and < 65536.${describeReceived(value, true)}.`);
}

// --- server lifecycle ----------------------------------------------------------------------------------------

/** A failed bind as node's listen() reports it: `listen EADDRINUSE: address already in use 127.0.0.1:3000`, with
 *  code, errno (negative, as libuv's), syscall, address and port. */
export function listenError(code: string, host: string | null, port: number): ErrorWithCode {
  let errno: number | undefined;
  let description = code;
  for (const [n, [name, text]] of getSystemErrorMap()) {
    if (name === code) {
      errno = n;
      description = text;
      break;
    }
  }
  const address = host === '' ? '::' : host;
  // node's UVExceptionWithHostPort: "address:port" for a port, the address alone otherwise (a Unix domain socket's
  // path, given port -1, which node then sets as err.port too), nothing for an fd (address null).
  const where = address === null ? '' : port > 0 ? ` ${address}:${port}` : ` ${address}`;
  const err = new Error(`listen ${code}: ${description}${where}`) as ErrorWithCode & Record<string, unknown>;
  err.code = code;
  err.errno = errno;
  err.syscall = 'listen';
  err.address = address;
  if (port) err.port = port;
  return err;
}

export function serverNotRunning(): ErrorWithCode {
  return codedError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.');
}

export function serverAlreadyListening(): ErrorWithCode {
  return codedError(Error, 'ERR_SERVER_ALREADY_LISTEN',
    'Listen method has been called more than once without closing.');
}

// --- responses -----------------------------------------------------------------------------------------------

/** Error ERR_HTTP_HEADERS_SENT; `action` is 'set', 'remove', 'append' or 'write' as in Node. */
export function headersSent(action: string): ErrorWithCode {
  return codedError(Error, 'ERR_HTTP_HEADERS_SENT', `Cannot ${action} headers after they are sent to the client`);
}

export function invalidStatusCode(value: unknown): ErrorWithCode {
  return codedError(RangeError, 'ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${String(value)}`);
}

export function invalidHeaderValue(name: string, value: unknown, why?: string): ErrorWithCode {
  return codedError(TypeError, 'ERR_HTTP_INVALID_HEADER_VALUE',
    `Invalid value "${String(value)}" for header "${name}"${why ? `: ${why}` : ''}`);
}

export function invalidChar(name: string): ErrorWithCode {
  return codedError(TypeError, 'ERR_INVALID_CHAR', `Invalid character in ${name}`);
}

/** Error ERR_HTTP_CONTENT_LENGTH_MISMATCH, node's words: the body does not match the declared Content-Length. */
export function contentLengthMismatch(actual: number, expected: number): ErrorWithCode {
  return codedError(Error, 'ERR_HTTP_CONTENT_LENGTH_MISMATCH', `Response body's content-length of ${actual} byte(s) ` +
    `does not match the content-length of ${expected} byte(s) set in header`);
}

export function writeAfterEnd(): ErrorWithCode {
  return codedError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
}

export function streamDestroyed(method: string): ErrorWithCode {
  return codedError(Error, 'ERR_STREAM_DESTROYED', `Cannot call ${method} after a stream was destroyed`);
}

export function alreadyFinished(method: string): ErrorWithCode {
  return codedError(Error, 'ERR_STREAM_ALREADY_FINISHED', `Cannot call ${method} after a stream was finished`);
}

export function nullValues(): ErrorWithCode {
  return codedError(TypeError, 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
}

export function unknownEncoding(encoding: unknown): ErrorWithCode {
  return codedError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${String(encoding)}`);
}

/** What 'error' listeners get when a request handler fails and nobody listens for 'handlerError'. */
export function handlerFailed(cause: unknown, method: string, url: string): ErrorWithCode {
  const what = cause instanceof Error ? cause.message : String(cause);
  const err = codedError(Error, 'ERR_NOVA_HANDLER_FAILED', `The request handler for ${method} ${url} failed: ${what}`);
  Object.defineProperty(err, 'cause', { value: cause, configurable: true, writable: true });
  return err;
}

/** The request's connection went away before the exchange finished (Node: ECONNRESET "aborted"). */
export function connectionReset(message = 'aborted'): ErrorWithCode {
  const err = new Error(message) as ErrorWithCode;
  err.code = 'ECONNRESET';
  return err;
}
