// Child processes for tests that need a fresh node (process exit, worker threads): the built package's path and a
// runner for an ES module given as text.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built package, for tests that load it in another process or thread. */
export const distPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/index.js');

export interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `code` as an ES module in a new node process; killed after timeoutMs. */
export function runChild(code: string, timeoutMs = 10000): Promise<ChildResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (exitCode, signal) => {
      clearTimeout(t);
      resolve({ code: exitCode, signal, stdout, stderr, ms: Date.now() - start });
    });
  });
}
