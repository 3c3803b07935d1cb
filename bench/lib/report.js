'use strict';
// Markdown: the main table (every load x server), the original document's projection table, and the goals of
// issue 4, all from one results object (the same one written as JSON).

const fmtInt = (n) => (n == null ? '-' : Math.round(n).toLocaleString('en-US'));
const fmtK = (n) => {
  if (n == null) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n < 10 ? 2 : 0);
};
const fmtX = (x) => (x == null ? '-' : `${x.toFixed(2)}x`);
const fmtUs = (us) => {
  if (us == null) return '-';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e4 ? 0 : 1)} ms`;
  return `${Math.round(us)} us`;
};
const fmtCpu = (us) => (us == null ? '-' : us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));
const range = (s, f) => (s == null ? '-' : s.n > 1 ? `${f(s.med)} (${f(s.min)}-${f(s.max)})` : f(s.med));

function errorCell(s) {
  if (s.errors === 0) return '0';
  const parts = Object.entries(s.errorDetail).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmtInt(v)}`);
  return `**${fmtInt(s.errors)}** (${parts.join(', ')})`;
}

function statusText(st) {
  if (st.status === 'unavailable') return `not yet available: ${st.reason}`;
  if (st.status === 'missing') return `missing: ${st.reason}`;
  if (st.status === 'failed') return `failed to start: ${st.reason}`;
  return st.reason || st.status;
}

function shortStatus(st) {
  return { unavailable: 'not yet available', missing: 'missing', failed: 'failed to start' }[st.status] || st.status;
}

function mainTable(res) {
  const lines = [];
  lines.push(
    '| load | server | req/s median (min-max) | x node:http | p50 / p99 | errors | server CPU us/req (min-max) | x node:http CPU | cs/req | peak RSS | load gen CPU | other CPU | rank |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const load of res.loads) {
    const L = res.summary[load.id];
    const ceilingNote = L.rankedBy === 'cpu' ? ' **(load generator at ceiling: ranked by CPU/req)**' : '';
    let first = true;
    const ids = [...L.order, ...res.servers.map((s) => s.id).filter((id) => !L.order.includes(id))];
    for (const id of ids) {
      const srv = res.servers.find((s) => s.id === id);
      const s = L.byServer[id];
      const loadCell = first ? `**${load.label}**${ceilingNote}` : '';
      first = false;
      if (!s || !s.rps) {
        const why = srv.status !== 'ok' ? `${shortStatus(srv)} (see notes)` : `no result: ${[...new Set(s?.failures || ['not run'])].join('; ')}`;
        lines.push(`| ${loadCell} | ${srv.label} | ${why} | | | | | | | | | | |`);
        continue;
      }
      const gen = s.genCpuPct == null ? '-' : `${Math.round(s.genCpuPct)}%${s.ceiling ? ' ceiling' : ''}`;
      let errors = errorCell(s);
      if (load.keepAlive && s.keptAlive != null && s.keptAlive < s.requests) {
        errors += ` kept alive ${fmtInt(s.keptAlive)}/${fmtInt(s.requests)}`;
      }
      if (s.okRounds < s.rounds) errors += ` (${s.rounds - s.okRounds} round(s) failed)`;
      lines.push(
        `| ${loadCell} | ${srv.label} | ${range(s.rps, fmtK)} | ${fmtX(s.xNode)} | ${fmtUs(s.p50us)} / ${fmtUs(s.p99us)} | ` +
          `${errors} | ${range(s.cpuPerReqUs, fmtCpu)} | ${fmtX(s.cpuXNode)} | ${s.csPerReq == null ? '-' : s.csPerReq.toFixed(2)} | ${s.rssMiB == null ? '-' : `${Math.round(s.rssMiB)} MiB`} | ` +
          `${gen} | ${s.otherPct == null ? '-' : `${Math.round(s.otherPct)}%`} | ${s.rank} |`,
      );
    }
  }
  return lines.join('\n');
}

