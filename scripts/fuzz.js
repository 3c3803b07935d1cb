#!/usr/bin/env node
// `npm run fuzz`: builds every libFuzzer target test/fuzz/fuzz_*.cc with clang (ASan + UBSan + libFuzzer) from
// test/CMakeLists.txt (-DNOVA_FUZZ=ON) into build-fuzz/, then runs each for FUZZ_SECONDS (default 60) over its seed corpus test/fuzz/corpus/<target>/ with
// test/fuzz/http.dict. New inputs go to build-fuzz/corpus/<target>/ (a scratch corpus kept between local runs,
// never the repo); a finding goes to build-fuzz/artifacts/<target>/. Exits non-zero on any crash, leak, UB,
// timeout or failed invariant, and prints executions and corpus size per target.
//
//   node scripts/fuzz.js [target ...]        e.g. `FUZZ_SECONDS=10 node scripts/fuzz.js parser`
//   node scripts/fuzz.js --replay <target> <file...>   run inputs once (a finding, a regression case)
//
// Environment: FUZZ_SECONDS (per target), FUZZ_JOBS (targets run at once, default 1: the machine is shared),
// FUZZ_CXX (default clang++-16, else clang++). A target names its native/core files on a `// deps:` line.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const FUZZ_DIR = path.join(ROOT, 'test', 'fuzz');
const OUT = path.join(ROOT, 'build-fuzz');
const SECONDS = Number(process.env.FUZZ_SECONDS || 60);
const JOBS = Math.max(1, Number(process.env.FUZZ_JOBS || 1));
function findCompiler() {
  const candidates = process.env.FUZZ_CXX ? [process.env.FUZZ_CXX] : ['clang++-16', 'clang++'];
  for (const c of candidates) {
    if (spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) return c;
  }
  throw new Error(`no clang found (${candidates.join(', ')}): apt-get install clang-16 libclang-rt-16-dev`);
}

