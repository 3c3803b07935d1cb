#!/usr/bin/env node
'use strict';
// Parser micro-benchmark runner (`npm run bench:parser`, or `npm run bench -- --parser`): builds
// parser_bench.cc against native/core/parser.cc (+ keep_alive.cc, its one dependency) with the addon's
// optimization level, runs it, prints a markdown table and writes bench/results/tmp/parser-latest.{json,md}
// (--out=bench/results to keep a run).
//
//   node bench/parser/run.js [--seconds=S] [--repeat=N] [--dump] [--out=DIR]
//   --seconds  time per measurement (default 0.5)   --repeat  measurements per cell, median reported (default 5)
//   --dump     print one head of each corpus class and exit
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const CORE = path.join(ROOT, 'native', 'core');
const BUILD = path.join(__dirname, 'build');
const BIN = path.join(BUILD, 'parser_bench');
const SRC = path.join(__dirname, 'parser_bench.cc');
const DEPS = ['parser.cc', 'keep_alive.cc'].map((f) => path.join(CORE, f));
const CXX = process.env.CXX || 'g++';
// -O3 as node-gyp and cmake-js Release builds use; no -march=native (the shipped addon has none).
const FLAGS = ['-std=c++17', '-O3', '-DNDEBUG', '-Wall', '-Wextra', '-I', CORE];

function args() {
  const o = {};
  for (const a of process.argv.slice(2)) {
    const [k, v] = a.replace(/^--/, '').split(/=(.*)/s);
    o[k] = v === undefined ? true : v;
  }
  return o;
}

const mtime = (p) => {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
};

function build() {
  const missing = DEPS.filter((f) => !fs.existsSync(f));
  if (missing.length) {
    return `parser not yet available: ${missing.map((f) => path.relative(ROOT, f)).join(', ')} missing`;
  }
  const headers = fs.readdirSync(CORE).filter((n) => n.endsWith('.h')).map((n) => path.join(CORE, n));
  const newest = Math.max(...[SRC, ...DEPS, ...headers, __filename].map(mtime));
  if (mtime(BIN) > newest) return null;
  fs.mkdirSync(BUILD, { recursive: true });
  process.stderr.write(`bench:parser: ${CXX} ${FLAGS.join(' ')} parser_bench.cc parser.cc keep_alive.cc\n`);
  const r = spawnSync(CXX, [...FLAGS, SRC, ...DEPS, '-o', BIN], { encoding: 'utf8' });
  if (r.status !== 0) {
    return `parser does not build yet:\n${(r.stderr || r.error?.message || '').split('\n').slice(0, 15).join('\n')}`;
  }
  return null;
}

function table(rows) {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const out = [
    '| corpus | avg head | mode | requests/s median (min-max) | MB/s | ns/head |',
    '|---|---:|---|---:|---:|---:|',
  ];
  let last = '';
  for (const r of rows) {
    out.push(
      `| ${r.corpus === last ? '' : r.corpus} | ${r.corpus === last ? '' : `${r.avgBytes} B`} | ${r.mode} | ` +
        `${fmt(r.reqPerS)} (${fmt(r.reqPerSMin)}-${fmt(r.reqPerSMax)}) | ${r.mbPerS.toFixed(0)} | ${r.nsPerHead.toFixed(0)} |`,
    );
    last = r.corpus;
  }
  return out.join('\n');
}

function main() {
  const a = args();
  const err = build();
  if (err) {
    console.log(err);
    process.exit(/not yet available/.test(err) ? 0 : 1);
  }
  if (a.dump) {
    spawnSync(BIN, ['--dump'], { stdio: 'inherit' });
    return;
  }
  const seconds = String(a.seconds ?? 0.5);
  const repeat = String(a.repeat ?? 5);
  const r = spawnSync(BIN, ['--json', '--seconds', seconds, '--repeat', repeat], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) {
    console.log(`parser benchmark failed (exit ${r.status}): the parser rejected a corpus head (see above)`);
    process.exit(1);
  }
  const rows = JSON.parse(r.stdout);
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model;
  const rev = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const meta = {
    date: new Date().toISOString(),
    cpuModel: cpu,
    cores: os.cpus().length,
    loadavg: os.loadavg().map((x) => x.toFixed(2)),
    compiler: spawnSync(CXX, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
    flags: FLAGS.filter((f) => f !== CORE && f !== '-I').join(' '),
    commit: rev,
    seconds: Number(seconds),
    repeat: Number(repeat),
  };
  const md = [
    `nova-http parser micro-benchmark, ${meta.date}, ${meta.cpuModel} (${meta.cores} cores, load average ${meta.loadavg.join(' ')}), ` +
      `${meta.compiler} ${meta.flags}, commit ${meta.commit}`,
    'nova::parse_request_head on generated realistic heads (bench/parser/parser_bench.cc; `--dump` prints them). ' +
      'whole: one call per head; split: the head in two calls (first half, then all); pipeline: heads back to back in one buffer.',
    '',
    table(rows),
    '',
  ].join('\n');
  console.log(md);
  const outDir = path.resolve(a.out ?? path.join(__dirname, '..', 'results', 'tmp'));
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'parser-latest.json'), `${JSON.stringify({ meta, rows }, null, 1)}\n`);
  fs.writeFileSync(path.join(outDir, 'parser-latest.md'), md);
  process.stderr.write(`bench:parser: wrote ${path.relative(process.cwd(), path.join(outDir, 'parser-latest.{json,md}'))}\n`);
}

main();
