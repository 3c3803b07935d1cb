// Bun.serve hello world; run by the bun binary from the npm package `bun`, not by Node.
// Bun sets Content-Length; a string body would default to `text/plain;charset=utf-8`, so the type is set.
const port = Number(process.env.PORT || 0);
const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch() {
    return new Response('Hello World', { headers: { 'Content-Type': 'text/plain' } });
  },
});
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`READY ${server.port}\n`);
