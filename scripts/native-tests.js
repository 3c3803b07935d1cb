#!/usr/bin/env node
// The native test runner (`npm run test:native`; test/native.test.ts runs it under vitest): builds every
// test/native/*_test.cc as a standalone program with ASan + UBSan into test/native/bin/, runs each from the repo
// root, and exits non-zero if any build or test fails.
//
//   node scripts/native-tests.js [--rebuild] [--target=<zig triple>] [name ...]   e.g. `... parser`
//
// --target=x86_64-linux-musl / aarch64-linux-musl (CI's musl step): the same tests as static musl executables built
// with Zig (scripts/zig.js; no sanitizers there), into test/native/bin/<target>/; aarch64 ones run under
// qemu-aarch64 (apt: qemu-user). They check that native/core builds and behaves with musl and libc++ on each CPU.
//
// A test names the native/core files it links on a line near its top: `// deps: parser keep_alive`. Linking only
// those (not every native/core/*.cc) keeps a half-written, unrelated core file from breaking every test.
// A binary is rebuilt only when it is older than its test, its deps or any header under native/core and test/native,
// or when the compile command changed. CXX overrides the compiler (default g++).
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const TEST_DIR = path.join(ROOT, 'test', 'native');
const CORE_DIR = path.join(ROOT, 'native', 'core');
const TARGET = (process.argv.find((a) => a.startsWith('--target=')) || '').slice('--target='.length);
const BIN_DIR = path.join(TEST_DIR, 'bin', ...(TARGET ? [TARGET] : []));
// With --target: `zig c++ -target T -static`, run directly (x86_64) or under qemu-aarch64.
const CXX = TARGET ? require('./zig').zig() : process.env.CXX || 'g++';
const CXX_PREFIX = TARGET ? ['c++', '-target', TARGET, '-static'] : [];
const RUNNER = TARGET.startsWith('aarch64') ? ['qemu-aarch64'] : [];
const CXX_ENV = TARGET ? require('./zig').zigEnv() : process.env;
// -fno-sanitize-recover: UBSan only prints by default; a finding must fail the test.
const SANITIZE = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-g'];
const FLAGS = ['-std=c++17', '-O1', ...(TARGET ? [] : SANITIZE), '-Wall', '-Wextra', '-I', CORE_DIR];
const TEST_TIMEOUT_MS = 300_000;
const JOBS = Math.max(1, os.cpus().length);

function rel(p) {
  return path.relative(ROOT, p);
}

// `// deps: a b` within the first lines of the file; no such line means no native/core file.
function readDeps(file) {
  const head = fs.readFileSync(file, 'utf8').split('\n').slice(0, 10);
  const line = head.find((l) => /^\/\/\s*deps:/.test(l));
  if (!line) return [];
  return line.replace(/^\/\/\s*deps:/, '').trim().split(/[\s,]+/).filter(Boolean);
}

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function headers() {
  const out = [];
  for (const dir of [CORE_DIR, TEST_DIR]) {
    for (const n of fs.readdirSync(dir)) if (n.endsWith('.h')) out.push(path.join(dir, n));
  }
  return out;
}

// Runs a command; resolves with { code, signal, output } (stdout and stderr interleaved), never rejects.
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(cmd, args, { cwd: ROOT, env: opts.env || process.env });
    } catch (e) {
      resolve({ code: -1, signal: null, output: String(e) });
      return;
    }
    const timer = opts.timeout ? setTimeout(() => {
      output += `\n(killed after ${opts.timeout / 1000} s)\n`;
      child.kill('SIGKILL');
    }, opts.timeout) : null;
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', (e) => { output += String(e); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

async function pool(items, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(JOBS, items.length) }, worker));
  return results;
}

