// The soak scripts' server child: test/soak/server.mjs forked with its options, and questions to it over IPC
// ({ id, type } out, the answer with the same id back), shared by soak.mjs, flood-repeat.mjs and hostile-rss.mjs.
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.mjs');

/**
 * Forks server.mjs with `options` (execArgv: the child's node flags; the parent's when not given) and resolves
 * once it listens, with { child, port, pid, ask(type) }; ask resolves with the child's answer.
 */
export async function startServer(options, execArgv) {
  const child = fork(serverScript, [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(execArgv ? { execArgv } : {}),
  });
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the server child exited (${code}) before listening`)));
  });
  let id = 0;
  const ask = (type) => new Promise((resolve) => {
    const my = ++id;
    const on = (m) => {
      if (m.id !== my) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ id: my, type });
  });
  return { child, port: ready.port, pid: ready.pid, ask };
}
