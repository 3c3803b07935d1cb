'use strict';
// node:http hello world: the baseline every ratio is taken against. Default server options.
// Also the worker of node-cluster.js (a worker does not announce readiness: the primary does).
const http = require('node:http');
const cluster = require('node:cluster');
const { HOST, PORT, BODY, ready } = require('./_common');

const LEN = String(Buffer.byteLength(BODY));
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': LEN });
  res.end(BODY);
});
server.listen(PORT, HOST, () => {
  if (!cluster.isWorker) ready(server.address().port);
});
