'use strict';
// Child processes of the harness: servers (started, probed, stopped by PID) and bounded load-generator runs.
const { spawn } = require('node:child_process');
const net = require('node:net');
const http = require('node:http');
const { processTree } = require('./procfs');

// File-descriptor limit for servers and load generators (5,000 connections need more than the usual 1,024).
const NOFILE = 65536;

// Runs argv under bash with a raised fd limit (falling back to the hard limit), optionally pinned to CPUs.
// `exec` keeps the PID: the PID we hold is the server's / the load generator's own.
function wrapped(argv, { cpus } = {}) {
  const pin = cpus ? `taskset -c ${cpus} ` : '';
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${pin}"$@"`;
  return ['bash', ['-c', script, 'bash', ...argv]];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts a server; resolves { pid, port, child, stop() } after its READY line, or rejects with an Error whose
// .unavailable is true when the script said UNAVAILABLE (the server does not exist yet / can't load).
async function startServer(def, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(def, opts);
    } catch (e) {
      // A free port can be taken between our check and the server's bind (other tests share this machine).
      if (attempt >= 3 || !/EADDRINUSE/.test(e.message)) throw e;
    }
  }
}

async function startServerOnce(def, { cpus, timeoutMs = 15000 } = {}) {
  const port = await freePort();
  const [cmd, args] = wrapped(def.argv, { cpus });
  const child = spawn(cmd, args, {
    cwd: def.cwd,
    env: { ...process.env, ...def.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000); // the last lines say why a server died
  });
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: `no READY line within ${timeoutMs} ms` }), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^(READY (\d+)|UNAVAILABLE (.*))$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[2] ? { port: Number(m[2]) } : { unavailable: m[3] });
      }
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      const m = out.match(/^UNAVAILABLE (.*)$/m);
      resolve(m ? { unavailable: m[1] } : { error: `exited (${code ?? sig}) before READY` });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: e.message });
    });
  });
  const handle = {
    pid: child.pid,
    port: ready.port ?? port,
    child,
    stderr: () => err,
    stop: () => stopTree(child),
    // Context switches of the whole server process (servers/_common.js answers SIGUSR2), or null.
    usage: (timeoutMs = 1000) => {
      if (!def.usage || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const from = out.length;
        const t = setTimeout(() => {
          child.stdout.off('data', on);
          resolve(null);
        }, timeoutMs);
        const on = () => {
          const m = out.slice(from).match(/^USAGE (\{.*\})$/m);
          if (!m) return;
          clearTimeout(t);
          child.stdout.off('data', on);
          resolve(JSON.parse(m[1]));
        };
        child.stdout.on('data', on);
        try {
          process.kill(child.pid, 'SIGUSR2');
        } catch {
          clearTimeout(t);
          resolve(null);
        }
      });
    },
  };
  if (ready.port) return handle;
  await handle.stop();
  const detail = (ready.unavailable ?? ready.error) + (err.trim() ? ` | stderr: ${err.trim().split('\n').slice(-3).join(' / ')}` : '');
  const e = new Error(detail);
  e.unavailable = Boolean(ready.unavailable);
  throw e;
}

// SIGTERM to the server and each of its descendants (by PID), SIGKILL to what is left after a grace period.
async function stopTree(child, graceMs = 2000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const pids = processTree(child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  for (const p of pids.reverse()) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {}
  }
  const t = setTimeout(() => {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
  }, graceMs);
  await exited;
  clearTimeout(t);
  // descendants that outlived their parent
  await new Promise((r) => setTimeout(r, 50));
  for (const p of pids) {
    try {
      process.kill(p, 0);
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

// One GET / : status, the headers that matter, body. Used to check every server says Hello World correctly.
function probe(port, { timeoutMs = 3000 } = {}) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

// A short keep-alive burst from this process (HTTP/1.1, works with every server, including those that mishandle
// ab's HTTP/1.0 keep-alive): `requests` GETs over `conns` connections, stopped after `maxMs` at the latest.
function burst(port, { requests = 3000, conns = 20, maxMs = 1500 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  const deadline = Date.now() + maxMs;
  let sent = 0;
  let done = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const next = () => {
      if (sent >= requests || Date.now() > deadline) {
        if (done === sent) {
          agent.destroy();
          resolve({ done, errors });
        }
        return;
      }
      sent++;
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 2000 }, (res) => {
        res.resume();
        res.on('end', () => {
          done++;
          next();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        done++;
        next();
      });
    };
    for (let i = 0; i < conns; i++) next();
  });
}

// Sends raw bytes on a new connection; resolves { data, closed } after the server closes or `waitMs` passes.
function rawExchange(port, bytes, waitMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    let data = '';
    const finish = (closed) => {
      clearTimeout(t);
      sock.destroy();
      resolve({ data, closed });
    };
    const t = setTimeout(() => finish(false), waitMs);
    sock.setEncoding('latin1');
    sock.on('data', (d) => (data += d));
    sock.on('end', () => finish(true));
    sock.on('error', () => finish(true));
  });
}

const NO_HTTP10 = 'no response to HTTP/1.0 within 1 s (ab cannot measure it: its cells are skipped)';

// How a server treats the connection-management cases the loads depend on; notes explain odd cells
// (wrk counts a close without `Connection: close` as a read error; ab needs HTTP/1.0 answered).
async function protocolNotes(port) {
  const notes = [];
  const host = `Host: 127.0.0.1:${port}\r\n`;
  const hasClose = (d) => /^connection:[^\r]*\bclose\b/im.test(d);
  const a = await rawExchange(port, `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
  if (!a.data.startsWith('HTTP/1.')) notes.push('no response to a Connection: close request');
  else {
    if (!a.closed) notes.push('keeps the connection open after Connection: close');
    else if (!hasClose(a.data)) notes.push('closes after Connection: close without saying Connection: close (wrk counts a read error per request)');
  }
  const b = await rawExchange(port, `GET / HTTP/1.0\r\n${host}\r\n`);
  if (!b.data.startsWith('HTTP/1.')) notes.push(NO_HTTP10);
  else if (!b.closed) notes.push('keeps an HTTP/1.0 connection without keep-alive open');
  const c = await rawExchange(port, `GET / HTTP/1.0\r\n${host}Connection: keep-alive\r\n\r\n`, 300);
  if (c.data.startsWith('HTTP/1.') && (c.closed || !/^connection:[^\r]*keep-alive/im.test(c.data))) {
    notes.push('no HTTP/1.0 keep-alive (ab -k opens a connection per request)');
  }
  return notes;
}

