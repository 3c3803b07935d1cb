#!/usr/bin/env node
// The native test runner (`npm run test:native`; test/native.test.ts runs it under vitest): configures and builds
// test/CMakeLists.txt into build-tests/ (every test/native/*_test.cc with ASan + UBSan), then runs them with ctest
// from the repository root. Exits non-zero if the build or any test fails.
//
//   node scripts/native-tests.js [--rebuild] [--target=<zig triple>] [name ...]   e.g. `... parser`
//
// --target=x86_64-linux-musl / aarch64-linux-musl (CI's musl step): the same tests as static musl executables built
// with Zig (scripts/zig.js; no sanitizers there), into build-tests/<target>/; aarch64 ones run under qemu-aarch64
// (apt: qemu-user). They check that native/core builds and behaves with musl and libc++ on each CPU.
//
// CXX picks the compiler at the first configure (default: CMake's choice); NOVA_SANITIZE overrides the sanitizers.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const TARGET = (process.argv.find((a) => a.startsWith('--target=')) || '').slice('--target='.length);
const BUILD = path.join(ROOT, 'build-tests', ...(TARGET ? [TARGET] : []));
const JOBS = String(Math.max(1, Math.min(2, os.cpus().length)));

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env });
  if (r.error) {
    console.error(`native-tests: ${cmd}: ${r.error.message}${r.error.code === 'ENOENT' ? ' (apt-get install cmake)' : ''}`);
    return 1;
  }
  return r.status ?? 1;
}

// With --target: Zig as the C++ compiler (a wrapper script, since CMake takes one program), static executables,
// no sanitizers, and qemu-aarch64 as the emulator ctest runs aarch64 tests with.
function targetSettings() {
  const zig = require('./zig');
  fs.mkdirSync(BUILD, { recursive: true });
  const wrapper = path.join(BUILD, 'zig-c++');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec '${zig.zig()}' c++ -target ${TARGET} "$@"\n`, { mode: 0o755 });
  const arch = TARGET.split('-')[0];
  const args = [`-DCMAKE_CXX_COMPILER=${wrapper}`, '-DCMAKE_SYSTEM_NAME=Linux', `-DCMAKE_SYSTEM_PROCESSOR=${arch}`,
    '-DCMAKE_EXE_LINKER_FLAGS=-static', '-DNOVA_SANITIZE='];
  if (arch === 'aarch64') args.push('-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-aarch64');
  console.log(`native-tests: static ${TARGET} executables (zig c++)${arch === 'aarch64' ? ', run under qemu-aarch64' : ''}`);
  return { args, env: zig.zigEnv() };
}

function main() {
  const argv = process.argv.slice(2);
  const names = argv.filter((a) => !a.startsWith('--'));
  const target = TARGET ? targetSettings() : { args: [], env: process.env };
  const configure = ['-S', path.join(ROOT, 'test'), '-B', BUILD, '-DCMAKE_BUILD_TYPE=', ...target.args];
  if (!TARGET && process.env.NOVA_SANITIZE !== undefined) configure.push(`-DNOVA_SANITIZE=${process.env.NOVA_SANITIZE}`);
  if (run('cmake', ['--log-level=WARNING', ...configure], target.env) !== 0) return 1;
  const build = ['--build', BUILD, '-j', JOBS];
  if (argv.includes('--rebuild')) build.push('--clean-first');
  if (run('cmake', build, target.env) !== 0) return 1;
  const ctest = ['--test-dir', BUILD, '--output-on-failure', '--no-tests=error', '-j', JOBS];
  if (names.length) ctest.push('-R', `^(${names.map((n) => (n.endsWith('_test') ? n : `${n}_test`)).join('|')})$`);
  // -V for the tests' own summary lines (vectors, corpus cases, runs) when they pass too.
  return run('ctest', [...ctest, '-V']);
}

process.exitCode = main();
