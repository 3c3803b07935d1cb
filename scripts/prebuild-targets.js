// The seven prebuilt binaries the npm package ships, and how each is made: one list for the release script
// (scripts/prebuilds-all.js), the checks (scripts/check-prebuilds.js, `prepack`) and CI. File names follow
// node-gyp-build's tags: prebuilds/<platform>-<arch>/nova_http[.glibc|.musl].node, so a musl host never loads a
// glibc binary and the other way round.
'use strict';

const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const NAME = 'nova_http';

// Every target is built with Zig's clang (zig c++ -target <zig>); why, and why not mingw-w64 for Windows or
// Debian's cross compilers: docs/prebuilds.md.
// glibc targets name their floor in the triple: Zig links against stubs of that glibc version.
const TARGETS = [
  { id: 'linux-x64-glibc', platform: 'linux', arch: 'x64', libc: 'glibc', zig: 'x86_64-linux-gnu.2.17' },
  { id: 'linux-x64-musl', platform: 'linux', arch: 'x64', libc: 'musl', zig: 'x86_64-linux-musl' },
  { id: 'linux-arm64-glibc', platform: 'linux', arch: 'arm64', libc: 'glibc', zig: 'aarch64-linux-gnu.2.17' },
  { id: 'linux-arm64-musl', platform: 'linux', arch: 'arm64', libc: 'musl', zig: 'aarch64-linux-musl' },
  { id: 'darwin-x64', platform: 'darwin', arch: 'x64', zig: 'x86_64-macos' },
  { id: 'darwin-arm64', platform: 'darwin', arch: 'arm64', zig: 'aarch64-macos' },
  { id: 'win32-x64', platform: 'win32', arch: 'x64', zig: 'x86_64-windows-gnu' },
].map((t) => ({
  ...t,
  // relative to the package root, forward slashes (as npm pack lists files)
  file: `prebuilds/${t.platform}-${t.arch}/${NAME}${t.libc ? `.${t.libc}` : ''}.node`,
}));

// The highest glibc symbol version a linux glibc binary may need (its floor, stated in the README).
const GLIBC_FLOOR = '2.17';

function targetPath(t) {
  return path.join(ROOT, ...t.file.split('/'));
}

function selectTargets(ids) {
  if (!ids || ids.length === 0) return TARGETS;
  const unknown = ids.filter((id) => !TARGETS.some((t) => t.id === id));
  if (unknown.length) {
    throw new Error(`unknown target ${unknown.join(', ')} (targets: ${TARGETS.map((t) => t.id).join(', ')})`);
  }
  return TARGETS.filter((t) => ids.includes(t.id));
}

module.exports = { ROOT, NAME, TARGETS, GLIBC_FLOOR, targetPath, selectTargets };
