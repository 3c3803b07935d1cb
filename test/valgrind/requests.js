#!/usr/bin/env node
// A short request/response workout for memory checkers (scripts/test-valgrind.js runs it under valgrind memcheck;
// scripts/test-asan.js runs it against the ASan build before the suite): a server in each I/O model serves
// keep-alive GETs, pipelined requests, Content-Length and chunked bodies (one of 100 KB), a streamed response,
// HTTP/1.0, a malformed request and a client that resets mid-request; then every server closes and the process
// exits on its own (a handle left open would hang it: the caller's time limit catches that).
//   node test/valgrind/requests.js [blocking|evented|inline ...]   (default: all three)
// NOVA_HTTP_ADDON picks the addon file (lib/binding.ts); dist/ must be built (npm run build:ts).
'use strict';

const http = require('node:http');
const net = require('node:net');
const assert = require('node:assert');
const { createServer } = require('../../dist/index.js');

const MODELS = {
  blocking: { ioModel: 'blocking' },
  evented: { ioModel: 'evented', threads: 1 },
  inline: { ioModel: 'evented', threads: 0 },
};

function handler(req, res) {
  if (req.url === '/stream') {
    res.setHeader('Content-Type', 'text/plain');
    res.write('a');
    res.write('bb');
    res.end('ccc');
    return;
  }
  let n = 0;
  req.on('data', (d) => { n += d.length; });
  req.on('end', () => res.end(`${req.method} ${req.url} ${n}`));
}

function request(agent, port, method, path, body, chunks) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    if (chunks) for (const c of chunks) req.write(c);  // no Content-Length: chunked
    req.end(body);
  });
}

// Writes raw bytes (in pieces when given an array), reads until the server closes.
function raw(port, parts) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d) => { text += d; });
    s.on('end', () => resolve(text));
    s.on('error', reject);
    s.on('connect', async () => {
      for (const p of [].concat(parts)) {
        s.write(p);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

const statusLines = (text) => (text.match(/HTTP\/1\.1 \d{3} /g) || []).length;

async function workout(name, options) {
  const server = createServer(options, handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let count = 0;

  for (let i = 0; i < 10; i++) {
    const r = await request(agent, port, 'GET', `/get/${i}`);
    assert.strictEqual(r.text, `GET /get/${i} 0`);
    count++;
  }
  // Bodies above the request stream's high-water mark (16 KB) make JS pause the native reader; they go on their own
  // connections (agent false): a paused reader is not resumed once the body ends, and the next body on the same
  // connection stalls (reported; lib/request.ts).
  for (const [size, a] of [[1, agent], [10, agent], [1000, agent], [5000, agent], [0, agent], [100_000, false]]) {
    const r = await request(a, port, 'POST', '/len', Buffer.alloc(size, 'x'));
    assert.strictEqual(r.text, `POST /len ${size}`);
    count++;
  }
  for (const [chunks, a] of [[['a'], agent], [['ab', 'cde'], agent], [[Buffer.alloc(40_000, 'y'), 'z'], false]]) {
    const r = await request(a, port, 'PUT', '/chunked', undefined, chunks);
    assert.strictEqual(r.text, `PUT /chunked ${chunks.reduce((n, c) => n + c.length, 0)}`);
    count++;
  }
  const s = await request(agent, port, 'GET', '/stream');
  assert.strictEqual(s.text, 'abbccc');
  count++;
  agent.destroy();

  const get = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;
  const pipelined = Array.from({ length: 8 }, (_, i) => get(`/p${i}`)).join('') + get('/last', 'Connection: close\r\n');
  assert.strictEqual(statusLines(await raw(port, pipelined)), 9);
  count += 9;
  const post = 'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
  const split = await raw(port, [post, '3;x=y\r\nabc\r\n', '0\r\nX-T: 1\r\n\r\n', get('/after', 'Connection: close\r\n')]);
  assert.strictEqual(statusLines(split), 2);
  count += 2;
  assert.strictEqual(statusLines(await raw(port, 'GET /old HTTP/1.0\r\n\r\n')), 1);
  count++;
  assert.match(await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'),
    /^HTTP\/1\.1 400 /);
  count++;
  await new Promise((resolve) => {  // reset mid-request
    const c = net.connect(port, '127.0.0.1', () => {
      c.write('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc');
      setTimeout(() => { c.resetAndDestroy(); resolve(); }, 20);
    });
    c.on('error', () => {});
  });
  count++;

  await new Promise((r) => server.close(r));
  console.log(`${name}: ${count} requests ok`);
}

async function main() {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(MODELS);
  for (const n of names) {
    if (!MODELS[n]) throw new Error(`unknown model ${n} (${Object.keys(MODELS).join(', ')})`);
    await workout(n, MODELS[n]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
