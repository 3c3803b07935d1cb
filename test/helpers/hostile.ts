// Helpers for the hostile-client tests: a nova-http server in a child process (test/soak/server.mjs), so that its
// RSS and open file descriptors can be read from /proc/<pid> without the test runner's own sockets and heap in
// the figures; a well-behaved client that keeps asking during an attack; and the "back to baseline" check.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { sleep, waitFor, withTimeout } from './async.js';
import { RawClient } from './client.js';
import { get } from './wire.js';

const serverScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../soak/server.mjs');

export interface ChildStats {
  stats: {
    accepted: number;
    active: number;
    idle: number;
    requests: number;
    closes: Record<string, number>;
  };
  rss: number;
  fds: number;
  calls: number;
  smuggled: string[];
}

export interface Usage {
  rss: number;
  fds: number;
}

export class ChildServer {
  private nextId = 1;
  private waiting = new Map<number, (m: Record<string, unknown>) => void>();
  exited = false;
  exitCode: number | null = null;
  stderr = '';

  private constructor(readonly child: ChildProcess, readonly port: number, readonly pid: number) {
    child.on('message', (m: Record<string, unknown>) => {
      const w = this.waiting.get(m.id as number);
      if (w) {
        this.waiting.delete(m.id as number);
        w(m);
      }
    });
    child.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
    });
  }

  /**
   * Forks test/soak/server.mjs with these createServer() options; resolves once it listens. `nofile` starts it
   * under that descriptor limit (prlimit, which execs node: the pid is the server's).
   */
  static async start(options: Record<string, unknown>, opts: { nofile?: number } = {}): Promise<ChildServer> {
    const child = fork(serverScript, [JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      ...(opts.nofile
        ? { execPath: 'prlimit', execArgv: [`--nofile=${opts.nofile}`, '--', process.execPath, '--expose-gc'] }
        : { execArgv: ['--expose-gc'] }),
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await withTimeout(
      new Promise<{ port: number; pid: number }>((resolve, reject) => {
        child.once('message', (m: { type: string; port: number; pid: number }) => resolve(m));
        child.once('exit', (code) => reject(new Error(`server child exited (${code}) before listening: ${stderr}`)));
      }),
      10000,
      'the server child to listen',
    );
    const s = new ChildServer(child, ready.port, ready.pid);
    child.stderr!.on('data', (d: Buffer) => (s.stderr += d.toString()));
    s.stderr = stderr;
    return s;
  }

  private ask(type: string, extra: Record<string, unknown> = {}, timeoutMs = 5000): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`server child is gone (exit ${this.exitCode}): ${this.stderr}`));
    const id = this.nextId++;
    return withTimeout(
      new Promise((resolve) => {
        this.waiting.set(id, resolve);
        this.child.send({ id, type, ...extra });
      }),
      timeoutMs,
      `server child reply to '${type}'`,
    );
  }

  stats(): Promise<ChildStats> {
    return this.ask('stats') as unknown as Promise<ChildStats>;
  }

  /** server.<name> = value in the child (the deadlines apply to a live server). */
  async set(options: Record<string, unknown>): Promise<void> {
    await this.ask('set', { options });
  }

  /** global.gc() in the child; timeoutMs: its JS thread may be busy with a flood's backlog first. */
  async gc(timeoutMs = 5000): Promise<void> {
    await this.ask('gc', {}, timeoutMs);
  }

  /** RSS (bytes) and open fds of the child, read from /proc (the child does nothing to report them). */
  usage(): Usage {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return { rss: m ? Number(m[1]) * 1024 : NaN, fds: fs.readdirSync(`/proc/${this.pid}/fd`).length };
  }

  /** CPU time (user + system, ms) the child has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
  cpuMs(): number {
    const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  /** Threads of the child (/proc/<pid>/task). */
  threads(): number {
    return fs.readdirSync(`/proc/${this.pid}/task`).length;
  }

  get alive(): boolean {
    return !this.exited;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    try {
      await this.ask('close', {}, 8000);
    } catch {
      // fall through to the kill below
    }
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** GET <target> on a new connection; resolves with the body, rejects on anything but a 200 within timeoutMs. */
export async function probe(port: number, target = '/probe', timeoutMs = 3000): Promise<string> {
  const c = await RawClient.connect(port, { timeoutMs });
  try {
    await c.write(get(target));
    const rs = await c.waitResponses(1, timeoutMs);
    if (rs.length !== 1 || rs[0].status !== 200) {
      throw new Error(`probe ${target}: expected one 200, got ${JSON.stringify(c.text.slice(0, 300))}`);
    }
    return rs[0].body.toString('latin1');
  } finally {
    c.destroy();
  }
}

/**
 * A well-behaved keep-alive client that sends a GET every `everyMs` on one connection while an attack runs, and
 * checks each answer. stop() resolves with how many were answered, the slowest answer, and the first failure.
 */
export class Bystander {
  answered = 0;
  maxLatencyMs = 0;
  failure: string | undefined;
  private running = true;
  private loop: Promise<void>;

  private constructor(private readonly client: RawClient, everyMs: number, timeoutMs: number) {
    this.loop = (async () => {
      while (this.running && !this.failure) {
        const n = this.answered;
        const t0 = Date.now();
        try {
          await client.write(get(`/bystander/${n}`));
          const rs = await client.waitResponses(n + 1, timeoutMs);
          const r = rs[n];
          if (!r || r.status !== 200 || r.body.toString('latin1') !== `/bystander/${n}`) {
            this.failure = `request ${n}: ${r ? `${r.status} ${r.body.toString('latin1')}` : 'no answer'}` +
              ` (server closed: ${client.serverClosed})`;
            break;
          }
        } catch (e) {
          this.failure = `request ${n}: ${(e as Error).message.slice(0, 300)}`;
          break;
        }
        this.answered++;
        this.maxLatencyMs = Math.max(this.maxLatencyMs, Date.now() - t0);
        await sleep(everyMs);
      }
    })();
  }

  static async start(port: number, everyMs = 25, timeoutMs = 3000): Promise<Bystander> {
    return new Bystander(await RawClient.connect(port), everyMs, timeoutMs);
  }

  /** Stops after one more request (so at least one answer comes after the attack). */
  async stop(): Promise<{ answered: number; maxLatencyMs: number; failure: string | undefined }> {
    const target = this.answered + 1;
    await waitFor(() => this.answered >= target || this.failure !== undefined, 10000, 'a last bystander answer')
      .catch((e: Error) => (this.failure ??= e.message));
    this.running = false;
    await this.loop;
    this.client.destroy();
    return { answered: this.answered, maxLatencyMs: this.maxLatencyMs, failure: this.failure };
  }
}

/**
 * Waits until the child has no connection left but `keep` (default 0), and its fd count and RSS are back within
 * the allowances over `base`; returns the last reading. Rejects, naming the figures, after timeoutMs.
 */
export async function backToBaseline(
  server: ChildServer,
  base: Usage,
  opts: { keep?: number; fdSlack?: number; rssSlackBytes?: number; timeoutMs?: number } = {},
): Promise<Usage & { active: number }> {
  const keep = opts.keep ?? 0;
  const fdSlack = opts.fdSlack ?? 2;
  const rssSlack = opts.rssSlackBytes ?? 24 * 1024 * 1024;
  const deadline = Date.now() + (opts.timeoutMs ?? 8000);
  for (;;) {
    const s = await server.stats();
    const u = server.usage();
    if (s.stats.active <= keep && u.fds <= base.fds + fdSlack && u.rss <= base.rss + rssSlack) {
      return { ...u, active: s.stats.active };
    }
    if (Date.now() > deadline) {
      throw new Error(`not back to baseline after ${opts.timeoutMs ?? 8000} ms: active ${s.stats.active} (want <= ` +
        `${keep}), fds ${u.fds} (baseline ${base.fds} + ${fdSlack}), RSS ${mb(u.rss)} (baseline ${mb(base.rss)} + ` +
        `${mb(rssSlack)})`);
    }
    if (s.stats.active <= keep) await server.gc();
    await sleep(100);
  }
}

export const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Opens `n` TCP connections in batches of `batch` (waiting for each batch to connect), sending nothing. */
export async function openIdle(port: number, n: number, batch = 250): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    out.push(...(await Promise.all(Array.from({ length: k }, () => RawClient.connect(port, { timeoutMs: 10000 })))));
  }
  return out;
}

/** Prints a figure when HOSTILE_VERBOSE is set (the figures the report quotes: RSS, fds, timings). */
export function note(msg: string): void {
  if (process.env.HOSTILE_VERBOSE) console.log(`[hostile] ${msg}`);
}

/** Warm-up traffic, then GC and the fd/RSS reading that "back to baseline" is measured against. */
export async function baseline(server: ChildServer, warmUp = 50): Promise<Usage> {
  for (let i = 0; i < warmUp; i++) await probe(server.port, `/warm/${i}`);
  await backToBaseline(server, { rss: Infinity, fds: Infinity }, { timeoutMs: 5000 });
  await server.gc();
  return server.usage();
}

/** The bystander got every answer right, and at least `min` of them (it asks every 25 ms, and once more at stop). */
export function expectServed(b: { answered: number; failure: string | undefined }, min = 1): void {
  expect(b.failure, 'the bystander client was served throughout').toBeUndefined();
  expect(b.answered).toBeGreaterThanOrEqual(min);
}
