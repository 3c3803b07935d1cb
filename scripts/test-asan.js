#!/usr/bin/env node
// `npm run test:asan`: builds the addon with ASan + UBSan into build-asan/ (cmake-js, NOVA_SANITIZE), then runs
// test/valgrind/requests.js (every I/O model) and the vitest suite against it: node with the sanitizer runtime
// preloaded, NOVA_HTTP_ADDON pointing lib/binding.ts (the loader) at the sanitized addon. Fails on any sanitizer report
// that concerns the addon. scripts/test-tsan.js runs the same with ThreadSanitizer.
//
//   node scripts/test-asan.js [--no-build] [--all] [--strict] [vitest args...]   e.g. `node scripts/test-asan.js test/pipelining-order.test.ts`
//
// Leaks: LeakSanitizer runs at the exit of every process (vitest's workers get SIGTERM, so a preload, this same
// file, turns that into a normal exit). Suppressions cannot tell Node's allocations from ours: LSan suppresses a
// leak when *any* frame of its stack matches, and every call from JS into the addon runs below v8::internal::
// frames, so `leak:v8::internal::` (or `leak:node::`) would hide our leaks too. Instead every report is written to
// build-asan/logs/ and read here: a leak allocated by the addon (a frame in native/, nova::, Napi::, nova_http.node
// before any frame of running JS, see allocatedByUs) fails the run; the others are Node's and V8's own, counted and
// ignored. test/asan.supp
// only holds what is the addon's by design (module-lifetime allocations at load).
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

// ---- worker preload: `node --require scripts/test-asan.js` inside vitest workers ---------------------------------
if (require.main !== module) {
  if (process.env.NOVA_SAN_WORKER === '1') {
    withoutPreloadForOthers();
    // vitest ends its workers with SIGTERM and a SIGKILL 500 ms later. Dying by the signal skips LeakSanitizer;
    // process.exit() leaves V8's heap undisposed (thousands of "leaks" that take LSan seconds to print, and the
    // SIGKILL lands first). So: drop the IPC channel and let the loop drain, a natural exit that disposes V8 and
    // leaves LSan only real leaks to look at; process.exit() only if something still holds the loop.
    process.on('SIGTERM', () => {
      if (process.connected) process.disconnect();
      setTimeout(() => process.exit(0), 300).unref();
    });
  }
  module.exports = { sanitizerRun, readLogs, buildAddon, run };
  return;
}

// Children of the tests that are node (process-exit and worker tests) keep LD_PRELOAD: they load the sanitized
// addon. Any other program (curl, ab, g++) gets an environment without it: curl hangs under libasan.
function withoutPreloadForOthers() {
  const cp = require('child_process');
  const isNode = (file) => file === process.execPath || /(^|\/)node$/.test(String(file));
  const clean = (opts) => {
    const env = { ...((opts && opts.env) || process.env) };
    delete env.LD_PRELOAD;
    return { ...opts, env };
  };
  // (file, [args], [options], [callback]): the options are the first plain object after the file.
  const wrap = (name, fileIsCommand) => {
    const orig = cp[name];
    cp[name] = function (file, ...rest) {
      if (!fileIsCommand && isNode(file)) return orig.call(this, file, ...rest);
      if (fileIsCommand && typeof file === 'string' && isNode(file.split(' ')[0])) return orig.call(this, file, ...rest);
      let i = 0;
      if (Array.isArray(rest[0]) || rest[0] == null) i = 1;
      if (rest[i] !== null && typeof rest[i] === 'object') rest[i] = clean(rest[i]);
      else rest.splice(i, 0, clean(undefined));
      return orig.call(this, file, ...rest);
    };
  };
  for (const n of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) wrap(n, false);
  for (const n of ['exec', 'execSync']) wrap(n, true);
  require('module').syncBuiltinESMExports();
}

