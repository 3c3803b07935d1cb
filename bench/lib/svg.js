'use strict';
// A hand-written SVG of a run: for each load, req/s (left) and server CPU per request (right) by server,
// medians as bars with min-max whiskers, each panel on its own scale. No chart library.
const { fmtK, fmtCpu } = require('./report');

const COLORS = {
  'nova-evented': '#d62728',
  'nova-blocking': '#ff7f0e',
  'nova-close': '#e6a96b',
  'nova-inline': '#8c1c13',
  node: '#2ca02c',
  'node-cluster': '#98df8a',
  uws: '#1f77b4',
  bun: '#9467bd',
  fastify: '#7f7f7f',
};

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function chart(res) {
  const W = 1040;
  const labelW = 215;
  const panelW = (W - labelW - 40) / 2 - 75;
  const barH = 12;
  const gap = 4;
  const servers = res.servers;
  const parts = [];
  let y = 20;
  const text = (x, yy, s, attrs = '') => parts.push(`<text x="${x}" y="${yy}" ${attrs}>${esc(s)}</text>`);

  const m = res.meta;
  text(10, y, `nova-http benchmark (${m.mode}, ${m.rounds} round(s)) - ${m.date}`, 'font-size="15" font-weight="bold"');
  y += 18;
  text(10, y, `${m.cpuModel}, ${m.cores} cores, ${m.kernel}, Node ${m.node}`, 'font-size="11"');
  y += 14;
  text(10, y, Object.entries(m.versions).map(([k, v]) => `${k} ${v ?? 'missing'}`).join(' | '), 'font-size="11"');
  y += 14;
  text(10, y, 'Bars: median; whiskers: min-max over rounds. Each panel has its own scale. CPU = server process tree / requests.', 'font-size="11" fill="#555"');
  y += 22;
  const colX = [labelW, labelW + panelW + 90];
  text(colX[0], y, 'requests/s (higher is better)', 'font-size="12" font-weight="bold"');
  text(colX[1], y, 'server CPU us per request (lower is better)', 'font-size="12" font-weight="bold"');
  y += 10;

  for (const load of res.loads) {
    const L = res.summary[load.id];
    y += 16;
    text(10, y, load.label + (L.rankedBy === 'cpu' ? '  (load generator at ceiling: compare CPU/request)' : ''),
      'font-size="12" font-weight="bold"');
    y += 6;
    const rows = servers.map((s) => ({ srv: s, s: L.byServer[s.id] }));
    const maxOf = (f) => Math.max(1e-9, ...rows.filter((r) => r.s?.rps).map((r) => f(r.s)));
    const maxR = maxOf((s) => s.rps.max);
    const maxC = maxOf((s) => s.cpuPerReqUs?.max ?? 0);
    parts.push(`<line x1="${colX[0]}" y1="${y}" x2="${colX[0]}" y2="${y + rows.length * (barH + gap)}" stroke="#999"/>`);
    parts.push(`<line x1="${colX[1]}" y1="${y}" x2="${colX[1]}" y2="${y + rows.length * (barH + gap)}" stroke="#999"/>`);
    for (const { srv, s } of rows) {
      const cy = y + barH - 2;
      text(labelW - 6, cy, srv.label, 'font-size="11" text-anchor="end"');
      const color = COLORS[srv.id] || '#444';
      if (!s || !s.rps) {
        const why = srv.status === 'unavailable' ? 'not yet available' : srv.status === 'missing' ? 'missing' : 'no result';
        text(colX[0] + 4, cy, why, 'font-size="11" fill="#999" font-style="italic"');
        text(colX[1] + 4, cy, why, 'font-size="11" fill="#999" font-style="italic"');
        y += barH + gap;
        continue;
      }
      const bar = (x0, v, lo, hi, max, label) => {
        const w = (v / max) * panelW;
        parts.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
        if (lo != null && hi != null && hi > lo) {
          const a = x0 + (lo / max) * panelW;
          const b = x0 + (hi / max) * panelW;
          const my = y + barH / 2;
          parts.push(`<path d="M${a.toFixed(1)} ${my}H${b.toFixed(1)}M${a.toFixed(1)} ${my - 3}V${my + 3}M${b.toFixed(1)} ${my - 3}V${my + 3}" stroke="#000" stroke-width="1"/>`);
        }
        text(x0 + Math.max(w, hi != null ? (hi / max) * panelW : 0) + 4, cy, label, 'font-size="10"');
      };
      const flag = s.errors ? ` (${s.errors} errors)` : '';
      bar(colX[0], s.rps.med, s.rps.min, s.rps.max, maxR, `${fmtK(s.rps.med)}${s.xNode != null ? ` (${s.xNode.toFixed(2)}x)` : ''}${flag}`);
      if (s.cpuPerReqUs) bar(colX[1], s.cpuPerReqUs.med, s.cpuPerReqUs.min, s.cpuPerReqUs.max, maxC, `${fmtCpu(s.cpuPerReqUs.med)} us`);
      y += barH + gap;
    }
  }
  y += 20;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`
  );
}

module.exports = { chart };
