'use strict';
// The loads: how each is generated (wrk -t1 or ab), how it is warmed up, and how its output is read.
const path = require('node:path');

const LUA = path.join(__dirname, '..', 'wrk', 'report.lua');

// id, label, tool, connections, extra settings. Order here is the order of the table.
const LOADS = [
  { id: 'seq1', label: 'wrk 1 conn, pinned', tool: 'wrk', conns: 1, serverCpus: '0', clientCpus: '1',
    note: 'sequential: one keep-alive connection; server on CPU 0, wrk on CPU 1' },
  { id: 'ka100', label: 'wrk keep-alive 100', tool: 'wrk', conns: 100 },
  { id: 'ka1000', label: 'wrk keep-alive 1000', tool: 'wrk', conns: 1000 },
  { id: 'ka5000', label: 'wrk keep-alive 5000', tool: 'wrk', conns: 5000, minSeconds: 3,
    note: 'at least 3 s even in --quick: opening 5,000 connections can take most of a 1 s window on a busy machine' },
  { id: 'pipe16', label: 'wrk pipelined x16, 100', tool: 'wrk', conns: 100, pipeline: 16,
    note: '16 requests per write on each of 100 connections; wrk counts each response' },
  { id: 'close100', label: 'wrk Connection: close, 100', tool: 'wrk', conns: 100, close: true,
    note: 'every request on a new connection' },
  // 50,000 requests: server CPU is read in 10 ms ticks (procfs.js), which over 10,000 resolved only 1 us per request.
  { id: 'abk', label: 'ab -k -c 100', tool: 'ab', conns: 100, keepAlive: true, n: 50000,
    note: 'HTTP/1.0 with Connection: keep-alive (the original document\'s command), 50,000 requests' },
  { id: 'ab', label: 'ab -c 100 (HTTP/1.0, no keep-alive)', tool: 'ab', conns: 100, keepAlive: false, n: 10000 },
];

function wrkArgv(load, port, seconds) {
  const argv = ['wrk', '-t1', `-c${load.conns}`, `-d${seconds}s`, '--timeout', '2s', '-s', LUA];
  if (load.close) argv.push('-H', 'Connection: close');
  argv.push(`http://127.0.0.1:${port}/`);
  return argv;
}

// ab stops at n requests or after `seconds`, whichever comes first (-t must precede -n, which it would reset).
// -r: count socket errors instead of aborting the run; -s: per-socket timeout.
function abArgv(load, port, seconds, n) {
  const argv = ['ab', '-q', '-r', '-s', '5', '-t', String(seconds), '-n', String(n), '-c', String(load.conns)];
  if (load.keepAlive) argv.push('-k');
  argv.push(`http://127.0.0.1:${port}/`);
  return argv;
}

// The measured command of a load: { argv, env, cpus, deadlineMs }.
function command(load, port, { seconds, abSeconds }) {
  if (load.tool === 'wrk') {
    seconds = Math.max(seconds, load.minSeconds || 0);
    return {
      argv: wrkArgv(load, port, seconds),
      env: load.pipeline ? { WRK_PIPELINE: String(load.pipeline) } : {},
      cpus: load.clientCpus,
      deadlineMs: (seconds + 20) * 1000,
    };
  }
  return { argv: abArgv(load, port, abSeconds, load.n), env: {}, cpus: load.clientCpus, deadlineMs: (abSeconds + 20) * 1000 };
}

// Warm-up before a measured run ('same' mode: the load itself, shorter; 'burst' mode is spawn.burst() instead).
function warmupCommand(load, port, seconds) {
  if (load.tool === 'wrk') {
    return { argv: wrkArgv(load, port, seconds), env: load.pipeline ? { WRK_PIPELINE: String(load.pipeline) } : {},
             cpus: load.clientCpus, deadlineMs: (seconds + 20) * 1000 };
  }
  return { argv: abArgv(load, port, seconds, Math.min(2000, load.n)), env: {}, cpus: load.clientCpus,
           deadlineMs: (seconds + 20) * 1000 };
}

// Reads a wrk run (our Lua done() line). Latencies in microseconds.
function parseWrk(stdout) {
  const m = stdout.match(/^WRKJSON (\{.*\})$/m);
  if (!m) return null;
  const j = JSON.parse(m[1]);
  const socketErrors = j.connect + j.read + j.write + j.timeout;
  return {
    requests: j.requests,
    seconds: j.duration_us / 1e6,
    rps: j.requests / (j.duration_us / 1e6),
    // wrk records no latency when no connection completed a request/response round of its own (e.g. pipelined
    // requests to a server that closes after the first), and sometimes reports 0 for p99 under pipelining.
    p50us: j.lat_max > 0 ? j.p50 : null,
    p99us: j.lat_max > 0 && j.p99 >= j.p50 ? j.p99 : null,
    socketErrors,
    non2xx: j.status,
    errorDetail: { connect: j.connect, read: j.read, write: j.write, timeout: j.timeout, status: j.status },
  };
}

// Reads an ab run. ab's percentiles are whole milliseconds.
function parseAb(stdout) {
  const num = (re) => {
    const m = stdout.match(re);
    return m ? Number(m[1]) : null;
  };
  const complete = num(/^Complete requests:\s+(\d+)/m);
  const seconds = num(/^Time taken for tests:\s+([\d.]+)/m);
  if (complete === null || seconds === null) return null;
  const failed = num(/^Failed requests:\s+(\d+)/m) ?? 0;
  const non2xx = num(/^Non-2xx responses:\s+(\d+)/m) ?? 0;
  const keptAlive = num(/^Keep-Alive requests:\s+(\d+)/m);
  const p = (q) => {
    const v = num(new RegExp(`^\\s+${q}%\\s+(\\d+)`, 'm'));
    return v === null ? null : v * 1000;
  };
  const f = stdout.match(/^\s+\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/m);
  return {
    requests: complete,
    seconds,
    rps: complete / seconds,
    p50us: p(50),
    p99us: p(99),
    socketErrors: failed,
    non2xx,
    keptAlive,
    errorDetail: f
      ? { connect: +f[1], receive: +f[2], length: +f[3], exceptions: +f[4], non2xx }
      : { failed, non2xx },
  };
}

function parse(load, stdout) {
  return load.tool === 'wrk' ? parseWrk(stdout) : parseAb(stdout);
}

module.exports = { LOADS, command, warmupCommand, parse };
