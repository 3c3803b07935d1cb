// The parent's side of test/stress/server-child.mjs: starts the child server and sends it commands.
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const childPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'server-child.mjs');

/**
 * Forks a child running a nova-http server with `options`; resolves once it listens, with
 * { port, child, call(cmd, fields?) -> Promise<reply>, close() -> Promise<void> }.
 */
export function startServerProcess(options, { backlog = 511, timeoutMs = 10000 } = {}) {
  const child = fork(childPath, [JSON.stringify({ options, backlog })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const pending = new Map();
  let exited = false;
  child.on('message', (m) => {
    const p = pending.get(m.id);
    if (p) {
      pending.delete(m.id);
      p.resolve(m);
    }
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`the server process exited (${code ?? signal})`));
    pending.clear();
  });
  const call = (cmd, fields = {}) => new Promise((resolve, reject) => {
    if (exited) return reject(new Error('the server process has exited'));
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.send({ id, cmd, ...fields });
  });
  const close = async () => {
    if (exited) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await call('close').catch(() => {});
    await gone;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server process did not listen within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`the server process exited before listening (${code})`));
    });
    const onMessage = (m) => {
      if (m.listening === undefined) return;
      clearTimeout(t);
      child.removeListener('message', onMessage);
      resolve({ port: m.listening, child, call, close });
    };
    child.on('message', onMessage);
  });
}
