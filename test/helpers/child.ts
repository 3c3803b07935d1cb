// Child processes for tests that need a fresh node (process exit, worker threads): the built package's path and a
// runner for an ES module given as text.
import { spawn, spawnSync } from 'node:child_process';
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

const toolWarned = new Set<string>();

/**
 * Whether an external client a test needs (curl, ab) is on PATH. When it is missing the test should be skipped:
 * a line says what to install, so a fresh machine's `npm test` passes and says what it did not run. Under CI=true
 * (.ci/run installs every client) this says true anyway: the test runs and fails on the missing program.
 */
export function externalTool(cmd: string, debianPackage: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0) return true;
  if (process.env.CI === 'true' || process.env.CI === '1') return true;
  if (!toolWarned.has(cmd)) {
    toolWarned.add(cmd);
    console.warn(`SKIPPED: the tests that run '${cmd}' (not found; install it with: apt-get install ${debianPackage})`);
  }
  return false;
}