async function build(test, force) {
  const deps = readDeps(test.src);
  const depFiles = deps.map((d) => path.join(CORE_DIR, `${d}.cc`));
  const missing = depFiles.filter((f) => !fs.existsSync(f));
  if (missing.length) {
    return { ok: false, output: `${rel(test.src)}: deps not found: ${missing.map(rel).join(', ')}\n` };
  }
  const args = [...CXX_PREFIX, ...FLAGS, test.src, ...depFiles, '-o', test.bin];
  const stamp = `${test.bin}.cmd`;
  const command = [CXX, ...args].join(' ');
  const inputs = [test.src, ...depFiles, ...headers()];
  const fresh = !force && fs.existsSync(test.bin) &&
    inputs.every((f) => mtime(f) <= mtime(test.bin)) &&
    fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === command;
  if (fresh) return { ok: true, output: '', cached: true };
  const t0 = Date.now();
  const r = await run(CXX, args, { env: CXX_ENV });
  if (r.code !== 0) {
    try { fs.unlinkSync(test.bin); } catch { /* not built */ }
    return { ok: false, output: `$ ${command}\n${r.output}` };
  }
  fs.writeFileSync(stamp, command);
  return { ok: true, output: r.output, seconds: (Date.now() - t0) / 1000 };
}

async function main() {
  const argv = process.argv.slice(2);
  const force = argv.includes('--rebuild');
  const names = argv.filter((a) => !a.startsWith('--'));
  if (TARGET) console.log(`native-tests: static ${TARGET} executables (zig c++)${RUNNER.length ? `, run under ${RUNNER[0]}` : ''}`);
  let tests = fs.readdirSync(TEST_DIR)
    .filter((n) => n.endsWith('_test.cc'))
    .sort()
    .map((n) => ({
      name: n.replace(/\.cc$/, ''),
      src: path.join(TEST_DIR, n),
      bin: path.join(BIN_DIR, n.replace(/\.cc$/, '')),
    }));
  if (names.length) tests = tests.filter((t) => names.some((n) => t.name === n || t.name === `${n}_test`));
  if (tests.length === 0) {
    console.error(`native-tests: no test/native/*_test.cc${names.length ? ` matching ${names.join(', ')}` : ''}`);
    return 1;
  }
  fs.mkdirSync(BIN_DIR, { recursive: true });

  const t0 = Date.now();
  const env = {
    ...process.env,
    ASAN_OPTIONS: ['detect_leaks=1', 'abort_on_error=0', process.env.ASAN_OPTIONS].filter(Boolean).join(':'),
    UBSAN_OPTIONS: ['print_stacktrace=1', 'halt_on_error=1', process.env.UBSAN_OPTIONS].filter(Boolean).join(':'),
  };
  let failed = 0;
  // Build and run in one pool: a test starts as soon as its own binary is ready.
  await pool(tests, async (t) => {
    const b = await build(t, force);
    if (!b.ok) {
      failed++;
      process.stdout.write(`FAIL build ${t.name}\n${b.output}\n`);
      return;
    }
    if (b.output.trim()) process.stdout.write(`${t.name}: compiler output\n${b.output}\n`);
    const s = Date.now();
    const r = RUNNER.length ? await run(RUNNER[0], [...RUNNER.slice(1), t.bin], { env, timeout: TEST_TIMEOUT_MS })
      : await run(t.bin, [], { env, timeout: TEST_TIMEOUT_MS });
    const secs = ((Date.now() - s) / 1000).toFixed(1);
    const built = b.cached ? 'cached' : `built in ${b.seconds.toFixed(1)} s`;
    if (r.code === 0) {
      process.stdout.write(`ok   ${t.name} (${built}, ran ${secs} s)\n${r.output}`);
    } else {
      failed++;
      const why = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
      process.stdout.write(`FAIL ${t.name} (${why}, ${built}, ran ${secs} s)\n${r.output}\n`);
    }
  });
  const total = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`native-tests: ${tests.length - failed}/${tests.length} passed in ${total} s${TARGET ? ` (${TARGET})` : ''}`);
  return failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(e);
  process.exitCode = 1;
});
