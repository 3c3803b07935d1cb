#!/usr/bin/env node
'use strict';
// nova-http benchmark harness: `npm run bench` from the repository root.
// Starts each server as a child process on a free port, drives it with wrk -t1 / ab, interleaves rounds with the
// server order rotated, and prints one markdown table (plus the original document's projection and the goals);
// writes raw JSON, the markdown and an SVG chart to bench/results/. See bench/README.md.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LOADS, command, warmupCommand, parse } = require('./lib/loads');
const { resolveServers } = require('./lib/servers');
const { NO_HTTP10, startServer, probe, protocolNotes, burst, checkHello, runBounded } = require('./lib/spawn');
const { treeCpu, cpuDelta, treeMemory, machineCpu } = require('./lib/procfs');
const { summarize, rankLoad } = require('./lib/stats');
const { markdown } = require('./lib/report');
const { chart } = require('./lib/svg');
const meta = require('./lib/meta');
const { snapshotNova } = require('./lib/snapshot');

const MODES = {
  full: { rounds: 3, seconds: 5, abSeconds: 10, warmup: 'same', warmupSeconds: 2 },
  quick: { rounds: 1, seconds: 1, abSeconds: 2, warmup: 'burst', warmupSeconds: 1 },
  smoke: {
    rounds: 1, seconds: 1, abSeconds: 2, warmup: 'burst', warmupSeconds: 1,
    servers: ['nova-evented', 'nova-blocking', 'nova-close', 'node'],
    loads: ['ka100', 'pipe16', 'close100', 'abk'],
    burstRequests: 1000,
  },
};

const HELP = `usage: npm run bench [-- options]   (or: node bench/run.js [options])
  --quick              one round, 1 s cells, short warm-up (~2 minutes with every server)
  --smoke              CI: one short round, nova-http and node:http only, 4 loads (< 1 minute)
  --servers=a,b        servers to run (ids below); default: all but the opt-in nova-inline
  --loads=x,y          loads to run (ids below); default: all
  --rounds=N           interleaved rounds (default 3; quick/smoke 1)
  --duration=S         seconds per wrk cell (default 5; quick/smoke 1)
  --ab-seconds=S       time bound of an ab cell (default 10; quick/smoke 2)
  --warmup=same|burst  warm-up before each cell: the same load for --warmup-seconds (default), or a short
                       keep-alive burst of 3,000 requests from the harness (quick/smoke)
  --warmup-seconds=S   (default 2)
  --nova-root=DIR      load nova-http from DIR instead of this repository (e.g. a copy of another build)
  --no-snapshot        load nova-http from the live tree (default: a copy of its build taken at the start)
  --baseline-root=DIR  also run each selected nova-http server loaded from DIR (ids <id>-baseline, e.g.
                       nova-evented-baseline): a build from before a change, measured in the same interleaved run
  --no-install         don't run npm install --prefix bench when peers are missing
  --out=DIR            where to write results (default bench/results, or bench/results/tmp for partial runs)
  --parser             run the parser micro-benchmark instead (bench/parser/run.js)
  --list               list servers and loads
servers: ${resolveServers().map((s) => s.id).join(', ')}
loads:   ${LOADS.map((l) => l.id).join(', ')}`;

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    let [k, v] = a.slice(2).split(/=(.*)/s);
    if (v === undefined && ['servers', 'loads', 'rounds', 'duration', 'ab-seconds', 'warmup', 'warmup-seconds', 'out', 'nova-root', 'baseline-root'].includes(k)) {
      v = argv[++i];
    }
    o[k] = v === undefined ? true : v;
  }
  return o;
}

const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pickList(all, wanted, what) {
  if (!wanted) return all.filter((x) => !x.optional);
  const ids = String(wanted).split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!all.some((x) => x.id === id)) throw new Error(`unknown ${what} "${id}" (known: ${all.map((x) => x.id).join(', ')})`);
  }
  return all.filter((x) => ids.includes(x.id));
}

let current = null; // the running server, stopped on SIGINT/SIGTERM

