#!/usr/bin/env node
// Smoke check of whichever addon build node-gyp-build picks (build/Release, or prebuilds/ with PREBUILDS_ONLY=1):
// it loads, and when dist/ is built, a server answers two requests on one kept-alive connection.
// Used by .ci/run after every build route, by scripts/win-test.js under wine with a Windows node.exe and by
// scripts/arm64-test.js under qemu with an arm64 node.
//   node .ci/smoke.js [--expect=<substring of the addon's path>]
'use strict';

const path = require('path');
const fs = require('fs');
const http = require('http');

const root = path.resolve(__dirname, '..');
const expect = (process.argv.find((a) => a.startsWith('--expect=')) || '').slice('--expect='.length);

function fail(msg) {
  console.error(`smoke: FAIL ${msg}`);
  process.exit(1);
}

const timer = setTimeout(() => fail('timed out after 20 s'), 20000);

const gypBuild = require('node-gyp-build');
const file = gypBuild.resolve(root);
if (expect && !file.split(path.sep).join('/').includes(expect)) fail(`loaded ${file}, expected a path with "${expect}"`);
const addon = gypBuild(root);
console.log(`smoke: loaded ${path.relative(root, file)} (${process.platform}-${process.arch}, exports: ${Object.keys(addon).join(', ') || 'none'})`);

const dist = path.join(root, 'dist', 'index.js');
let api;
if (fs.existsSync(dist)) api = require(dist);
if (!api || typeof api.createServer !== 'function') {
  console.log('smoke: dist/index.js has no createServer yet; load check only');
  clearTimeout(timer);
  return;
}

function get(agent, port, pathname) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, socket: req.socket }));
    });
    req.on('error', reject);
  });
}

(async () => {
  const server = api.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`ok ${req.method} ${req.url}`);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const a = await get(agent, port, '/one');
  const b = await get(agent, port, '/two');
  if (a.status !== 200 || a.body !== 'ok GET /one') fail(`first response: ${a.status} ${JSON.stringify(a.body)}`);
  if (b.status !== 200 || b.body !== 'ok GET /two') fail(`second response: ${b.status} ${JSON.stringify(b.body)}`);
  if (a.socket !== b.socket) fail('the second request did not reuse the connection');
  agent.destroy();
  await new Promise((resolve) => server.close(resolve));
  clearTimeout(timer);
  console.log(`smoke: server on port ${port} answered 2 requests on one connection; closed`);
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