// The script of a dependency's command, from its package.json "bin" (package exports may hide the file).
function bin(pkg, name = pkg) {
  const manifest = require.resolve(`${pkg}/package.json`, { paths: [ROOT] });
  const b = require(manifest).bin;
  return path.join(path.dirname(manifest), typeof b === 'string' ? b : b[name]);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout.trim() : '';
}

// Streams a command's output; resolves its exit code (signals as 128 + n), never rejects.
function run(cmd, args, env, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    const timer = timeoutMs ? setTimeout(() => {
      console.log(`\n${path.basename(args[0] || cmd)}: killed after ${timeoutMs / 1000} s`);
      child.kill('SIGKILL');
    }, timeoutMs) : null;
    child.on('error', (e) => { console.log(String(e)); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve(code ?? 128 + (require('os').constants.signals[signal] || 0));
    });
  });
}

// A frame that belongs to the addon: its sources, its namespaces, node-addon-api, or the .node file itself.
function isOurs(frame) {
  return frame.includes(`${ROOT}/native/`) || / nova::| Napi::|nova_http\.node|node-addon-api\/napi/.test(frame);
}

// Who made a leaked allocation: the first frame of its stack, read from the allocator outwards, that is either the
// addon's or JavaScript running (a builtin, a V8 runtime function, a call into JS). Memory V8 allocates while
// running JS that the addon called (e.g. its write-barrier slot sets, kept until exit) sits above the addon's frames
// in the stack but is V8's; memory the addon asks for, directly or through N-API (napi_create_reference: node's
// frames, then ours, no JS in between), is the addon's.
// V8's own heap bookkeeping is never the addon's, whoever triggered it: the write barrier's remembered-set slot sets
// are referenced only from V8's mmap'ed heap pages (which LeakSanitizer does not scan) and freed with the isolate,
// which node does not tear down at exit; a napi_set_named_property or napi_create_function can allocate one.
function allocatedByUs(report) {
  const js = /\bBuiltins_|\bv8::internal::Runtime_|\bv8::internal::Execution::|\bnapi_call_function\b|\bnapi_make_callback\b/;
  const v8Bookkeeping = /v8::internal::(Heap_CombinedGenerationalAndSharedBarrierSlow|Heap::InsertIntoRememberedSet\w*|MemoryChunk::AllocateSlotSet|MemoryChunk::AllocateTypedSlotSet)\b/;
  const frames = report.split('\n').filter((line) => /^\s+#\d+ /.test(line));
  const allocator = /\/libsanitizer\/|\(lib(asan|ubsan|lsan)[^)]*\.so/;
  const caller = frames.find((line) => !allocator.test(line));
  if (caller && v8Bookkeeping.test(caller)) return false;
  for (const line of frames) {
    if (isOurs(line)) return true;
    if (js.test(line)) return false;
  }
  return false;
}

// The frames of a report's access stacks ("Write of size 8 at ... by thread T3:", "Previous read ..."), each
// reduced to its first frame outside the runtimes (sanitizer interceptors, libc, libstdc++, the loader): the code
// that made the access. Other stacks of a report (heap block, thread creation) say nothing about who raced.
function accessIsOurs(report) {
  const runtime = /\((libtsan|libasan|libubsan|libc|libstdc\+\+|libgcc_s|ld-linux[^)]*)\.so|\/libsanitizer\//;
  let inAccess = false;
  let decided = false;
  for (const line of report.split('\n')) {
    if (/^  \S/.test(line)) {
      inAccess = /^  (Previous )?(atomic )?(read|write|Read|Write)\b.* of size \d+ at /.test(line);
      decided = false;
    } else if (inAccess && !decided && /^\s+#\d+ /.test(line) && !runtime.test(line)) {
      decided = true;
      if (isOurs(line)) return true;
    }
  }
  return false;
}

// Reads every report file: sanitizer errors (always fatal) and leaks (fatal when the stack touches the addon).
function readLogs(dir, kind) {
  const result = { files: 0, errors: [], ours: [], theirs: { count: 0, bytes: 0 } };
  if (!fs.existsSync(dir)) return result;
  for (const name of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    result.files++;
    const blocks = text.split(/\n(?=\S)/);  // a report block starts at column 0; its frames are indented
    for (const b of blocks) {
      const leak = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object/.exec(b);
      if (leak) {
        if (allocatedByUs(b)) result.ours.push(`${name}: ${b.trim()}`);
        else {
          result.theirs.count += Number(leak[3]);
          result.theirs.bytes += Number(leak[2]);
        }
        continue;
      }
      if (/ERROR: (AddressSanitizer|ThreadSanitizer|LeakSanitizer: [^d])|runtime error:|WARNING: ThreadSanitizer/.test(b)) {
        // ThreadSanitizer: a race is ours when one of its two accesses is made by the addon (races inside Node,
        // seen through TSan's interceptors in uninstrumented code, are not ours to fix).
        if (kind === 'thread' && !accessIsOurs(b)) {
          result.theirs.count++;
          continue;
        }
        result.errors.push(`${name}: ${b.trim()}`);
      }
    }
  }
  return result;
}

function bounded(text, lines = 60) {
  const l = text.split('\n');
  return l.length > lines ? `${l.slice(0, lines).join('\n')}\n    ... (${l.length - lines} more lines)` : text;
}

// The addon through cmake-js into its own folder (RelWithDebInfo: -O2 -g, g++ so that the runtime to preload is
// gcc's), then lib/ compiled to dist/ (so that lib/binding.ts reads NOVA_HTTP_ADDON). Returns an exit code.
async function buildAddon(outDir, defines) {
  const code = await run(process.execPath, [bin('cmake-js'), 'build', '-O', outDir, '-B', 'RelWithDebInfo',
    ...defines, '--CDCMAKE_CXX_COMPILER=g++'], process.env);
  if (code !== 0) return code;
  return run(process.execPath, [bin('typescript', 'tsc'), '-p', 'tsconfig.json'], process.env);
}

// kind: 'address,undefined' or 'thread'. Returns the exit code.
async function sanitizerRun({ name, kind, outDir, runtime, optionsVar, options, extraEnv, vitestTimeoutMs,
  slowUnder = [], slowTests = [], testsDecide = true }) {
  const argv = process.argv.slice(2);
  const build = !argv.includes('--no-build');
  const all = argv.includes('--all');
  const strict = testsDecide || argv.includes('--strict');
  const vitestArgs = argv.filter((a) => !['--no-build', '--all', '--strict'].includes(a));
  // Left out unless --all: test/native.test.ts (its programs are ASan builds already), and the suites whose
  // assertions are throughput and latency under load (a bystander served N times during a flood, 10,000
  // connections within 20 s): the sanitizers' slowdown fails those, not the code. Their sanitizer reports would
  // still count (a run with --all gave none).
  const excluded = all ? [] : ['test/native.test.ts', ...slowUnder];
  // Single tests of that kind in files that otherwise run, left out by name (unless -t is given).
  const skipTests = all || vitestArgs.some((a) => a === '-t' || a.startsWith('--testNamePattern')) ? [] : slowTests;
  const namePattern = skipTests.length ? [`--testNamePattern=^(?!.*(${skipTests.join('|')}))`] : [];
  const out = path.join(ROOT, outDir);
  const addon = path.join(out, 'RelWithDebInfo', 'nova_http.node');
  const logs = path.join(out, 'logs');
  const t0 = Date.now();
  const step = (s) => console.log(`\n==== ${name}: ${s} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);

  if (build) {
    step(`build the addon with -fsanitize=${kind} into ${outDir}/, compile lib/ to dist/`);
    const code = await buildAddon(outDir, [`--CDNOVA_SANITIZE=${kind}`]);
    if (code !== 0) return code;
  }
  if (!fs.existsSync(addon)) {
    console.log(`${path.relative(ROOT, addon)} is missing (run without --no-build)`);
    return 1;
  }
  const preload = sh('gcc', [`-print-file-name=${runtime}`]);
  if (!preload || !fs.existsSync(preload)) {
    console.log(`gcc -print-file-name=${runtime} found nothing: is the gcc sanitizer runtime installed?`);
    return 1;
  }
  fs.rmSync(logs, { recursive: true, force: true });
  fs.mkdirSync(logs, { recursive: true });
  const symbolizer = ['/usr/bin/llvm-symbolizer', '/usr/bin/llvm-symbolizer-16'].find((p) => fs.existsSync(p));
  const env = {
    ...process.env,
    LD_PRELOAD: preload,
    NOVA_HTTP_ADDON: addon,
    NOVA_SAN_WORKER: '1',
    [optionsVar]: [`log_path=${path.join(logs, 'report')}`, ...options].join(':'),
    UBSAN_OPTIONS: [`log_path=${path.join(logs, 'ubsan')}`, 'print_stacktrace=1', 'halt_on_error=1'].join(':'),
    ...extraEnv,
    ...(symbolizer ? { ASAN_SYMBOLIZER_PATH: symbolizer, TSAN_SYMBOLIZER_PATH: symbolizer } : {}),
    FORCE_COLOR: '0',
  };

  step('test/valgrind/requests.js (blocking, evented, inline)');
  const smoke = await run(process.execPath, ['--require', __filename, 'test/valgrind/requests.js'], env, 300_000);

  const left = [...excluded, ...skipTests.map((t) => `'${t}'`)];
  step(`vitest ${vitestArgs.join(' ') || 'run'}${left.length ? ` (left out: ${left.join(', ')})` : ''}`);
  const vt = await run(process.execPath, [bin('vitest'), 'run', `--execArgv=--require=${__filename}`,
    ...excluded.flatMap((f) => ['--exclude', f]), ...namePattern, ...vitestArgs], env, vitestTimeoutMs);

  step('sanitizer reports');
  const r = readLogs(logs, kind);
  for (const e of r.errors) console.log(`\n${bounded(e)}`);
  for (const l of r.ours) console.log(`\nLEAK in the addon: ${bounded(l)}`);
  console.log(`\n${name}: ${r.files} report files; ${r.errors.length} sanitizer errors, ${r.ours.length} addon leaks; ` +
    `ignored (Node/V8's own): ${r.theirs.count} ${kind === 'thread' ? 'reports' : `objects, ${r.theirs.bytes} bytes`}`);
  console.log(`${name}: requests.js exit ${smoke}, vitest exit ${vt}, ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  if (vt !== 0 && !strict) {
    console.log(`${name}: vitest failures do not fail this run (timing and RSS assertions under the sanitizer's ` +
      'slowdown; npm test judges behaviour): only sanitizer reports do. --strict makes them count.');
  }
  return smoke === 0 && (vt === 0 || !strict) && r.errors.length === 0 && r.ours.length === 0 ? 0 : 1;
}

sanitizerRun({
  name: 'test:asan',
  kind: 'address,undefined',
  outDir: 'build-asan',
  runtime: 'libasan.so',
  optionsVar: 'ASAN_OPTIONS',
  options: ['detect_leaks=1', 'halt_on_error=1', 'detect_odr_violation=0', 'quarantine_size_mb=16',
    'thread_local_quarantine_size_kb=256', 'allocator_release_to_os_interval_ms=200'],
  // Leaks never change an exit code: the reports are read above, where Node's own are told from ours.
  extraEnv: { LSAN_OPTIONS: `suppressions=${path.join(ROOT, 'test', 'asan.supp')}:exitcode=0` },
  vitestTimeoutMs: 900_000,
  slowUnder: ['test/hostile-floods.test.ts'],
}).then((code) => { process.exitCode = code; }, (e) => {
  console.error(e);
  process.exitCode = 1;
});