// Starts the server once and answers one GET /: is it there, and does it say Hello World correctly?
async function preflight(srv) {
  if (srv.missing) return { status: 'missing', reason: srv.missing };
  let h;
  try {
    h = await startServer(srv);
  } catch (e) {
    return { status: e.unavailable ? 'unavailable' : 'failed', reason: e.message };
  }
  current = h;
  const p = await probe(h.port);
  const notes = checkHello(p);
  const behaviour = p.error ? [] : await protocolNotes(h.port);
  await h.stop();
  current = null;
  if (p.error || p.status !== 200) return { status: 'failed', reason: notes.join(', ') };
  return { status: 'ok', probeNotes: [...notes, ...behaviour] };
}

// One measured cell: fresh server, warm-up, measured run with CPU and memory readings, stop.
async function cell(srv, load, opts, st) {
  if (load.tool === 'ab' && st.probeNotes?.includes(NO_HTTP10)) return { error: 'skipped: no response to HTTP/1.0 (see notes)' };
  let h;
  try {
    h = await startServer(srv, { cpus: load.serverCpus });
  } catch (e) {
    return { error: `start: ${e.message}` };
  }
  current = h;
  try {
    if (opts.warmup === 'burst') {
      const b = await burst(h.port, { requests: opts.burstRequests });
      if (b.errors && b.errors === b.done) return { error: `warm-up: all ${b.errors} requests failed (server not answering)` };
    } else {
      const w = warmupCommand(load, h.port, opts.warmupSeconds);
      await runBounded(w.argv, w);
    }
    await sleep(50);
    const c = command(load, h.port, opts);
    const u0 = await h.usage();
    const cpu0 = treeCpu(h.pid);
    const m0 = machineCpu();
    const r = await runBounded(c.argv, c);
    const cpu1 = treeCpu(h.pid);
    const m1 = machineCpu();
    const u1 = await h.usage();
    const mem = treeMemory(h.pid);
    const out = parse(load, r.stdout);
    const died = h.child.exitCode !== null || h.child.signalCode !== null;
    if (died) await Promise.race([new Promise((res) => h.child.once('close', res)), sleep(1000)]); // its last stderr
    const death = died
      ? `the server exited during the cell (${h.child.exitCode ?? h.child.signalCode})` +
        `${h.stderr().trim() ? `: ${h.stderr().trim().split('\n').slice(-2).join(' / ')}` : ''}`
      : null;
    if (!out) {
      if (death) return { error: death };
      let tail = (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ');
      if (/apr_pollset_poll: The timeout specified has expired/.test(tail)) {
        tail = 'ab aborted: a connection made no progress for 5 s (apr_pollset_poll timeout; e.g. an HTTP/1.0 response neither framed for keep-alive nor closed)';
      }
      return { error: `${load.tool} ${r.code === 'killed' ? 'killed at its deadline' : `exit ${r.code}`}: ${tail}` };
    }
    const serverCpuUs = cpuDelta(cpu0, cpu1);
    const wallUs = r.wallMs * 1000;
    const genCpuUs = r.cpuUs;
    const busyUs = m1.busyUs - m0.busyUs;
    const otherUs = Math.max(0, busyUs - serverCpuUs - (genCpuUs || 0));
    return {
      ...out,
      serverCpuUs,
      cpuPerReqUs: out.requests ? serverCpuUs / out.requests : null,
      csPerReq: u0 && u1 && out.requests ? (u1.vcs + u1.ivcs - u0.vcs - u0.ivcs) / out.requests : null,
      rssKiB: mem.hwmKiB,
      threads: mem.threads,
      genCpuPct: genCpuUs == null ? null : (genCpuUs / (out.seconds * 1e6)) * 100,
      otherPct: (otherUs / (wallUs * os.cpus().length)) * 100,
      ...(out.requests ? {} : { error: `0 requests completed (${JSON.stringify(out.errorDetail)})` }),
      ...(death ? { error: death } : {}),
    };
  } finally {
    await h.stop();
    current = null;
  }
}

async function runParser(rest) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'parser', 'run.js'), ...rest], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help || args.h) return console.log(HELP);
  if (args.parser) return runParser(process.argv.slice(2).filter((a) => a !== '--parser'));
  const mode = args.smoke ? 'smoke' : args.quick ? 'quick' : 'full';
  const M = MODES[mode];
  const opts = {
    rounds: Number(args.rounds ?? M.rounds),
    seconds: Math.max(1, Math.round(Number(args.duration ?? M.seconds))),
    abSeconds: Math.max(1, Math.round(Number(args['ab-seconds'] ?? M.abSeconds))),
    warmup: args.warmup ?? M.warmup,
    warmupSeconds: Math.max(1, Math.round(Number(args['warmup-seconds'] ?? M.warmupSeconds))),
    burstRequests: M.burstRequests ?? 3000,
  };
  if (args.list) {
    for (const s of resolveServers()) console.log(`server ${s.id.padEnd(14)} ${s.label}${s.optional ? " (opt-in)" : "" }${s.missing ? ` [missing: ${s.missing}]` : "" }`);
    for (const l of LOADS) console.log(`load   ${l.id.padEnd(14)} ${l.label}`);
    return;
  }
  const wantedServers = args.servers ?? M.servers?.join(',');
  const wantedLoads = args.loads ?? M.loads?.join(',');
  const needsPeers = pickList(resolveServers(), wantedServers, 'server').some((s) => s.peer);
  const installNote = needsPeers && !args['no-install'] ? meta.ensureDeps({ log }) : null;
  if (installNote) log(`bench: ${installNote}`);

  const servers = pickList(resolveServers(), wantedServers, 'server');
  // nova-http is loaded from --nova-root, or from a snapshot of this repository's build taken now (--no-snapshot:
  // the live tree, which others may rebuild during the run).
  let novaSource = path.join(__dirname, '..');
  if (args['nova-root']) novaSource = path.resolve(String(args['nova-root']));
  let snapNote = null;
  if (servers.some((s) => s.nova) && !args['nova-root'] && !args['no-snapshot']) {
    try {
      const snap = snapshotNova(novaSource, path.join(__dirname, 'results', 'tmp', 'nova-snapshot'));
      if (snap) {
        novaSource = snap.dir;
        snapNote = snap.note;
      }
    } catch (e) {
      snapNote = `no snapshot (${e.message}): the live tree was used`;
    }
  }
  for (const s of servers) if (s.nova) s.env = { ...s.env, NOVA_ROOT: novaSource };
  if (args['baseline-root']) {
    const root = path.resolve(String(args['baseline-root']));
    for (const s of servers.filter((x) => x.nova)) {
      servers.push({ ...s, id: `${s.id}-baseline`, label: `${s.label}, baseline`, nova: false,
        env: { ...s.env, NOVA_ROOT: root }, note: `baseline build loaded from ${root}` });
    }
  }
  const loads = pickList(LOADS, wantedLoads, 'load');
  const partial = mode !== 'full' || args.servers || args.loads || args.rounds || args.duration || args['nova-root'] ||
    args['baseline-root'];
  const outDir = path.resolve(args.out ?? path.join(__dirname, 'results', partial ? 'tmp' : ''));
  const info = { ...meta.collect(), mode, ...opts, installNote, novaSource, novaSnapshot: snapNote,
    novaDefaultThreads: meta.novaDefaultThreads(novaSource) };
  const t0 = Date.now();

  const perCell = (l) =>
    0.6 + (l.tool === 'wrk' ? Math.max(opts.seconds, l.minSeconds || 0) + (opts.warmup === 'burst' ? 0.3 : opts.warmupSeconds) : 1.5);
  const estimate = servers.length * opts.rounds * loads.reduce((a, l) => a + perCell(l), 0) + servers.length * 1.5;
  log(`bench: ${mode} mode: ${servers.length} servers x ${loads.length} loads x ${opts.rounds} round(s), ` +
      `about ${Math.ceil(estimate / 60)} min; load average ${info.loadavgStart.join(' ')}`);
  const status = {};
  for (const s of servers) {
    status[s.id] = await preflight(s);
    const st = status[s.id];
    log(`  ${s.id.padEnd(14)} ${st.status}${st.reason ? `: ${st.reason}` : ''}${st.probeNotes?.length ? ` (${st.probeNotes.join(', ')})` : ''}`);
  }
  const live = servers.filter((s) => status[s.id].status === 'ok');
  const rounds = {};
  for (const s of servers) rounds[s.id] = Object.fromEntries(loads.map((l) => [l.id, []]));

  for (let r = 0; r < opts.rounds; r++) {
    for (const load of loads) {
      // Rotate the server order each round (and shift it per load) so no server always runs first or last.
      const k = live.length ? (r + loads.indexOf(load)) % live.length : 0;
      const order = [...live.slice(k), ...live.slice(0, k)];
      for (const srv of order) {
        const res = await cell(srv, load, opts, status[srv.id]);
        res.round = r + 1;
        rounds[srv.id][load.id].push(res);
        log(
          `  round ${r + 1}/${opts.rounds} ${load.id.padEnd(8)} ${srv.id.padEnd(14)} ` +
            (res.error
              ? `ERROR ${res.error}`
              : `${Math.round(res.rps).toString().padStart(8)} req/s  ${res.cpuPerReqUs?.toFixed(2).padStart(7)} us/req  ` +
                `errors ${res.socketErrors + res.non2xx}  gen ${Math.round(res.genCpuPct ?? 0)}%  other ${Math.round(res.otherPct)}%`),
        );
        await sleep(100);
      }
    }
  }

  const summary = {};
  for (const load of loads) {
    const byServer = {};
    for (const s of live) byServer[s.id] = summarize(rounds[s.id][load.id]);
    summary[load.id] = { byServer, ...rankLoad(byServer) };
  }
  info.loadavgEnd = os.loadavg().map((x) => x.toFixed(2));
  info.elapsedSeconds = Math.round((Date.now() - t0) / 1000);
  const results = {
    meta: info,
    servers: servers.map((s) => ({
      id: s.id, label: s.label, note: s.note, argv: s.argv, env: s.env, ...status[s.id],
    })),
    loads,
    summary,
    rounds,
  };

  const md = markdown(results);
  console.log(md);
  fs.mkdirSync(outDir, { recursive: true });
  // A full run replaces results/latest.* (its date is inside); git keeps the earlier ones.
  const base = partial ? `${mode}-latest` : 'latest';
  const files = {
    json: path.join(outDir, `${base}.json`),
    md: path.join(outDir, `${base}.md`),
    svg: path.join(outDir, `${base}.svg`),
  };
  fs.writeFileSync(files.json, `${JSON.stringify(results, null, 1)}\n`);
  fs.writeFileSync(files.md, md);
  fs.writeFileSync(files.svg, chart(results));
  log(`bench: ${info.elapsedSeconds} s; wrote ${Object.values(files).map((f) => path.relative(process.cwd(), f)).join(', ')}`);

  // Smoke (CI): fail when the harness itself is broken, not when a server is slow or not built yet.
  if (mode === 'smoke') {
    const broken = [];
    if (status.node?.status !== 'ok') broken.push(`node:http did not start: ${status.node?.reason}`);
    for (const s of live) {
      for (const l of loads) {
        const bad = rounds[s.id][l.id].filter((x) => x.error);
        if (bad.length) broken.push(`${s.id} ${l.id}: ${bad[0].error}`);
      }
    }
    for (const s of servers) if (status[s.id].status === 'failed') broken.push(`${s.id}: ${status[s.id].reason}`);
    // Built but not loadable is rot; not built yet (or a model that doesn't exist yet) is reported, not failed.
    const nb = status['nova-blocking'];
    if (nb && nb.status === 'unavailable' && !/not built/.test(nb.reason)) broken.push(`nova-blocking: ${nb.reason}`);
    if (broken.length) {
      log(`bench smoke: FAILED\n  ${broken.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      log('bench smoke: ok');
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (current) await current.stop();
    process.exit(130);
  });
}

main().catch(async (e) => {
  log(`bench: ${e.stack || e.message}`);
  if (current) await current.stop();
  process.exit(1);
});
