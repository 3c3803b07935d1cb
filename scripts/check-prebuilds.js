#!/usr/bin/env node
// Checks the prebuilt binaries in prebuilds/ (scripts/prebuild-targets.js) for what a host without a compiler
// needs from them, and states each one's facts (size, glibc floor, minimum macOS, imports):
// - linux: the right ELF machine; glibc builds need no GLIBC_ symbol version above the floor, no GLIBCXX_/CXXABI_
//   (libc++ is linked in), no library beyond libc's own; musl builds need no GLIBC_ version at all;
// - darwin: a Mach-O of the right CPU that exports napi_register_module_v1 and leaves the N-API symbols undefined
//   (node provides them), linking only libSystem;
// - win32: a PE32+ DLL exporting napi_register_module_v1, importing only node.exe and Windows' own DLLs;
// - all: stripped (no debug sections), exports napi_register_module_v1.
//   node scripts/check-prebuilds.js [--complete] [target-id ...]
// --complete (the `prepack` script): every target must be there and nothing else under prebuilds/; fails naming the
// missing ones. Without it, missing binaries are listed and skipped.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { ROOT, TARGETS, GLIBC_FLOOR, targetPath, selectTargets } = require('./prebuild-targets');
const { readMachO } = require('./macho');
const { checkDll } = require('./build-win');

const ELF_MACHINE = { x64: 62, arm64: 183 };
const GLIBC_LIBS = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/;
const MUSL_LIBS = /^libc\.so$/;

function tool(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (binutils is needed for the checks)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function cmpVersion(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  }
  return 0;
}

function maxVersion(list) {
  return list.slice().sort(cmpVersion).pop();
}

function checkElf(t, file, buf, problems) {
  if (buf.readUInt32BE(0) !== 0x7f454c46) return problems.push('not an ELF file');
  if (buf.readUInt16LE(18) !== ELF_MACHINE[t.arch]) problems.push(`ELF machine ${buf.readUInt16LE(18)}, expected ${t.arch}`);
  const versions = tool('readelf', ['-V', '-W', file]);
  const need = (prefix) => [...new Set([...versions.matchAll(new RegExp(`\\b${prefix}_([0-9][0-9.]*)`, 'g'))].map((m) => m[1]))];
  const glibc = need('GLIBC');
  const cxx = [...need('GLIBCXX').map((v) => `GLIBCXX_${v}`), ...need('CXXABI').map((v) => `CXXABI_${v}`)];
  const dyn = tool('readelf', ['-d', '-W', file]);
  const libs = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const syms = tool('readelf', ['--dyn-syms', '-W', file]);
  if (!/\sGLOBAL\s+DEFAULT\s+\d+\s+napi_register_module_v1\b/.test(syms)) problems.push('does not export napi_register_module_v1');
  if (/\s\.debug_|\s\.symtab\s/.test(tool('readelf', ['-S', '-W', file]))) problems.push('not stripped');
  if (cxx.length) problems.push(`needs the C++ runtime of the host: ${cxx.join(', ')}`);
  const facts = { needs: libs.join(' ') };
  if (t.libc === 'glibc') {
    const top = glibc.length ? maxVersion(glibc) : '(none)';
    facts.glibc = top;
    if (glibc.length && cmpVersion(top, GLIBC_FLOOR) > 0) problems.push(`needs GLIBC_${top}, above the floor ${GLIBC_FLOOR}`);
    const odd = libs.filter((l) => !GLIBC_LIBS.test(l));
    if (odd.length) problems.push(`links libraries a glibc system may not have: ${odd.join(', ')}`);
  } else {
    if (glibc.length) problems.push(`a musl binary that needs glibc symbols (GLIBC_${maxVersion(glibc)})`);
    const odd = libs.filter((l) => !MUSL_LIBS.test(l));
    if (odd.length) problems.push(`links libraries other than musl's libc.so: ${odd.join(', ')}`);
  }
  return facts;
}

