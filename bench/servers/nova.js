'use strict';
// nova-http hello world, the same handler as node-http.js, loaded from this repository (require of the repo root).
// NOVA_IO_MODEL: 'blocking' | 'evented' (passed as the ioModel option); NOVA_THREADS: the threads option, if set.
// NOVA_ROOT: the nova-http package to load (default: this repository), e.g. a copy of a build to compare against.
// NOVA_KEEPALIVE=off: the handler writes `Connection: close`, so the server closes after every response
// (the original document's Phase 1 baseline: a new connection per request). The handler header is used rather than
// maxRequestsPerSocket: 1 because it needs no option support and goes through the same keep-alive decision
// a real application's `Connection: close` would.
const path = require('node:path');
const { HOST, PORT, BODY, ready, unavailable } = require('./_common');

const ioModel = process.env.NOVA_IO_MODEL || 'blocking';
const keepAlive = process.env.NOVA_KEEPALIVE !== 'off';
const threads = process.env.NOVA_THREADS === undefined ? undefined : Number(process.env.NOVA_THREADS);
const root = process.env.NOVA_ROOT || path.join(__dirname, '..', '..');

let nova;
try {
  nova = require(root);
} catch (e) {
  const msg =
    e.code === 'MODULE_NOT_FOUND' && e.message.includes(root)
      ? 'not built (npm run build)'
      : /No native build was found/.test(e.message)
        ? 'native addon not built (npm run build)'
        : e.message;
  unavailable(`nova-http does not load from ${root}: ${msg.split('\n')[0]}`);
}
if (typeof nova.createServer !== 'function') unavailable('nova-http exports no createServer');

const LEN = String(Buffer.byteLength(BODY));
const headers = keepAlive
  ? { 'Content-Type': 'text/plain', 'Content-Length': LEN }
  : { 'Content-Type': 'text/plain', 'Content-Length': LEN, Connection: 'close' };

let server;
try {
  server = nova.createServer(threads === undefined ? { ioModel } : { ioModel, threads }, (req, res) => {
    res.writeHead(200, headers);
    res.end(BODY);
  });
} catch (e) {
  unavailable(`createServer({ ioModel: '${ioModel}' }) throws: ${e.message}`);
}
// A server that reports its model must report the one asked for (no silent fallback measured under a wrong name).
if (typeof server.ioModel === 'string' && server.ioModel !== ioModel) {
  unavailable(`asked for ioModel '${ioModel}', got '${server.ioModel}'`);
}
server.on('error', (e) => unavailable(`${ioModel} server error: ${e.message}`));
try {
  server.listen(PORT, HOST, () => {
    const a = server.address();
    ready(a && typeof a === 'object' ? a.port : PORT);
  });
} catch (e) {
  unavailable(`listen (ioModel '${ioModel}') throws: ${e.message}`);
}