// The original document (docs/design.md, history) projected: 8.26 req/s sequential before (Phase 1), ~500-1000
// with a keep-alive loop per socket (2-5x), ~2000-5000 with an event loop (10-50x). Here with real numbers on its
// own command (ab -k -c 100) and wrk -c100.
function projectionTable(res) {
  const rows = [
    ['nova-close', 'Phase 1: keep-alive detected, socket closed per response', '8.26 req/s (measured there, sequential)'],
    ['nova-blocking', 'keep-alive loop per socket (blocking model)', '~500-1,000 req/s (2-5x)'],
    ['nova-evented', 'event loop over all connections (evented model)', '~2,000-5,000 req/s (10-50x)'],
    ['node', 'node:http', '-'],
    ['bun', 'Bun.serve', '-'],
  ];
  const cell = (loadId, id) => res.summary[loadId]?.byServer[id];
  const base = (loadId) => cell(loadId, 'nova-close')?.rps?.med;
  const lines = [
    '| server | original document | projected | ab -k -c 100 req/s | x Phase 1 | x node:http | wrk -c100 req/s | x Phase 1 | x node:http | CPU us/req (wrk -c100) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [id, what, projected] of rows) {
    const srv = res.servers.find((s) => s.id === id);
    if (!srv) continue;
    const a = cell('abk', id);
    const w = cell('ka100', id);
    if (!(a && a.rps) && !(w && w.rps)) {
      lines.push(`| ${srv.label} | ${what} | ${projected} | ${srv.status !== 'ok' ? shortStatus(srv) : 'not measured'} | | | | | | |`);
      continue;
    }
    const ph = (s, loadId) => (s && s.rps && base(loadId) ? fmtX(s.rps.med / base(loadId)) : '-');
    lines.push(
      `| ${srv.label} | ${what} | ${projected} | ${fmtInt(a?.rps?.med)} | ${ph(a, 'abk')} | ${fmtX(a?.xNode)} | ` +
        `${fmtInt(w?.rps?.med)} | ${ph(w, 'ka100')} | ${fmtX(w?.xNode)} | ${fmtCpu(w?.cpuPerReqUs?.med)} |`,
    );
  }
  return lines.join('\n');
}

// Issue 4's goals, against node:http in the same run (reported, not asserted).
function goals(res) {
  const out = [];
  const get = (loadId, id) => res.summary[loadId]?.byServer[id];
  for (const id of ['nova-evented', 'nova-blocking']) {
    const srv = res.servers.find((s) => s.id === id);
    if (!srv) continue;
    if (srv.status !== 'ok') {
      out.push(`- ${srv.label}: ${statusText(srv)}`);
      continue;
    }
    const check = (loadId, min, extra) => {
      const s = get(loadId, id);
      if (!s || !s.rps || s.xNode == null) return 'not measured';
      const probs = extra ? extra(s) : [];
      const met = s.xNode >= min && probs.length === 0;
      return `${fmtX(s.xNode)} (goal >= ${min}x${probs.length ? `; ${probs.join('; ')}` : ''}) ${met ? 'met' : 'NOT met'}`;
    };
    const zeroErrors = (s) => (s.errors ? [`${fmtInt(s.errors)} errors`] : []);
    const uws = get('ka100', 'uws');
    const ka = get('ka100', id);
    const cpuVsUws =
      uws?.cpuPerReqUs && ka?.cpuPerReqUs
        ? `CPU/req ${fmtX(ka.cpuPerReqUs.med / uws.cpuPerReqUs.med)} of uWebSockets.js's (goal <= 1.2x) ${
            ka.cpuPerReqUs.med / uws.cpuPerReqUs.med <= 1.2 ? 'met' : 'NOT met'}`
        : 'CPU/req vs uWebSockets.js: not measured';
    out.push(`- ${srv.label}:`);
    out.push(`  - keep-alive 100: ${check('ka100', 2.0)}; ${cpuVsUws}`);
    out.push(`  - pipelining x16: ${check('pipe16', 3)}`);
    out.push(`  - Connection: close, 100: ${check('close100', 1.8, zeroErrors)}`);
    out.push(`  - ab -k -c 100: ${check('abk', 2.5, (s) => [
      ...zeroErrors(s),
      ...(s.keptAlive != null && s.keptAlive < s.requests ? [`kept alive ${fmtInt(s.keptAlive)}/${fmtInt(s.requests)}`] : []),
    ])}`);
    out.push(`  - keep-alive 5000: ${check('ka5000', 1.8, zeroErrors)}`);
  }
  return out.join('\n');
}

