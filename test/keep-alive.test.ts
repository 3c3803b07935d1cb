// Runs test/vectors/keep-alive.json against the TypeScript mirror (test/keep-alive-mirror.ts) and the Connection
// token parser lib/ uses (lib/keep-alive.ts); the same file runs against native in test/native/keep_alive_test.cc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnToken, parseConnectionTokens } from '../lib/keep-alive';
import { keepAlive, requestCloses } from './keep-alive-mirror';
import type { Framing } from './keep-alive-mirror';

interface Vector {
  name: string;
  version: '1.0' | '1.1';
  request: string | null;
  response: string | null;
  framing: Framing;
  bodyComplete: boolean;
  serverClosing: boolean;
  keepAlive: boolean;
}

const vectors: Vector[] = JSON.parse(readFileSync(join(__dirname, 'vectors', 'keep-alive.json'), 'utf8'));
const tokens = (v: string | null) => (v === null ? 0 : parseConnectionTokens(v));

describe('keep-alive vectors (TypeScript mirror)', () => {
  it('has the whole matrix', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(60);
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const versionMinor = v.version === '1.0' ? 0 : 1;
    const requestTokens = tokens(v.request);
    const got = keepAlive({
      versionMinor,
      requestTokens,
      responseTokens: tokens(v.response),
      framing: v.framing,
      bodyComplete: v.bodyComplete,
      serverClosing: v.serverClosing,
    });
    expect(got).toBe(v.keepAlive);
    // Where only the request decides (no response header, a length-framed body, nothing else closing),
    // requestCloses must agree with the full decision: it is what stops parsing pipelined requests.
    if (v.response === null && v.framing === 'length' && v.bodyComplete && !v.serverClosing) {
      expect(requestCloses(versionMinor, requestTokens)).toBe(!v.keepAlive);
    }
  });
});

describe('parseConnectionTokens', () => {
  it.each([
    ['close', ConnToken.Close],
    ['Keep-Alive', ConnToken.KeepAlive],
    ['UPGRADE', ConnToken.Upgrade],
    ['keep-alive, Upgrade ,\tclose', ConnToken.Close | ConnToken.KeepAlive | ConnToken.Upgrade],
    ['', 0],
    [',,,', 0],
    ['closed, keep-alives, upgrade2', 0],
    ['close\r', 0],
    ['\u212Aeep-alive', 0],
  ])('%j', (value, bits) => {
    expect(parseConnectionTokens(value)).toBe(bits);
  });

  it('uses the bit values of ConnToken in http_types.h', () => {
    expect(ConnToken).toEqual({ Close: 1, KeepAlive: 2, Upgrade: 4 });
  });
});