// What is off in a probe's answer, as short notes ([] = a correct hello world).
function checkHello(p) {
  if (p.error) return [`probe failed: ${p.error}`];
  const notes = [];
  if (p.status !== 200) notes.push(`status ${p.status}`);
  if (p.body !== 'Hello World') notes.push(`body ${JSON.stringify(p.body.slice(0, 40))}`);
  if (!/^text\/plain\b/i.test(p.headers['content-type'] || '')) notes.push(`content-type ${p.headers['content-type']}`);
  else if (p.headers['content-type'] !== 'text/plain') notes.push(`content-type "${p.headers['content-type']}"`);
  if (p.headers['content-length'] !== '11') notes.push(`content-length ${p.headers['content-length'] ?? 'missing'}`);
  return notes;
}

// Runs a load generator to completion with a hard deadline. Resolves { code, stdout, stderr, cpuUs, wallMs }:
// cpuUs is the generator's own user+system CPU, from bash's `times` after it exits.
function runBounded(argv, { cpus, deadlineMs, env } = {}) {
  const pin = cpus ? `taskset -c ${cpus} ` : '';
  const script =
    `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ${pin}"$@"; rc=$?; ` +
    `echo; echo TIMES; times; exit $rc`; // `times` outside a pipeline: its 2nd line is the children's CPU
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script, 'bash', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      if (stderr.length < 8000) stderr += d;
    });
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      for (const p of processTree(child.pid).reverse()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {}
      }
    }, deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = stdout.match(/^TIMES\n.*\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s/m);
      const cpuUs = m ? ((Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1e6) : null;
      resolve({ code: killed ? 'killed' : code, stdout, stderr, cpuUs, wallMs });
    });
  });
}

module.exports = { NO_HTTP10, startServer, stopTree, probe, protocolNotes, burst, checkHello, runBounded, freePort };
