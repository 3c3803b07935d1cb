'use strict';
// A private copy of the nova-http build for the length of a run: others rebuild build/ and dist/ in this repository
// while a run goes on (a rebuild mid-run made cells fail at random), so every nova-http cell loads the same files.
const fs = require('node:fs');
const path = require('node:path');

// Copies package.json, dist/, build/Release/*.node and prebuilds/ of `root` to `dest` (node_modules is linked).
// Returns { dir, note } or null when there is no build to copy (nova-http then reports itself as not built).
function snapshotNova(root, dest) {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) return null;
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dest, 'package.json'));
  fs.cpSync(path.join(root, 'dist'), path.join(dest, 'dist'), { recursive: true });
  const rel = path.join('build', 'Release');
  const addons = fs.existsSync(path.join(root, rel)) ? fs.readdirSync(path.join(root, rel)).filter((n) => n.endsWith('.node')) : [];
  for (const n of addons) {
    fs.mkdirSync(path.join(dest, rel), { recursive: true });
    fs.copyFileSync(path.join(root, rel, n), path.join(dest, rel, n));
  }
  if (fs.existsSync(path.join(root, 'prebuilds'))) {
    fs.cpSync(path.join(root, 'prebuilds'), path.join(dest, 'prebuilds'), { recursive: true });
  }
  if (fs.existsSync(path.join(root, 'node_modules'))) {
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dest, 'node_modules'), 'dir');
  }
  const built = addons.map((n) => fs.statSync(path.join(root, rel, n)).mtime.toISOString());
  return { dir: dest, note: `snapshot of dist/ and ${addons.length ? `build/Release (${addons.join(', ')}, built ${built.join(', ')})` : 'prebuilds/'}` };
}

module.exports = { snapshotNova };
