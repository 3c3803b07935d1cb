'use strict';
// A memory probe around the benchmark's own nova-http server (bench/servers/nova.js, loaded here, so the same
// handler, options and NOVA_* variables): every 100 ms it samples process.memoryUsage() and V8's heap spaces, and
// keeps the sample taken at the highest RSS; an IPC message 'reset' starts over, 'report' answers with that sample,
// 'exit' ends the process. Run by bench/memory/run.js, which reads the port from the server's READY line.
const path = require('node:path');
const v8 = require('node:v8');

// Batches walked and requests handled, to tell how many requests one JS batch holds. (Counted on the Dispatcher's
// prototype before the server exists: the wrapper sees every batch.)
const root = process.env.NOVA_ROOT || path.join(__dirname, '..', '..');
let batches = 0;
let requests = 0;
const { Dispatcher } = require(path.join(root, 'dist', 'dispatch.js'));
const walk = Dispatcher.prototype.walk;
Dispatcher.prototype.walk = function (bytes, meta, count) {
  batches++;
  return walk.call(this, bytes, meta, count);
};
const request = Dispatcher.prototype.request;
Dispatcher.prototype.request = function (...args) {
  requests++;
  return request.apply(this, args);
};

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
    process.exit(0);
  }
});

process.env.NOVA_IO_MODEL ||= 'evented';  // the default model, as nova-evented in bench/run.js
require('../servers/nova.js');
