'use strict';
// Shared by the Node-run server scripts: where to listen, how to tell the harness we are ready (or can't be).
// Protocol with bench/lib/spawn.js: one line on stdout, `READY <port>` once listening, or
// `UNAVAILABLE <reason>` followed by exit code 3 when the server does not exist yet / can't load.

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT || 0);
const BODY = 'Hello World';

function ready(port) {
  process.stdout.write(`READY ${port}\n`);
}

function unavailable(reason) {
  process.stdout.write(`UNAVAILABLE ${String(reason).split('\n')[0]}\n`);
  process.exit(3);
}

// The harness stops servers with SIGTERM; exit at once (no graceful drain needed for a benchmark).
// Each way out leaves a line on stderr, which the harness shows when a server dies during a cell.
process.on('SIGTERM', () => {
  process.stderr.write('server: SIGTERM received\n');
  process.exit(0);
});
// SIGUSR2: one `USAGE {...}` line with the process's context switches (getrusage counts every thread, also those
// that already exited, which /proc/<pid>/task does not): the harness asks before and after a measured window.
process.on('SIGUSR2', () => {
  const u = process.resourceUsage();
  process.stdout.write(`USAGE ${JSON.stringify({ vcs: u.voluntaryContextSwitches, ivcs: u.involuntaryContextSwitches })}\n`);
});
process.on('beforeExit', () => process.stderr.write('server: the event loop is empty (nothing keeps the process alive)\n'));
process.on('exit', (code) => process.stderr.write(`server: exit ${code}\n`));

module.exports = { HOST, PORT, BODY, ready, unavailable };
