#!/usr/bin/env node
// `npm run build:win`: cross-compiles the Windows x64 addon with mingw-w64 (posix thread model) through
// CMakeLists.txt + cmake/mingw-w64-x86_64.cmake, then checks the DLL: it must export napi_register_module_v1 and
// import nothing but node.exe and Windows' own DLLs (the C++ runtime is linked statically).
//   node scripts/build-win.js [--clean]
// Output: build-win/nova_http.node. The shipped prebuilds/win32-x64 binary is Zig's (scripts/prebuilds-all.js): a
// mingw-built addon crashed under wine when a blocking-model connection thread exited (a heap fault in ntdll freeing
// thread_local state; docs/prebuilds.md), the Zig-built one passes the Windows subset. This route stays as a
// check that the CMake cross build keeps working.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'build-win');
const CMAKE_DIR = path.join(OUT_DIR, 'cmake');
const ADDON = path.join(OUT_DIR, 'nova_http.node');
const TOOLCHAIN = path.join(ROOT, 'cmake', 'mingw-w64-x86_64.cmake');
const PREFIX = 'x86_64-w64-mingw32';

// DLLs a Windows node.exe process always has; anything else (libstdc++-6.dll, libwinpthread-1.dll, ...) would
// have to ship beside the addon.
const ALLOWED_IMPORTS = /^(node\.exe|kernel32\.dll|ws2_32\.dll|msvcrt\.dll|advapi32\.dll|user32\.dll|ntdll\.dll|bcrypt\.dll|api-ms-win-[a-z0-9-]+\.dll|ucrtbase\.dll)$/i;

function run(cmd, args, opts = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}`);
  return r.stdout;
}

function have(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function checkDll(file) {
  const dump = run(`${PREFIX}-objdump`, ['-p', file], { capture: true });
  if (!/^\s*\[\s*\d+\]\s+napi_register_module_v1\s*$/m.test(dump)) {
    throw new Error(`${file} does not export napi_register_module_v1`);
  }
  const imports = [...dump.matchAll(/^\s*DLL Name:\s*(\S+)/gm)].map((m) => m[1]);
  const unexpected = imports.filter((d) => !ALLOWED_IMPORTS.test(d));
  if (!imports.some((d) => /^node\.exe$/i.test(d))) throw new Error(`${file} does not import from node.exe`);
  if (unexpected.length) throw new Error(`${file} needs DLLs that Windows does not have: ${unexpected.join(', ')}`);
  if (!/^Magic\s+020b\s+\(PE32\+\)/m.test(dump)) throw new Error(`${file} is not a PE32+ (x64) image`);
  console.log(`build-win: ${path.relative(ROOT, file)} exports napi_register_module_v1; imports ${imports.join(', ')}`);
  return imports;
}

function main() {
  const argv = process.argv.slice(2);
  const clean = argv.includes('--clean');

  for (const tool of [`${PREFIX}-g++-posix`, `${PREFIX}-dlltool`, `${PREFIX}-objdump`, 'cmake']) {
    if (!have(tool)) {
      throw new Error(`${tool} not found: apt-get install -y --no-install-recommends mingw-w64 cmake`);
    }
  }
  if (clean) fs.rmSync(OUT_DIR, { recursive: true, force: true });
  fs.rmSync(ADDON, { force: true });

  const generator = have('ninja') ? ['-G', 'Ninja'] : [];
  run('cmake', [
    '-S', ROOT, '-B', CMAKE_DIR, ...generator,
    `-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}`,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${OUT_DIR}`,
    `-DCMAKE_ARCHIVE_OUTPUT_DIRECTORY=${CMAKE_DIR}`,
  ]);
  run('cmake', ['--build', CMAKE_DIR, '--parallel']);
  if (!fs.existsSync(ADDON)) throw new Error(`build finished but ${ADDON} is missing`);
  checkDll(ADDON);
}

module.exports = { checkDll };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(`build-win: ${e.message}`);
    process.exit(1);
  }
}