function symbolizer() {
  for (const p of ['/usr/bin/llvm-symbolizer-16', '/usr/lib/llvm-16/bin/llvm-symbolizer', '/usr/bin/llvm-symbolizer']) {
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function targets() {
  return fs.readdirSync(FUZZ_DIR).filter((n) => /^fuzz_\w+\.cc$/.test(n)).sort().map((n) => {
    const name = n.replace(/\.cc$/, '');
    return { name, bin: path.join(OUT, name) };
  });
}

// Spawns a command; resolves { code, signal, out } with stdout and stderr together.
function exec(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env || process.env });
    let out = '';
    const take = (d) => {
      out += d;
      if (opts.echo) process.stdout.write(d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => { out += String(e); });
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

// Configures and builds the given targets (all when none) with CMake; false when either step fails.
async function build(cxx, list) {
  const configure = ['--log-level=WARNING', '-S', path.join(ROOT, 'test'), '-B', OUT, '-DNOVA_FUZZ=ON',
    '-DCMAKE_BUILD_TYPE=', `-DCMAKE_CXX_COMPILER=${cxx}`];
  const c = await exec('cmake', configure, { echo: true });
  if (c.code !== 0) {
    console.log(`FAIL configure (cmake ${configure.join(' ')})`);
    return false;
  }
  const t0 = Date.now();
  const args = ['--build', OUT, '-j', '2', ...(list ? ['--target', ...list.map((t) => t.name)] : [])];
  const r = await exec('cmake', args);
  if (r.code !== 0) {
    console.log(`FAIL build\n${r.out}`);
    return false;
  }
  console.log(`built ${(list ?? targets()).map((t) => path.relative(ROOT, t.bin)).join(', ')} in ` +
    `${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

function sanitizerEnv() {
  const env = { ...process.env };
  env.ASAN_OPTIONS = ['detect_leaks=1', 'allocator_may_return_null=1', env.ASAN_OPTIONS].filter(Boolean).join(':');
  env.UBSAN_OPTIONS = ['print_stacktrace=1', 'halt_on_error=1', env.UBSAN_OPTIONS].filter(Boolean).join(':');
  const sym = symbolizer();
  if (sym && !env.ASAN_SYMBOLIZER_PATH) env.ASAN_SYMBOLIZER_PATH = sym;
  return env;
}

// What libFuzzer printed at the end: executions, corpus entries and bytes, coverage.
function stats(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : undefined;
  };
  const done = [...out.matchAll(/#(\d+)\s+(?:DONE|INITED|NEW|REDUCE|pulse)\s+cov: (\d+) ft: (\d+) corp: (\d+)\/(\d+\w*)/g)].pop();
  return {
    execs: num(/stat::number_of_executed_units: (\d+)/) ?? (done ? Number(done[1]) : undefined),
    perSec: num(/stat::average_exec_per_sec:\s+(\d+)/),
    added: num(/stat::new_units_added:\s+(\d+)/),
    cov: done ? Number(done[2]) : undefined,
    ft: done ? Number(done[3]) : undefined,
    corpus: done ? Number(done[4]) : undefined,
    corpusBytes: done ? done[5] : undefined,
  };
}

// The part of a report worth printing: from the first sanitizer/libFuzzer/invariant line, bounded.
function report(out) {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => /ERROR: |^FAIL |runtime error:|==\d+==WARNING: MemorySanitizer|SUMMARY:/.test(l));
  const from = start < 0 ? Math.max(0, lines.length - 40) : Math.max(0, start - 2);
  return lines.slice(from, from + 80).map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l)).join('\n');
}

async function fuzz(t) {
  const scratch = path.join(OUT, 'corpus', t.name);
  const artifacts = path.join(OUT, 'artifacts', t.name);
  const seeds = path.join(FUZZ_DIR, 'corpus', t.name);
  fs.mkdirSync(scratch, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const args = [
    `-max_total_time=${SECONDS}`, '-timeout=10', '-rss_limit_mb=2048', '-print_final_stats=1',
    `-dict=${path.join(FUZZ_DIR, 'http.dict')}`, `-artifact_prefix=${artifacts}${path.sep}`,
    scratch, ...(fs.existsSync(seeds) ? [seeds] : []),
  ];
  const t0 = Date.now();
  const r = await exec(t.bin, args, { env: sanitizerEnv() });
  const s = stats(r.out);
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  const ok = r.code === 0;
  const found = ok ? [] : fs.readdirSync(artifacts).map((n) => path.join(artifacts, n))
    .filter((f) => fs.statSync(f).mtimeMs >= t0);
  return { t, ok, s, secs, code: r.signal || r.code, out: r.out, found };
}

async function replay(cxx, name, files) {
  const t = targets().find((x) => x.name === name || x.name === `fuzz_${name}`);
  if (!t) throw new Error(`no target ${name}`);
  if (!(await build(cxx, [t]))) return 1;
  const r = await exec(t.bin, ['-runs=1', ...files], { env: sanitizerEnv(), echo: true });
  return r.code === 0 ? 0 : 1;
}

async function main() {
  const argv = process.argv.slice(2);
  const cxx = findCompiler();
  fs.mkdirSync(OUT, { recursive: true });
  if (argv[0] === '--replay') return replay(cxx, argv[1], argv.slice(2));

  const seedCheck = spawnSync(process.execPath, [path.join(FUZZ_DIR, 'make-seeds.js'), '--check'], { encoding: 'utf8' });
  if (seedCheck.status !== 0) console.log(`warning: seed corpus out of date with test/corpus (node test/fuzz/make-seeds.js)`);

  let list = targets();
  if (argv.length) list = list.filter((t) => argv.some((a) => t.name === a || t.name === `fuzz_${a}`));
  if (!list.length) throw new Error(`no fuzz targets${argv.length ? ` matching ${argv.join(' ')}` : ''}`);
  if (!(await build(cxx, list))) return 1;

  console.log(`fuzzing ${list.map((t) => t.name).join(', ')} for ${SECONDS} s each (${JOBS} at a time)`);
  const results = [];
  const queue = [...list];
  await Promise.all(Array.from({ length: Math.min(JOBS, queue.length) }, async () => {
    while (queue.length) {
      const r = await fuzz(queue.shift());
      results.push(r);
      const { s } = r;
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.t.name}: ${s.execs ?? '?'} executions in ${r.secs} s` +
        ` (${s.perSec ?? '?'}/s), corpus ${s.corpus ?? '?'} inputs / ${s.corpusBytes ?? '?'}` +
        ` (${s.added ?? '?'} new), coverage ${s.cov ?? '?'} edges, ${s.ft ?? '?'} features`);
      if (!r.ok) {
        console.log(`---- ${r.t.name} failed (exit ${r.code}):\n${report(r.out)}\n----`);
        for (const f of r.found) {
          console.log(`finding: ${path.relative(ROOT, f)}\n  replay: node scripts/fuzz.js --replay ${r.t.name} ${path.relative(ROOT, f)}`);
        }
      }
    }
  }));
  const failed = results.filter((r) => !r.ok).length;
  console.log(`fuzz: ${results.length - failed}/${results.length} targets clean`);
  return failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(`fuzz: ${e.message}`);
  process.exitCode = 1;
});
