#!/usr/bin/env node
// `npm run test:tsan`: the addon built with ThreadSanitizer into build-tsan/, then test/valgrind/requests.js and the
// vitest suite (every behaviour test runs in both I/O models: blocking threads and evented loop threads) against
// it, node started with libtsan preloaded. Node itself is not instrumented, so only the addon's accesses are
// watched; a report whose stack has no frame in the addon is counted and ignored, any other fails the run.
// Same machinery as scripts/test-asan.js:
//   node scripts/test-tsan.js [--no-build] [--all] [--strict] [vitest args...]
'use strict';

const path = require('path');
const { sanitizerRun } = require('./test-asan.js');

sanitizerRun({
  name: 'test:tsan',
  kind: 'thread',
  outDir: 'build-tsan',
  runtime: 'libtsan.so',
  optionsVar: 'TSAN_OPTIONS',
  // halt_on_error=0, exitcode=0: collect every report of the run and judge them from the logs (Node's own races,
  // e.g. in V8's platform threads, are reported too); report_signal_unsafe=0: Node's signal handlers call what
  // they like.
  options: ['halt_on_error=0', 'exitcode=0', 'report_signal_unsafe=0', 'second_deadlock_stack=1',
    ...['/usr/bin/llvm-symbolizer'].filter((f) => require('fs').existsSync(f)).map((f) => `external_symbolizer_path=${f}`),
    `suppressions=${path.join(__dirname, '..', 'test', 'tsan.supp')}`],
  extraEnv: {},
  vitestTimeoutMs: 1_200_000,
  // Throughput, latency and RSS bounds under load: TSan's 5-15x slowdown and memory fail those, not the code.
  slowUnder: ['test/hostile-floods.test.ts', 'test/hostile-slow.test.ts', 'test/backpressure.test.ts',
    'test/scale-concurrent.test.ts', 'test/timers-accuracy.test.ts'],
  slowTests: ['a streamed chunked response of 10 MB arrives intact'],
  // Under TSan more timing-bound assertions fail from one run to the next (10 MB to a slow reader within 15 s,
  // RSS back to baseline, which of two racing client events lands first): the suite is here to drive the
  // threads, and the run fails on a race report (or a crash of requests.js); --strict counts test failures too.
  testsDecide: false,
}).then((code) => { process.exitCode = code; }, (e) => {
  console.error(e);
  process.exitCode = 1;
});