// Issue 12's goals: nova-http against uWebSockets.js and nginx in this run (reported, not asserted).
function speedGoals(res) {
  const out = [];
  const get = (loadId, id) => res.summary[loadId]?.byServer[id];
  const cpu = (loadId, id) => get(loadId, id)?.cpuPerReqUs?.med ?? null;
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  // CPU per request of `id` against `peer`'s on one load: "0.95x of uws (goal <= 1.1x) met".
  const cpuRatio = (loadId, id, peer, goal) => {
    const a = cpu(loadId, id);
    const b = cpu(loadId, peer);
    const peerLabel = res.servers.find((s) => s.id === peer)?.label ?? peer;
    if (a == null || b == null) return `${loadId}: not measured (${a == null ? id : peerLabel})`;
    return `${loadId} ${fmtCpu(a)} vs ${fmtCpu(b)} us: ${fmtX(a / b)} of ${peerLabel}'s (goal <= ${goal}x) ${verdict(a / b <= goal)}`;
  };
  const has = (id) => res.servers.some((s) => s.id === id && s.status === 'ok');
  if (has('nova-evented') && has('uws')) {
    const t = res.meta.novaDefaultThreads;
    out.push(`- default model (nova-http evented, threads: ${t ?? 'default'} on this machine), CPU per request:`);
    for (const l of ['ka100', 'ka5000', 'pipe16', 'abk']) {
      if (!res.summary[l]) continue;
      out.push(`  - ${l === 'abk' && !cpu('abk', 'uws') ? cpuRatio(l, 'nova-evented', 'nginx', 1.1) + ' (uWebSockets.js does not answer HTTP/1.0: nginx instead)' : cpuRatio(l, 'nova-evented', 'uws', 1.1)}`);
    }
    const a = get('ka100', 'nova-evented');
    const u = get('ka100', 'uws');
    if (a?.rps && u?.rps) {
      const both = a.ceiling && u.ceiling;
      out.push(`  - ka100 req/s ${fmtK(a.rps.med)} vs ${fmtK(u.rps.med)}: ${fmtX(a.rps.med / u.rps.med)} (goal >= 1x` +
        `${both ? '; both at the load generator\'s ceiling: CPU per request decides' : ''}) ${verdict(both || a.rps.med >= u.rps.med)}`);
    }
  }
  // threads: 0 is nova-inline, or the default model where the default is 0 (then nova-inline is not run).
  const inline = has('nova-inline') ? 'nova-inline' : res.meta.novaDefaultThreads === 0 && has('nova-evented') ? 'nova-evented' : null;
  if (inline && has('uws')) {
    out.push(`- threads: 0 (${inline === 'nova-evented' ? 'the default on this machine' : 'nova-inline'}), CPU per request against uWebSockets.js:`);
    // Every load (the goal says so), but those uWebSockets.js cannot be measured on (ab: no HTTP/1.0).
    for (const l of Object.keys(res.summary)) if (cpu(l, 'uws') != null) out.push(`  - ${cpuRatio(l, inline, 'uws', 1.0)}`);
  }
  if (has('nova-evented') && has('nginx') && res.summary.close100) {
    const a = get('close100', 'nova-evented');
    const n = get('close100', 'nginx');
    if (a?.rps && n?.rps) {
      const ok = a.rps.med >= n.rps.med && a.errors === 0;
      out.push(`- Connection: close: req/s ${fmtK(a.rps.med)} vs nginx ${fmtK(n.rps.med)} (${fmtX(a.rps.med / n.rps.med)}), ` +
        `errors ${fmtInt(a.errors)} (goal >= 1x, 0 errors) ${verdict(ok)}; ${cpuRatio('close100', 'nova-evented', 'nginx', 1.2)}`);
    }
  }
  // RSS per active connection: the peak RSS at 5,000 connections minus the one at 100, per added connection.
  const perConn = (id) => {
    const a = get('ka5000', id)?.rssMiB;
    const b = get('ka100', id)?.rssMiB;
    return a != null && b != null ? ((a - b) * 1024) / 4900 : null;
  };
  if (has('nova-evented') && has('uws') && perConn('nova-evented') != null && perConn('uws') != null) {
    const a = perConn('nova-evented');
    const u = perConn('uws');
    out.push(`- RSS per active keep-alive connection ((peak RSS at 5,000 - at 100) / 4,900): ${a.toFixed(2)} KiB vs ` +
      `uWebSockets.js ${u.toFixed(2)} KiB: ${fmtX(a / Math.max(u, 0.01))} (goal <= 2x) ${verdict(a <= 2 * Math.max(u, 0.01))}`);
    const base = perConn('nova-evented-baseline');
    if (has('nova-evented-baseline') && base != null) {
      out.push(`  - the baseline build (--baseline-root) in the same run: ${base.toFixed(2)} KiB (${fmtX(base / Math.max(u, 0.01))})`);
    }
  }
  if (has('nova-blocking') && has('node')) {
    const r = cpuRatio('ka100', 'nova-blocking', 'node', 1.5);
    const L = res.summary.ka100;
    const last = L && L.order.length ? L.order[L.order.length - 1] : null;
    out.push(`- blocking model: ${r}; ka100 rank ${L?.byServer['nova-blocking']?.rank ?? '-'} of ${L?.order.length ?? '-'} ` +
      `(goal: not the slowest) ${verdict(last !== 'nova-blocking')}`);
  }
  return out.join('\n');
}

