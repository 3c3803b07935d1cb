#!/usr/bin/env node
// Writes the fuzz seed corpus: every input of test/corpus/*.txt (the parser cases, malformed ones included) and of
// test/fuzz/seeds.txt (pipelines, bodies, smuggling classics) as one file each in test/fuzz/corpus/<target>/,
// named seed-<source>--<case>. Files not named seed-* (regression inputs from findings) are left alone.
//
//   node test/fuzz/make-seeds.js            (re)write the seeds
//   node test/fuzz/make-seeds.js --check    exit 1 if the committed seeds differ from what would be written
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const TARGETS = ['fuzz_parser', 'fuzz_connection'];
const SOURCES = [
  ...fs.readdirSync(path.join(ROOT, 'test', 'corpus')).filter((n) => n.endsWith('.txt')).sort()
    .map((n) => path.join(ROOT, 'test', 'corpus', n)),
  path.join(__dirname, 'seeds.txt'),
];

const { unescape } = require('../corpus/unescape.js');

// [{ name, input }] of one corpus-format file: `=== name` starts a case, `in:` / `in*N:` lines append input.
function cases(file) {
  const out = [];
  let cur = null;
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    const where = `${path.relative(ROOT, file)}:${i + 1}`;
    if (line.startsWith('=== ')) {
      cur = { name: line.slice(4), parts: [] };
      out.push(cur);
      return;
    }
    const m = /^in(?:\*(\d+))?: ?(.*)$/.exec(line);
    if (!m || !cur) return;
    const value = unescape(m[2], where);
    for (let k = 0; k < Number(m[1] || 1); k++) cur.parts.push(value);
  });
  return out.map((c) => ({ name: c.name, input: Buffer.concat(c.parts) })).filter((c) => c.input.length > 0);
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

function seeds() {
  const files = new Map();
  for (const src of SOURCES) {
    const stem = slug(path.basename(src, '.txt'));
    for (const c of cases(src)) {
      let name = `seed-${stem}--${slug(c.name)}`;
      for (let n = 2; files.has(name); n++) name = `seed-${stem}--${slug(c.name)}-${n}`;
      files.set(name, c.input);
    }
  }
  return files;
}

function main() {
  const check = process.argv.includes('--check');
  const want = seeds();
  let stale = 0;
  for (const target of TARGETS) {
    const dir = path.join(__dirname, 'corpus', target);
    fs.mkdirSync(dir, { recursive: true });
    const have = fs.readdirSync(dir).filter((n) => n.startsWith('seed-'));
    for (const n of have) {
      if (want.has(n)) continue;
      stale++;
      if (check) console.log(`stale: ${path.relative(ROOT, path.join(dir, n))}`);
      else fs.unlinkSync(path.join(dir, n));
    }
    for (const [n, data] of want) {
      const file = path.join(dir, n);
      let same = false;
      try { same = fs.readFileSync(file).equals(data); } catch { /* missing */ }
      if (same) continue;
      stale++;
      if (check) console.log(`missing or different: ${path.relative(ROOT, file)}`);
      else fs.writeFileSync(file, data);
    }
  }
  if (check) {
    if (stale) console.log(`make-seeds: ${stale} seed files out of date (run node test/fuzz/make-seeds.js)`);
    process.exitCode = stale ? 1 : 0;
  } else {
    console.log(`make-seeds: ${want.size} seeds per target in test/fuzz/corpus/{${TARGETS.join(',')}}/` +
      (stale ? ` (${stale} files written or removed)` : ' (unchanged)'));
  }
}

main();
