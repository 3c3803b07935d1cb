#!/usr/bin/env node
// Differential testing of nova-http's request parsing against llhttp (the parser inside node:http): every input of
// test/differential/inputs.mjs (the parser corpus and variants of it) goes, on a fresh loopback connection of its
// own, to a nova-http server and to a node:http server in this process. Both handlers record what they were given
// (method, target, version, raw header lines, body, trailers) by the client's port, and the client records which
// statuses came back and whether the server closed. The two outcomes are compared and every difference is sorted
// into a kind:
//   nova-stricter   nova-http refuses (or stops dispatching) where node:http dispatches the request
//   nova-laxer      nova-http dispatches a request node:http refuses
//   nova-waits      node:http refuses, nova-http is still waiting for the rest of the head
//   node-waits      nova-http refuses, node:http is still waiting
//   parse           both dispatch it, with a different method, target, version, fields, body or trailers
//   status          both refuse it, with different statuses
// and explained by the first rule of `reasons` (reasons.mjs) that matches it. A difference no rule explains is
// "unexplained": a bug in one of the parsers until a rule says why it is right.
//
//   node test/differential/run.mjs            run, print the counts and every unexplained difference
//   node test/differential/run.mjs --check    also exit 1 when a difference is not in expected.json (or differs)
//   node test/differential/run.mjs --write    also (re)write expected.json and docs/differential.md
//   --mutations=N (default 4)  --only=<id substring>  --json (a summary on the last line, for the vitest wrapper)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allInputs, corpusCases } from './inputs.mjs';
import { explain, reasons } from './reasons.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const expectedFile = path.join(here, 'expected.json');
const docFile = path.join(root, 'docs/differential.md');

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split(/=(.*)/s);
  return [k, v ?? true];
}));
const CONCURRENCY = 24;
const QUIET_MS = 60;     // settled: nothing received for this long, and every dispatched request answered
const QUIET_MAX_MS = 250; // settled: nothing received for this long, whatever is still pending
const CONFIRM_QUIET_MS = 300; // a difference is confirmed again, with longer waits, before it counts

const { createServer } = await import(path.join(process.env.NOVA_ROOT || root, 'dist/index.js'));

// ---------------------------------------------------------------------------------------------------------------
// The two servers. Each handler records the request under the client's port, reads the body, answers "ok".

function recorder() {
  const byPort = new Map();
  const handler = (req, res) => {
    const port = req.socket?.remotePort;
    const rec = {
      method: req.method, target: req.url, version: req.httpVersion, headers: [...req.rawHeaders],
      body: '', complete: false, trailers: [],
    };
    if (!byPort.has(port)) byPort.set(port, []);
    byPort.get(port).push(rec);
    req.on('data', (c) => (rec.body += Buffer.isBuffer(c) ? c.toString('latin1') : c));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      rec.complete = true;
      rec.trailers = [...(req.rawTrailers ?? [])];
      res.setHeader('Content-Length', '2');
      res.end('ok');
      rec.answered = true;
    });
  };
  return { byPort, handler };
}

// CONNECT goes to 'connect' in both servers (and the socket is destroyed when nobody listens): record it like a
// request. What follows the head is tunnel data, so its body is left empty.
function recordConnect(r) {
  return (req, socket) => {
    const port = socket.remotePort;
    if (!r.byPort.has(port)) r.byPort.set(port, []);
    r.byPort.get(port).push({ method: req.method, target: req.url, version: req.httpVersion,
      headers: [...req.rawHeaders], body: '', complete: true, trailers: [], answered: true, tunnel: true });
    socket.on('error', () => {});
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  };
}

async function startNova() {
  const r = recorder();
  const server = createServer({}, r.handler);
  server.on('clientError', () => {});
  // Both answer 417 to an expectation nobody listens for: compare the parsing, as for node below.
  server.on('checkExpectation', r.handler);
  server.on('connect', recordConnect(r));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name: 'nova', server, port: server.address().port, byPort: r.byPort };
}

