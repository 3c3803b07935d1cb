#!/usr/bin/env node
// `npm run prebuilds:all`: the release build. From this Linux x64 machine, builds every prebuilt binary the npm
// package ships (scripts/prebuild-targets.js) into prebuilds/<platform>-<arch>/, stripped, with NAPI_VERSION=8 (one
// binary for every Node from 18 on), then checks them (scripts/check-prebuilds.js).
//   node scripts/prebuilds-all.js [target-id ...]      e.g. linux-arm64-musl darwin-x64; default: all seven
// Every target with Zig's clang (`zig c++ -target ...`, libc++ linked in; the toolchain is fetched from the npm
// registry into ~/.cache/nova-http on first use, never a dependency). Why Zig for each target: docs/prebuilds.md.
// The defines come from binding.gyp, so every build route agrees.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { ROOT, selectTargets, targetPath } = require('./prebuild-targets');
const { sources } = require('./sources');
const { zig, zigEnv } = require('./zig');

const WORK = path.join(ROOT, 'build-prebuilds');
// Darwin: the oldest macOS that Node 18 supports (binding.gyp's MACOSX_DEPLOYMENT_TARGET says the same).
const MACOS_MIN = { x64: '11.0', arm64: '11.0' };

function run(cmd, args, opts = {}) {
  console.log(`> ${path.basename(cmd)} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}`);
}

// binding.gyp's defines (NAPI_VERSION=8, ...) and, for Windows, those of its OS=='win' condition: the node-gyp
// build is the reference for every route.
function gypDefines(platform) {
  const text = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '');
  const target = JSON.parse(text).targets[0];
  const defines = [...target.defines];
  if (platform === 'win32') {
    const win = (target.conditions || []).find((c) => c[0] === "OS=='win'");
    defines.push(...((win && win[1].defines) || []));
  }
  return defines.map((d) => `-D${d}`);
}

// Windows: node.exe's N-API exports as an import library (from node-api-headers' def file), to link against.
function nodeImportLib(zigBin) {
  const lib = path.join(WORK, 'libnode_api.a');
  const def = path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'def', 'node_api.def');
  run(zigBin, ['dlltool', '-d', def, '-l', lib, '-D', 'node.exe', '-m', 'i386:x86-64'], { env: zigEnv() });
  return lib;
}

// libuv's headers (server_inline_posix.cc watches the loop's descriptor through uv_poll): copied out of Node's own
// include dir alone, so that Node's node_api.h there can't shadow node-api-headers' (the N-API 8 declarations).
function uvInclude() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const from = candidates.find((d) => fs.existsSync(path.join(d, 'uv.h')));
  if (!from) throw new Error(`no uv.h in ${candidates.join(', ')} (Node's headers: the nodejs package or a Node tarball)`);
  const to = path.join(WORK, 'include-uv');
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  fs.copyFileSync(path.join(from, 'uv.h'), path.join(to, 'uv.h'));
  fs.cpSync(path.join(from, 'uv'), path.join(to, 'uv'), { recursive: true });
  return to;
}

function buildZig(t, zigBin, common) {
  const out = targetPath(t);
  const triple = t.platform === 'darwin' ? `${t.zig}.${MACOS_MIN[t.arch]}` : t.zig;
  const args = ['c++', '-target', triple, ...common, ...gypDefines(t.platform), ...sources(t.platform)];
  if (t.platform === 'darwin') {
    // N-API symbols come from the node binary that loads the addon
    args.push('-fPIC', '-pthread', '-Wl,-undefined,dynamic_lookup');
  } else if (t.platform === 'win32') {
    args.push(nodeImportLib(zigBin), '-lws2_32');
  } else {
    args.push('-fPIC', '-pthread', '-ffunction-sections', '-fdata-sections', '-Wl,--gc-sections', '-Wl,-z,noexecstack');
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.rmSync(out, { force: true });
  args.push('-s', '-o', out);
  run(zigBin, args, { env: zigEnv() });
  // zig leaves linker by-products next to the output (Mach-O: <out>.o; Windows: an import library)
  for (const f of fs.readdirSync(path.dirname(out))) {
    if (!f.endsWith('.node')) fs.rmSync(path.join(path.dirname(out), f), { force: true });
  }
}

function main() {
  const targets = selectTargets(process.argv.slice(2).filter((a) => !a.startsWith('--')));
  fs.mkdirSync(WORK, { recursive: true });
  const zigBin = zig();
  const common = [
    '-shared', '-O2', '-std=c++17', '-fexceptions', '-fvisibility=hidden',
    '-I', require('node-api-headers').include_dir, '-I', require('node-addon-api').include_dir,
    '-I', uvInclude(), '-I', 'native',
  ];
  const times = [];
  for (const t of targets) {
    const t0 = Date.now();
    console.log(`\n== ${t.id} (zig c++ -target ${t.zig})`);
    buildZig(t, zigBin, common);
    times.push(`${t.id} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  console.log(`\nprebuilds-all: built ${times.join(', ')}`);
  run(process.execPath, [path.join(__dirname, 'check-prebuilds.js'), ...targets.map((t) => t.id)]);
}

try {
  main();
} catch (e) {
  console.error(`prebuilds-all: ${e.message}`);
  process.exit(1);
}
