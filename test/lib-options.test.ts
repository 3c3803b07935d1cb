// Option validation and defaults (lib/options.ts) without the addon: error classes, codes and messages that name
// the option and what it expects, node's headersTimeout/requestTimeout rule, and the numbers native receives.
import * as os from 'node:os';
import { describe, expect, test } from 'vitest';
import { DEFAULT_IO_MODEL, DEFAULT_THREADS, defaults, resolveOptions, toNativeOptions } from '../lib/options';
import { codedError, describeReceived } from '../lib/errors';

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('resolveOptions', () => {
  test('defaults', () => {
    expect(resolveOptions(undefined)).toEqual({
      keepAliveTimeout: 65000, headersTimeout: 60000, requestTimeout: 300000, maxRequestsPerSocket: 0,
      maxHeaderSize: 16384, maxConnections: 10000, ioModel: DEFAULT_IO_MODEL, backend: undefined,
      threads: DEFAULT_THREADS,
      allowHalfOpen: false, requireHostHeader: true,
    });
    expect(DEFAULT_IO_MODEL).toBe('evented');  // issue 3: the evented model is the default
    // issue 12: no loop thread on one or two cores, one on more (docs/performance.md)
    expect(DEFAULT_THREADS).toBe(os.availableParallelism() > 2 ? 1 : 0);
    expect(defaults.keepAliveTimeout).toBe(65000);
  });

  test('a negative timeout: RangeError ERR_OUT_OF_RANGE naming the option, the expectation and the value', () => {
    const e = thrown(() => resolveOptions({ keepAliveTimeout: -1 }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toBe('ERR_OUT_OF_RANGE');
    expect(e.message).toBe('The "keepAliveTimeout" option must be a non-negative integer (milliseconds); ' +
      '0 disables the idle timeout. Received -1');
    expect(String(e.stack)).toMatch(/^RangeError \[ERR_OUT_OF_RANGE\]: The "keepAliveTimeout"/);
  });

  test('a string where a number belongs: TypeError ERR_INVALID_ARG_TYPE', () => {
    const e = thrown(() => resolveOptions({ headersTimeout: '5' }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(e.message).toMatch(/^The "headersTimeout" option must be of type number \(.*\)\. Received type string \('5'\)$/);
  });

  test.each([
    ['maxHeaderSize', 0], ['maxConnections', 0], ['requestTimeout', 1.5], ['maxRequestsPerSocket', NaN],
    ['threads', -1], ['threads', 100000], ['keepAliveTimeout', 2 ** 31],
  ])('%s: %o is out of range', (name, value) => {
    const e = thrown(() => resolveOptions({ [name]: value }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toContain(`"${name}"`);
  });

  test('ioModel and backend are checked by name', () => {
    const e = thrown(() => resolveOptions({ ioModel: 'threads' }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(e.message).toBe(`The "ioModel" option must be one of 'blocking', 'evented'. Received 'threads'`);
    expect(() => resolveOptions({ backend: 'kqueue' })).toThrow(/"backend" option must be one of 'epoll', 'poll'/);
    expect(resolveOptions({ ioModel: 'evented', backend: 'poll', threads: 0 })).toMatchObject({
      ioModel: 'evented', backend: 'poll', threads: 0,
    });
  });

  test('allowHalfOpen: a boolean, else TypeError ERR_INVALID_ARG_TYPE naming the option', () => {
    expect(resolveOptions({ allowHalfOpen: true }).allowHalfOpen).toBe(true);
    const e = thrown(() => resolveOptions({ allowHalfOpen: 1 }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(e.message).toBe('The "allowHalfOpen" option must be of type boolean. Received type number (1)');
  });

  test('headersTimeout above requestTimeout is refused, like node:http', () => {
    const e = thrown(() => resolveOptions({ requestTimeout: 1000, headersTimeout: 2000 }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('The "headersTimeout" option must be <= requestTimeout (1000). Received 2000');
    // either deadline off: no relation to check
    expect(() => resolveOptions({ requestTimeout: 0, headersTimeout: 2000 })).not.toThrow();
    expect(() => resolveOptions({ requestTimeout: 1000, headersTimeout: 0 })).not.toThrow();
  });

  test('headersTimeout defaults to min(60 s, requestTimeout), and stays 60 s when requestTimeout is off', () => {
    expect(resolveOptions({ requestTimeout: 10000 }).headersTimeout).toBe(10000);
    expect(resolveOptions({ requestTimeout: 0 }).headersTimeout).toBe(60000);
  });

  test('unknown options are ignored (node:http ignores them too); a non-object is refused', () => {
    expect(() => resolveOptions({ highWaterMark: 1, insecureHTTPParser: true })).not.toThrow();
    expect(thrown(() => resolveOptions(42)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  test('toNativeOptions maps the names to the numbers of NativeServerOptions', () => {
    expect(toNativeOptions(resolveOptions({ ioModel: 'evented', backend: 'poll', threads: 3 }))).toEqual({
      ioModel: 1, backend: 2, threads: 3, keepAliveTimeout: 65000, headersTimeout: 60000, requestTimeout: 300000,
      maxRequestsPerSocket: 0, maxHeaderSize: 16384, maxConnections: 10000, allowHalfOpen: 0, highWaterMark: 65536,
      checkContinue: 0, requireHostHeader: 1,
    });
    expect(toNativeOptions(resolveOptions({})).backend).toBe(0);
    expect(toNativeOptions(resolveOptions({}), true).checkContinue).toBe(1);
    expect(toNativeOptions(resolveOptions({ allowHalfOpen: true })).allowHalfOpen).toBe(1);
  });
});

describe('errors', () => {
  test('coded errors look like node:http ones', () => {
    const e = codedError(TypeError, 'ERR_X', 'msg');
    expect(e.name).toBe('TypeError');
    expect(e.code).toBe('ERR_X');
    expect(String(e.stack).split('\n')[0]).toBe('TypeError [ERR_X]: msg');
    expect(Object.keys(e)).toEqual(['code']);
  });

  test('received values are shown the way node shows them', () => {
    expect(describeReceived(-1)).toBe(' Received -1');
    expect(describeReceived('abc', true)).toBe(" Received type string ('abc')");
    expect(describeReceived(null)).toBe(' Received null');
    expect(describeReceived(new Map())).toBe(' Received an instance of Map');
    expect(describeReceived('x'.repeat(40))).toMatch(/\.\.\.$/);
  });
});
