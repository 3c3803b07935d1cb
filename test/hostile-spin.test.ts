// Hostile clients that try to make the server spin a core: a reset on a connection the server is not reading
// (a hang-up reported with no interest registered, level-triggered), and a flood of connections past the
// descriptor limit (accept() failing with EMFILE while the listener stays readable). The server runs in a child
// process (test/hostile-helpers.ts); its CPU time is read from /proc while the attack holds, and it must serve a
// new client once the attack is over.
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, ioModels, modelName, RawClient, sleep } from './helpers.js';
import { Bystander, ChildServer, expectServed, note, probe } from './helpers/hostile.js';

afterEach(cleanup);


// A spinning loop burns a whole core: ~1000 ms of CPU per second of wall time. An idle server with a bystander
// asking every 50 ms measured 10-60 ms per second here; the bound leaves room for a loaded machine.
const CPU_BOUND_MS_PER_S = 350;

/** CPU (ms) the child used over `ms` of wall time. */
async function cpuOver(server: ChildServer, ms: number): Promise<number> {
  const c0 = server.cpuMs();
  await sleep(ms);
  return server.cpuMs() - c0;
}

describe.each(ioModels)('hostile: nothing makes the server spin (%o)', (model) => {
  let server: ChildServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  test('a client that resets while its request waits for a slow handler, reading stopped: no busy loop',
    async () => {
      server = await ChildServer.start({ ...model });
      // Connection: close stops reading after the request (nothing after it is processed): the socket is
      // registered for nothing while the handler takes its time, and the reset is reported anyway.
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(server!.port)));
      await Promise.all(clients.map((c) => c.write('GET /slow?ms=2500 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')));
      await sleep(200); // dispatched
      for (const c of clients) c.resetNow();
      await sleep(100);
      const cpu = await cpuOver(server, 1500);
      note(`${modelName(model)}: CPU while 4 reset clients wait for their handlers: ${cpu} ms in 1500 ms`);
      expect(cpu, 'CPU used (ms) over 1.5 s while reset connections wait').toBeLessThan(CPU_BOUND_MS_PER_S * 1.5);
      expect(await probe(server.port, '/after')).toBe('/after');
      expect(server.alive).toBe(true);
    });

  test('more connections than descriptors (EMFILE): no busy loop while out of fds, serving again once they free',
    async () => {
      // 160 descriptors: node itself holds ~30, the rest go to accepted sockets (and threads' nothing).
      server = await ChildServer.start({ ...model }, { nofile: 160 });
      const port = server.port;
      const bystander = await Bystander.start(port, 50, 5000);
      const clients: RawClient[] = [];
      // Connections beyond the limit still complete (the kernel's backlog) and wait there.
      for (let i = 0; i < 200; i++) clients.push(await RawClient.connect(port));
      await sleep(300);
      const fds = server.usage().fds;
      const cpu = await cpuOver(server, 1500);
      note(`${modelName(model)}: out of fds (${fds} open): CPU ${cpu} ms in 1500 ms`);
      expect(fds, 'the server ran out of descriptors').toBeGreaterThanOrEqual(150);
      expect(cpu, 'CPU used (ms) over 1.5 s while accept() fails with EMFILE').toBeLessThan(CPU_BOUND_MS_PER_S * 1.5);
      for (const c of clients) c.destroy();
      // Once fds are free again, new clients are served (the backoff retries the listener).
      expect(await probe(port, '/after-emfile', 5000)).toBe('/after-emfile');
      expectServed(await bystander.stop());
    });
});
