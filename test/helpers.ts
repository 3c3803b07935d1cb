// The behaviour tests' helpers, one file each under test/helpers/ by what they help with; this index re-exports
// them so that a test imports from './helpers.js' alone.
//   models   the I/O models every behaviour test runs in (describe.each(ioModels))
//   async    sleep, deferred, waitFor, withTimeout
//   servers  startServer on 127.0.0.1:0, closeServer, cleanup (afterEach), readBody
//   client   RawClient (exact bytes out, every byte back), exchange, rawExchange
//   split    splitResponses: received bytes into responses by their own framing
//   wire     the expected response bytes of docs/architecture.md, normalize (Date), get()
//   child    runChild (an ES module in a new node process), distPath
//   keep-alive-cases  the keep-alive matrix (HTTP version x Connection field -> persists or not)
//   hostile  the hostile-client tests' server child, well-behaved client and baseline check (imported directly)
export * from './helpers/models.js';
export * from './helpers/async.js';
export * from './helpers/servers.js';
export * from './helpers/client.js';
export * from './helpers/split.js';
export * from './helpers/wire.js';
export * from './helpers/child.js';
export * from './helpers/keep-alive-cases.js';
