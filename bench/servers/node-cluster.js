'use strict';
// node:http under node:cluster with 2 workers (default scheduling: the primary accepts and hands connections
// round-robin to the workers). READY is printed by the primary once every worker listens.
const cluster = require('node:cluster');
const { HOST, PORT, ready } = require('./_common');
const WORKERS = Number(process.env.CLUSTER_WORKERS || 2);

if (cluster.isPrimary) {
  let listening = 0;
  let port = 0;
  cluster.on('listening', (w, address) => {
    port = address.port;
    if (++listening === WORKERS) ready(port);
  });
  cluster.on('exit', (w, code, signal) => {
    if (!w.exitedAfterDisconnect && code !== 0) process.stderr.write(`worker ${w.process.pid} died (${code ?? signal})\n`);
  });
  // PORT must be fixed for the workers to share one listening socket (the harness always passes one).
  for (let i = 0; i < WORKERS; i++) cluster.fork({ PORT: String(PORT) });
  process.on('SIGTERM', () => {
    for (const id in cluster.workers) cluster.workers[id].process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  require('./node-http');
}
