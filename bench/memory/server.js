'use strict';
// The hello-world server of bench/servers/nova.js with a memory probe: every 100 ms it samples process.memoryUsage()
// and V8's heap spaces, and keeps the sample taken at the highest RSS; an IPC message {reset} starts over, {report}
// answers with that sample. Run by bench/memory/run.js.
const path = require('node:path');
const v8 = require('node:v8');

const root = process.env.NOVA_ROOT || path.join(__dirname, '..', '..');
const nova = require(root);
const BODY = 'Hello World';
const headers = { 'Content-Type': 'text/plain', 'Content-Length': String(BODY.length) };
const opts = {};
if (process.env.NOVA_THREADS !== undefined) opts.threads = Number(process.env.NOVA_THREADS);
const server = nova.createServer(opts, (req, res) => {
  res.writeHead(200, headers);
  res.end(BODY);
});

// Batches walked and requests handled, to tell how many requests one JS batch holds.
let batches = 0;
let requests = 0;
const { Dispatcher } = require(path.join(root, 'dist', 'dispatch.js'));
const walk = Dispatcher.prototype.walk;
Dispatcher.prototype.walk = function (bytes, meta, count) {
  batches++;
  return walk.call(this, bytes, meta, count);
};
server.on('request', () => requests++);

function sample() {
  const m = process.memoryUsage();
  const s = { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  for (const sp of v8.getHeapSpaceStatistics()) {
    s[`${sp.space_name}.size`] = sp.space_size;
    s[`${sp.space_name}.used`] = sp.space_used_size;
    s[`${sp.space_name}.physical`] = sp.physical_space_size;
  }
  s.batches = batches;
  s.requests = requests;
  return s;
}

let peak = null;
const timer = setInterval(() => {
  const s = sample();
  if (peak === null || s.rss > peak.rss) peak = s;
}, 100);
process.on('message', (msg) => {
  if (msg === 'reset') {
    peak = null;
    process.send({ ok: true });
  } else if (msg === 'report') {
    process.send({ peak, now: sample() });
  } else if (msg === 'exit') {
    clearInterval(timer);
    server.close();
    process.exit(0);
  }
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