async function startNode() {
  const r = recorder();
  const server = http.createServer({}, r.handler);
  // Server policy, not parsing: node:http (and nova-http) answer 417 to an expectation they do not know unless this
  // is listened for. Compare the parsing only.
  server.on('checkExpectation', r.handler);
  server.on('connect', recordConnect(r));
  server.on('clientError', (err, socket) => {
    // node:http's own answer (400 / 431 / 413, see _http_server.js), noted with the parser's error code.
    const port = socket.remotePort;
    if (port !== undefined) codes.set(`${port}`, err.code);
    if (socket.writable && !socket._httpMessage) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name: 'node', server, port: server.address().port, byPort: r.byPort };
}
const codes = new Map(); // node:http's clientError codes by client port

// ---------------------------------------------------------------------------------------------------------------
// One input on one server.

function runOne(srv, input, quietMs, quietMaxMs) {
  return new Promise((resolve) => {
    const s = net.connect({ port: srv.port, host: '127.0.0.1' });
    const chunks = [];
    let closed = false;
    let last = Date.now();
    let port;
    let timer;
    const finish = () => {
      clearInterval(timer);
      const recs = srv.byPort.get(port) ?? [];
      srv.byPort.delete(port);
      const code = srv.name === 'node' ? codes.get(`${port}`) : undefined;
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1])).filter((x) => x !== 100);
      const error = statuses.find((x) => x >= 400) ?? null;
      resolve({
        requests: recs.map(({ answered, ...r }) => r), // eslint-disable-line no-unused-vars
        error,
        closed,
        code,
        refused: error !== null || code !== undefined,
      });
    };
    s.on('connect', () => {
      port = s.localPort;
      if (srv.name === 'node') codes.delete(`${port}`); // left by an earlier connection from the same port
      s.write(input);
      last = Date.now();
      timer = setInterval(() => {
        const quiet = Date.now() - last;
        const recs = srv.byPort.get(port) ?? [];
        if (closed || quiet >= quietMaxMs || (quiet >= quietMs && recs.every((r) => r.answered))) finish();
      }, 10);
    });
    s.on('data', (d) => {
      chunks.push(d);
      last = Date.now();
    });
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      last = Date.now();
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

const FIELDS = ['method', 'target', 'version', 'headers', 'body', 'complete', 'trailers'];

/**
 * The outcome as compared: `refused` when the server answered with an error status or (node:http) its parser
 * reported an error; a last request whose body was cut short by that refusal counts as refused, not dispatched
 * (node:http dispatches at the end of the head and fails the body later; nova-http does not call the handler for a
 * request whose body failed in the same read).
 */
function normalized(o) {
  let requests = o.requests;
  if (o.refused && requests.length && !requests[requests.length - 1].complete) requests = requests.slice(0, -1);
  return { ...o, requests };
}

/** null when the outcomes agree, else { kind, at, fields }. */
export function compare(novaRaw, nodeRaw) {
  const nova = normalized(novaRaw);
  const node = normalized(nodeRaw);
  const n = Math.min(nova.requests.length, node.requests.length);
  for (let i = 0; i < n; i++) {
    const a = nova.requests[i];
    const b = node.requests[i];
    const fields = FIELDS.filter((f) => !(b.tunnel && (f === 'body' || f === 'complete')) &&
      JSON.stringify(a[f]) !== JSON.stringify(b[f]));
    if (fields.length) return { kind: 'parse', at: i, fields };
  }
  if (nova.requests.length < node.requests.length) {
    return { kind: nova.refused || nova.closed ? 'nova-stricter' : 'nova-waits', at: n };
  }
  if (nova.requests.length > node.requests.length) {
    // One more request, whose body nova-http is still reading while node:http (which dispatched it too) refused the
    // body: nova-http has not accepted that body yet.
    const waiting = !nova.refused && !nova.closed && nova.requests.length === n + 1 && !nova.requests[n].complete &&
      nodeRaw.requests.length === n + 1;
    return { kind: waiting ? 'nova-waits' : node.refused || node.closed ? 'nova-laxer' : 'node-waits', at: n };
  }
  if (nova.refused && node.refused) {
    // node:http cannot answer while a response is under way: it only closes. Any status of nova-http matches that.
    return nova.error === node.error || node.error === null ? null : { kind: 'status', at: n };
  }
  if (nova.refused) return { kind: node.closed ? 'nova-stricter' : 'node-waits', at: n };
  if (node.refused) return { kind: nova.closed ? 'nova-laxer' : 'nova-waits', at: n };
  return null; // the same requests, neither refused: a close on one side only is a keep-alive matter, not parsing
}

function describeOutcome(o) {
  const reqs = o.requests.map((r) => `${r.method} ${r.target}${r.complete ? '' : ' (body incomplete)'}`);
  const end = o.error !== null ? `${o.error}` : o.closed ? 'closed' : 'waiting';
  return `${reqs.length ? `${reqs.join(', ')}; ` : ''}${end}${o.code ? ` (${o.code})` : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------

async function pool(items, n, f) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) {
      const k = i++;
      await f(items[k], k);
    }
  }));
}

async function main() {
  const t0 = Date.now();
  const mutations = args.mutations === undefined ? 4 : Number(args.mutations);
  let inputs = allInputs({ mutations });
  if (args.only) inputs = inputs.filter((x) => x.id.includes(args.only));
  const nova = await startNova();
  const node = await startNode();

  const results = new Array(inputs.length);
  await pool(inputs, CONCURRENCY, async (inp, k) => {
    const [a, b] = await Promise.all([runOne(nova, inp.input, QUIET_MS, QUIET_MAX_MS),
      runOne(node, inp.input, QUIET_MS, QUIET_MAX_MS)]);
    results[k] = { a, b };
  });
  // Confirm each difference alone and with longer waits (a loaded machine can make a quiet period look settled).
  const differing = inputs.map((_, k) => k).filter((k) => compare(results[k].a, results[k].b) !== null);
  await pool(differing, CONCURRENCY / 2, async (k) => {
    const [a, b] = await Promise.all([runOne(nova, inputs[k].input, CONFIRM_QUIET_MS, CONFIRM_QUIET_MS * 2),
      runOne(node, inputs[k].input, CONFIRM_QUIET_MS, CONFIRM_QUIET_MS * 2)]);
    results[k] = { a, b };
  });
  // A difference that is not documented is run once more, alone and with long waits, before it is reported: on a
  // loaded machine a slow answer must not pass for a different one.
  if (args.check) {
    const expected = loadExpected();
    const again = differing.filter((k) => expected[inputs[k].id]?.kind !== compare(results[k].a, results[k].b)?.kind);
    await pool(again, 8, async (k) => {
      const [a, b] = await Promise.all([runOne(nova, inputs[k].input, 1000, 2000),
        runOne(node, inputs[k].input, 1000, 2000)]);
      results[k] = { a, b };
    });
  }
  const confirmed = differing.length;
  nova.server.close();
  node.server.closeAllConnections?.();
  node.server.close();

  const diffs = [];
  for (let k = 0; k < inputs.length; k++) {
    const d = compare(results[k].a, results[k].b);
    if (d === null) continue;
    const inp = inputs[k];
    const entry = { id: inp.id, input: inp.input.toString('latin1'), ...d, nova: results[k].a, node: results[k].b };
    entry.reason = explain(entry);
    diffs.push(entry);
  }
  const seconds = (Date.now() - t0) / 1000;
  report(inputs, diffs, seconds, confirmed);
}

/** A latin1 string as a JSON string literal with bytes >= 0x7f as \xHH (JSON.stringify leaves them raw). */
function literal(s, max = 160) {
  const t = s.length > max ? `${s.slice(0, max)}...` : s;
  return JSON.stringify(t).replace(/[\u007f-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}

function byKey(xs, key) {
  const m = new Map();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m.entries()].sort((p, q) => q[1] - p[1]);
}

function loadExpected() {
  try {
    return JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
  } catch {
    return {};
  }
}

function report(inputs, diffs, seconds, confirmed) {
  const expected = loadExpected();
  console.log(`differential: ${inputs.length} inputs compared (nova-http vs node:http ${process.versions.llhttp ? `/ llhttp ${process.versions.llhttp}` : ''}) ` +
    `in ${seconds.toFixed(1)} s; ${diffs.length} differences (${confirmed} re-run alone to confirm)`);
  for (const [kind, n] of byKey(diffs, (d) => d.kind)) console.log(`  ${kind}: ${n}`);
  console.log('  by reason:');
  for (const [r, n] of byKey(diffs, (d) => d.reason)) console.log(`    ${n} ${r}`);

  const unexplained = diffs.filter((d) => d.reason === 'unexplained');
  for (const d of unexplained) {
    console.log(`UNEXPLAINED ${d.kind} ${d.id}\n    input ${literal(d.input)}\n    nova: ${describeOutcome(d.nova)}` +
      `\n    node: ${describeOutcome(d.node)}${d.fields ? `\n    fields: ${d.fields.join(', ')}` : ''}`);
    if (d.kind === 'parse') {
      const i = d.at;
      for (const f of d.fields) {
        console.log(`      ${f}: nova ${JSON.stringify(d.nova.requests[i][f])} node ${JSON.stringify(d.node.requests[i][f])}`);
      }
    }
  }

  // Against expected.json: every difference must be listed with the same kind and reason.
  const undocumented = diffs.filter((d) => expected[d.id]?.kind !== d.kind || expected[d.id]?.reason !== d.reason);
  const found = new Set(diffs.map((d) => d.id));
  const gone = Object.keys(expected).filter((id) => !found.has(id));
  for (const d of undocumented) {
    console.log(`NOT IN expected.json: ${d.id} (${d.kind}, ${d.reason}; expected ${JSON.stringify(expected[d.id] ?? null)})`);
  }
  if (gone.length) console.log(`note: ${gone.length} documented differences did not appear this time: ${gone.slice(0, 10).join('; ')}`);

  if (typeof args.dump === 'string') fs.writeFileSync(args.dump, JSON.stringify(diffs, null, 1));
  if (args.write) {
    const out = {};
    for (const d of diffs) out[d.id] = { kind: d.kind, reason: d.reason };
    fs.writeFileSync(expectedFile, `${JSON.stringify(out, null, 1)}\n`);
    fs.writeFileSync(docFile, renderDoc(inputs, diffs));
    console.log(`wrote ${path.relative(root, expectedFile)} and ${path.relative(root, docFile)}`);
  }
  const summary = {
    inputs: inputs.length, differences: diffs.length, unexplained: unexplained.length,
    undocumented: undocumented.map((d) => `${d.id} (${d.kind}, ${d.reason})`), gone: gone.length, seconds,
    kinds: Object.fromEntries(byKey(diffs, (d) => d.kind)),
  };
  if (args.json) console.log(JSON.stringify(summary));
  if (args.check && (undocumented.length || unexplained.length)) process.exitCode = 1;
}

function renderDoc(inputs, diffs) {
  const corpusCount = corpusCases().length;
  const lines = [];
  lines.push('# Differential testing against llhttp');
  lines.push('');
  lines.push('Generated by `npm run test:diff -- --write` (`test/differential/run.mjs`); do not edit by hand. ' +
    'The reasons are written in `test/differential/reasons.mjs`.');
  lines.push('');
  lines.push(`Each input goes on a fresh loopback connection to a nova-http server and to a \`node:http\` server ` +
    `(Node ${process.version}, llhttp ${process.versions.llhttp}), whose handlers record the method, target, version, ` +
    'raw header lines, body and trailers they were given; the client records the statuses it got and whether the ' +
    'server closed. nova-http is meant to be at least as strict as llhttp, and stricter where RFC 9112 says MUST; ' +
    'a difference where nova-http is laxer or parses differently is a bug unless its reason below says why it is ' +
    'right. `test/differential.test.ts` fails on any difference not listed here (`test/differential/expected.json`).');
  lines.push('');
  lines.push(`Inputs: ${inputs.length}: the ${corpusCount} cases of \`test/corpus/*.txt\` and, per case, its field names ` +
    `in random case, random OWS, and ${args.mutations ?? 4} random mutations (an input whose bytes repeat an earlier one ` +
    `is compared once). Differences: ${diffs.length}.`);
  lines.push('');
  lines.push('| kind | count |');
  lines.push('| --- | --- |');
  for (const [kind, n] of byKey(diffs, (d) => d.kind)) lines.push(`| ${kind} | ${n} |`);
  lines.push('');
  lines.push('Kinds: **nova-stricter** nova-http refuses (or stops) where node:http dispatches; **nova-laxer** the ' +
    'reverse; **node-waits** nova-http refuses while node:http still waits for more bytes; **nova-waits** the ' +
    'reverse; **status** both refuse, with different statuses; **parse** both dispatch, with different results.');
  lines.push('');
  const esc = (s) => literal(s, 140).replace(/\|/g, '\\|');
  for (const [reason, n] of byKey(diffs, (d) => d.reason)) {
    const r = reasons.find((x) => x.key === reason);
    lines.push(`## ${r ? r.title : reason} (${n})`);
    lines.push('');
    if (r) lines.push(r.why);
    lines.push('');
    lines.push('| input | kind | nova-http | node:http |');
    lines.push('| --- | --- | --- | --- |');
    for (const d of diffs.filter((x) => x.reason === reason)) {
      lines.push(`| \`${d.id.replace(/\|/g, '\\|')}\`<br>\`${esc(d.input)}\` | ${d.kind} | ` +
        `${describeOutcome(d.nova).replace(/\|/g, '\\|')} | ${describeOutcome(d.node).replace(/\|/g, '\\|')} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
