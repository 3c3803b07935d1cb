#!/usr/bin/env node
// The one list of the addon's C++ sources, for every build route (binding.gyp, CMakeLists.txt,
// scripts/build-win.js). Sources are globbed when a build is configured, so a new .cc file needs no edit here.
//
//   node scripts/sources.js [gyp|cmake|lines|json] [platform]
//
// platform: a Node name (linux, win32, darwin, freebsd, ...), a gyp OS name (win, mac, ...) or a CMake
// CMAKE_SYSTEM_NAME (Linux, Windows, Darwin, ...); default: this machine's.
// Paths are relative to the package root, with forward slashes, sorted.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DIRS = ['native/core', 'native/node', 'native/io'];

// A file whose name ends in one of these suffixes is built only where `when(platform)` holds.
const PLATFORM_SUFFIXES = [
  { suffix: '_posix.cc', when: (p) => p !== 'win32' },
  { suffix: '_win.cc', when: (p) => p === 'win32' },
  { suffix: '_epoll.cc', when: (p) => p === 'linux' },
];

const ALIASES = { win: 'win32', windows: 'win32', mac: 'darwin', macos: 'darwin', solaris: 'sunos' };

function normalizePlatform(name) {
  const p = String(name || process.platform).toLowerCase();
  return ALIASES[p] || p;
}

function sources(platform) {
  const p = normalizePlatform(platform);
  const out = [];
  for (const dir of DIRS) {
    let names;
    try {
      names = fs.readdirSync(path.join(ROOT, dir));
    } catch (e) {
      if (e.code === 'ENOENT') continue;
      throw e;
    }
    for (const name of names.filter((n) => n.endsWith('.cc')).sort()) {
      const rule = PLATFORM_SUFFIXES.find((r) => name.endsWith(r.suffix));
      if (!rule || rule.when(p)) out.push(`${dir}/${name}`);
    }
  }
  return out;
}

module.exports = { sources, normalizePlatform, ROOT };

if (require.main === module) {
  const [format = 'lines', platform] = process.argv.slice(2);
  const list = sources(platform);
  if (list.length === 0) {
    console.error(`sources.js: no .cc files under ${DIRS.join(', ')}`);
    process.exit(1);
  }
  switch (format) {
    case 'gyp': // node-gyp splits <!@(...) output on whitespace
      process.stdout.write(list.join(' ') + '\n');
      break;
    case 'cmake': // a CMake list
      process.stdout.write(list.join(';'));
      break;
    case 'json':
      process.stdout.write(JSON.stringify(list) + '\n');
      break;
    case 'lines':
      process.stdout.write(list.join('\n') + '\n');
      break;
    default:
      console.error(`sources.js: unknown format "${format}" (gyp, cmake, lines, json)`);
      process.exit(2);
  }
}
