// Real clients against the server: curl (HTTP/1.1 reuse across two URLs, --http1.0, Connection: close),
// ApacheBench -k (HTTP/1.0 keep-alive), node:http's keep-alive Agent and undici with pipelining.
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { Client, Pool } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, externalTool, ioModels, startServer } from './helpers.js';

afterEach(cleanup);

// External clients: skipped with a line saying what to install when missing (failed instead under CI=true).
const hasCurl = externalTool('curl', 'curl');
const hasAb = externalTool('ab', 'apache2-utils');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 15000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      // A missing program (only under CI, see externalTool) fails with its name in the message.
      const why = err && typeof code !== 'number' ? `${cmd}: ${err.message}\n` : '';
      resolve({ code: typeof code === 'number' ? code : -1, stdout: String(stdout), stderr: why + String(stderr) });
    });
  });
}

/** curl -v's response header lines ("< Name: value"), without the "< ". */
function curlResponseLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n/)
    .filter((l) => l.startsWith('< '))
    .map((l) => l.slice(2).trim());
}

describe.each(ioModels)('real clients (%o)', (model) => {
  test.runIf(hasCurl)('curl -v with two URLs re-uses one connection', async () => {
    const ports = new Set<number>();
    const { port } = await startServer({ ...model }, (req, res) => {
      ports.add(req.socket.remotePort);
      res.end(req.url);
    });
    const r = await run('curl', ['-sv', '--max-time', '10', `http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('/a/b');
    // curl 7.x says "Re-using existing connection", 8.x "Reusing existing connection"
    expect(r.stderr).toMatch(/Re-?using existing connection/i);
    expect(ports.size).toBe(1);
    const lines = curlResponseLines(r.stderr);
    expect(lines.filter((l) => l === 'HTTP/1.1 200 OK').length).toBe(2);
    expect(lines.filter((l) => l === 'Keep-Alive: timeout=65').length).toBe(2);
    expect(lines).not.toContain('Connection: close');
  });

  test.runIf(hasCurl)('curl -v --http1.0: HTTP/1.1 200 with Connection: close, then closed', async () => {
    const versions: string[] = [];
    const { port } = await startServer({ ...model }, (req, res) => {
      versions.push(req.httpVersion);
      res.end('hello');
    });
    const r = await run('curl', ['-sv', '--max-time', '10', '--http1.0', `http://127.0.0.1:${port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello');
    expect(versions).toEqual(['1.0']);
    const lines = curlResponseLines(r.stderr);
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines).toContain('Connection: close');
    expect(lines).toContain('Content-Length: 5');
    expect(lines.some((l) => l.startsWith('Keep-Alive'))).toBe(false);
    expect(lines.some((l) => /^Transfer-Encoding/i.test(l))).toBe(false);
  });

  test.runIf(hasCurl)("curl -v -H 'Connection: close': the response says Connection: close", async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('bye'));
    const r = await run('curl', ['-sv', '--max-time', '10', '-H', 'Connection: close', `http://127.0.0.1:${port}/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('bye');
    const lines = curlResponseLines(r.stderr);
    expect(lines[0]).toBe('HTTP/1.1 200 OK');
    expect(lines).toContain('Connection: close');
    expect(lines.some((l) => l.startsWith('Keep-Alive'))).toBe(false);
  });

  test.runIf(hasCurl)("curl --http1.0 -H 'Connection: keep-alive' with two URLs re-uses the connection", async () => {
    const ports = new Set<number>();
    const { port } = await startServer({ ...model }, (req, res) => {
      ports.add(req.socket.remotePort);
      res.end(req.url);
    });
    const r = await run('curl', [
      '-sv', '--max-time', '10', '--http1.0', '-H', 'Connection: keep-alive',
      `http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('/a/b');
    const lines = curlResponseLines(r.stderr);
    expect(lines.filter((l) => l === 'Connection: keep-alive').length).toBe(2);
    expect(r.stderr).toMatch(/Re-?using existing connection/i);
    expect(ports.size).toBe(1);
  });

  test.runIf(hasAb)('ab -k (HTTP/1.0 keep-alive): every request completes and is kept alive', async () => {
    const { port } = await startServer({ ...model }, (req, res) => res.end('hello world'));
    const r = await run('ab', ['-k', '-n', '1000', '-c', '4', '-s', '10', `http://127.0.0.1:${port}/`], 30000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Complete requests:\s+1000\b/);
    expect(r.stdout).toMatch(/Failed requests:\s+0\b/);
    expect(r.stdout).toMatch(/Keep-Alive requests:\s+1000\b/);
    expect(r.stdout).not.toMatch(/Non-2xx responses/);
  });

  test('node:http Agent keepAlive: 100 sequential requests over one socket', async () => {
    const ports = new Set<number>();
    const { port } = await startServer({ ...model }, (req, res) => {
      ports.add(req.socket.remotePort);
      res.end(`hi ${req.url}`);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let sockets = 0;
    try {
      for (let i = 0; i < 100; i++) {
        const body = await new Promise<string>((resolve, reject) => {
          const rq = http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
            let b = '';
            res.setEncoding('latin1');
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(`${res.statusCode} ${b}`));
            res.on('error', reject);
          });
          rq.on('socket', (s) => {
            if (!(s as unknown as { __seen?: boolean }).__seen) {
              (s as unknown as { __seen?: boolean }).__seen = true;
              sockets++;
            }
          });
          rq.on('error', reject);
          rq.setTimeout(5000, () => rq.destroy(new Error('request timeout')));
        });
        expect(body).toBe(`200 hi /${i}`);
      }
    } finally {
      agent.destroy();
    }
    expect(sockets).toBe(1);
    expect(ports.size).toBe(1);
  });

  test('node:http Agent keepAlive: 100 concurrent requests queued on one socket', async () => {
    const ports = new Set<number>();
    const { port } = await startServer({ ...model }, (req, res) => {
      ports.add(req.socket.remotePort);
      res.end(req.url);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const bodies = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          new Promise<string>((resolve, reject) => {
            const rq = http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
              let b = '';
              res.on('data', (c) => (b += c));
              res.on('end', () => resolve(b));
            });
            rq.on('error', reject);
          }),
        ),
      );
      expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => `/${i}`));
    } finally {
      agent.destroy();
    }
    expect(ports.size).toBe(1);
  });

  test('undici Client with pipelining: 10: 10 concurrent requests on one connection', async () => {
    const ports = new Set<number>();
    let maxInFlight = 0;
    let inFlight = 0;
    const { port } = await startServer({ ...model }, (req, res) => {
      ports.add(req.socket.remotePort);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(req.url);
      }, 20);
    });
    const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 10 });
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const r = await client.request({ path: `/${i}`, method: 'GET' });
          return `${r.statusCode} ${await r.body.text()}`;
        }),
      );
      expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `200 /${i}`));
    } finally {
      await client.close();
    }
    expect(ports.size).toBe(1);
    // the requests really were pipelined: more than one was in the handler at once
    expect(maxInFlight).toBeGreaterThan(1);
  });

  test('undici Pool (1 connection, pipelining 10): 100 requests, one connection', async () => {
    const ports = new Set<number>();
    const { port } = await startServer({ ...model }, (req, res) => {
      ports.add(req.socket.remotePort);
      res.end(req.url);
    });
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, pipelining: 10 });
    try {
      const results = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const r = await pool.request({ path: `/${i}`, method: 'GET' });
          return `${r.statusCode} ${await r.body.text()}`;
        }),
      );
      expect(results).toEqual(Array.from({ length: 100 }, (_, i) => `200 /${i}`));
    } finally {
      await pool.close();
    }
    expect(ports.size).toBe(1);
  });
});
