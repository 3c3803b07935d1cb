'use strict';
// Aggregation of a cell's rounds: medians with min-max, error totals, ratios to node:http, ranking.

const CEILING_PCT = 90; // load generator CPU (of one core) at or above which it, not the server, is the limit

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function spread(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return null;
  return { med: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

// rounds: the per-round results of one (server, load) cell.
function summarize(rounds) {
  const ok = rounds.filter((r) => !r.error);
  const failed = rounds.filter((r) => r.error);
  const s = {
    rounds: rounds.length,
    okRounds: ok.length,
    failures: failed.map((r) => r.error),
    rps: spread(ok.map((r) => r.rps)),
    p50us: median(ok.map((r) => r.p50us)),
    p99us: median(ok.map((r) => r.p99us)),
    requests: ok.reduce((a, r) => a + r.requests, 0),
    socketErrors: ok.reduce((a, r) => a + r.socketErrors, 0),
    non2xx: ok.reduce((a, r) => a + r.non2xx, 0),
    errorDetail: {},
    cpuPerReqUs: spread(ok.map((r) => r.cpuPerReqUs)),
    csPerReq: median(ok.map((r) => r.csPerReq)),
    rssMiB: ok.length ? Math.max(...ok.map((r) => r.rssKiB / 1024)) : null,
    threads: ok.length ? Math.max(...ok.map((r) => r.threads)) : null,
    genCpuPct: median(ok.map((r) => r.genCpuPct)),
    otherPct: median(ok.map((r) => r.otherPct)),
    keptAlive: ok.some((r) => r.keptAlive != null) ? ok.reduce((a, r) => a + (r.keptAlive ?? 0), 0) : null,
  };
  for (const r of ok) {
    for (const [k, v] of Object.entries(r.errorDetail || {})) s.errorDetail[k] = (s.errorDetail[k] || 0) + v;
  }
  s.errors = s.socketErrors + s.non2xx;
  s.ceiling = s.genCpuPct != null && s.genCpuPct >= CEILING_PCT;
  return s;
}

// Adds ratios to node:http and a rank to each measured summary of one load.
// When the load generator was at its ceiling for any server of the load, req/s no longer separates the fastest
// servers: rank by server CPU per request instead (lower is better).
function rankLoad(byServer) {
  const base = byServer.node && byServer.node.rps ? byServer.node : null;
  const measured = Object.entries(byServer).filter(([, s]) => s.rps);
  const ceiling = measured.some(([, s]) => s.ceiling);
  for (const [, s] of measured) {
    s.xNode = base ? s.rps.med / base.rps.med : null;
    s.cpuXNode = base && base.cpuPerReqUs && s.cpuPerReqUs ? s.cpuPerReqUs.med / base.cpuPerReqUs.med : null;
  }
  const key = ceiling ? (s) => s.cpuPerReqUs?.med ?? Infinity : (s) => -s.rps.med;
  measured.sort((a, b) => key(a[1]) - key(b[1]));
  measured.forEach(([, s], i) => (s.rank = i + 1));
  return { rankedBy: ceiling ? 'cpu' : 'rps', order: measured.map(([id]) => id) };
}

module.exports = { median, spread, summarize, rankLoad, CEILING_PCT };