function checkDarwin(t, buf, problems) {
  const m = readMachO(buf);
  if (m.arch !== t.arch) problems.push(`Mach-O for ${m.arch}, expected ${t.arch}`);
  if (m.filetype !== 'dylib' && m.filetype !== 'bundle') problems.push(`Mach-O ${m.filetype}, expected a dylib or bundle`);
  if (!m.defined.includes('_napi_register_module_v1')) problems.push('does not export napi_register_module_v1');
  const napiDefined = m.defined.filter((s) => /^_napi_/.test(s) && s !== '_napi_register_module_v1');
  if (napiDefined.length) problems.push(`defines N-API symbols node must provide: ${napiDefined.slice(0, 5).join(', ')}`);
  const napiUndefined = m.undefined.filter((s) => /^_napi_/.test(s));
  if (napiUndefined.length === 0) problems.push('leaves no N-API symbol undefined (is it an N-API addon?)');
  const odd = m.dylibs.filter((d) => d !== '/usr/lib/libSystem.B.dylib');
  if (odd.length) problems.push(`links dylibs a Mac may not have: ${odd.join(', ')}`);
  return { minos: m.minos, needs: m.dylibs.map((d) => path.basename(d)).join(' '), 'N-API imports': napiUndefined.length };
}

function checkWin(file, problems) {
  try {
    const imports = checkDll(file);
    if (/\s\.debug_/.test(tool('x86_64-w64-mingw32-objdump', ['-h', file]))) problems.push('not stripped');
    return { needs: imports.join(' ') };
  } catch (e) {
    problems.push(e.message);
    return {};
  }
}

function check(t) {
  const file = targetPath(t);
  const buf = fs.readFileSync(file);
  const problems = [];
  let facts;
  if (t.platform === 'linux') facts = checkElf(t, file, buf, problems);
  else if (t.platform === 'darwin') facts = checkDarwin(t, buf, problems);
  else facts = checkWin(file, problems);
  return { size: buf.length, facts, problems };
}

// .node files under prebuilds/ that no target names (an old untagged build would ship beside the real ones).
function strays() {
  const dir = path.join(ROOT, 'prebuilds');
  if (!fs.existsSync(dir)) return [];
  const known = new Set(TARGETS.map((t) => t.file));
  const out = [];
  for (const sub of fs.readdirSync(dir)) {
    const full = path.join(dir, sub);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const f of fs.readdirSync(full)) if (!known.has(`prebuilds/${sub}/${f}`)) out.push(`prebuilds/${sub}/${f}`);
  }
  return out;
}

function main() {
  const argv = process.argv.slice(2);
  const complete = argv.includes('--complete');
  const targets = selectTargets(argv.filter((a) => !a.startsWith('--')));
  const missing = targets.filter((t) => !fs.existsSync(targetPath(t)));
  let bad = 0;
  for (const t of targets) {
    if (missing.includes(t)) continue;
    const r = check(t);
    const facts = Object.entries(r.facts).map(([k, v]) => `${k} ${v}`).join('; ');
    console.log(`${r.problems.length ? 'FAIL' : 'ok  '} ${t.file} (${(r.size / 1024).toFixed(0)} KiB; ${facts})`);
    for (const p of r.problems) console.log(`     ${p}`);
    if (r.problems.length) bad++;
  }
  if (missing.length) {
    const list = missing.map((t) => `${t.id} (${t.file})`).join(', ');
    console.error(`check-prebuilds: ${missing.length} of ${targets.length} prebuilds missing: ${list}`);
    if (complete) console.error('check-prebuilds: build them with `npm run prebuilds:all` (Linux x64; see docs/prebuilds.md)');
  }
  const extra = complete ? strays() : [];
  if (extra.length) console.error(`check-prebuilds: files under prebuilds/ that no target names (remove them): ${extra.join(', ')}`);
  if (bad) console.error(`check-prebuilds: ${bad} prebuild(s) failed the checks`);
  return bad || extra.length || (complete && missing.length) ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (e) {
    console.error(`check-prebuilds: ${e.message}`);
    process.exitCode = 1;
  }
}

module.exports = { check, cmpVersion };