// Median share of the machine used by other processes during the cells: how much to trust this run.
function noise(res) {
  const v = [];
  for (const L of Object.values(res.summary)) for (const s of Object.values(L.byServer)) if (s.otherPct != null) v.push(s.otherPct);
  v.sort((a, b) => a - b);
  return v.length ? v[v.length >> 1] : null;
}

function header(res) {
  const m = res.meta;
  const n = noise(res);
  const busy = n != null && n > 10
    ? `**Noisy run: other processes used a median ${Math.round(n)}% of the machine during the cells; compare only servers measured close together, or rerun on a quiet machine.**`
    : null;
  const peers = Object.entries(m.versions).map(([k, v]) => `${k} ${v ?? 'missing'}`).join(', ');
  return [
    `nova-http benchmark, ${m.mode} mode, ${m.date}`,
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.kernel}; Node ${m.node}; ${peers}`,
    `nova-http loaded from ${m.novaSnapshot ? `${m.novaSnapshot}` : m.novaSource ?? 'this repository'}`,
    `Settings: ${m.rounds} round(s) interleaved (server order rotated), ${m.seconds} s per wrk cell, ab ${m.abSeconds} s max, ` +
      `warm-up: ${m.warmup}; load average at start ${m.loadavgStart.join(' ')}, at end ${m.loadavgEnd?.join(' ') ?? '-'}`,
    'Server CPU = process-tree user+system time (/proc) over the measured window / requests. Load gen CPU = wrk/ab ' +
      'CPU / wall time (one core = 100%; >= 90% is the ceiling). Other CPU = the rest of the machine, % of all cores (noise). ' +
      'cs/req = the server\'s context switches per request (getrusage; single-process Node servers only).',
    ...(busy ? [busy] : []),
  ].join('\n');
}

function markdown(res) {
  const notes = res.servers.filter((s) => s.probeNotes?.length).map((s) => `- ${s.label}: ${s.probeNotes.join(', ')}`);
  const absent = res.servers.filter((s) => s.status !== 'ok').map((s) => `- ${s.label}: ${statusText(s)}`);
  const defs = res.servers.filter((s) => s.note).map((s) => `- ${s.label}: ${s.note}`);
  const loadNotes = res.loads.filter((l) => l.note).map((l) => `- ${l.label}: ${l.note}`);
  return [
    header(res),
    '',
    mainTable(res),
    '',
    'Notes:',
    ...absent,
    ...defs,
    ...loadNotes,
    ...(notes.length ? ['What the probe found (before its cells each server answers GET / and three raw connection-management requests):', ...notes] : []),
    '',
    'The original document\'s projection, measured:',
    '',
    projectionTable(res),
    '',
    'Goals (issue 4), nova-http against node:http in this run:',
    goals(res),
    '',
    'Goals (issue 12), nova-http against uWebSockets.js and nginx in this run:',
    speedGoals(res),
    '',
  ].join('\n');
}

module.exports = { markdown, mainTable, projectionTable, goals, speedGoals, fmtK, fmtCpu };
