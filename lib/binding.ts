// Loads the native addon (node-gyp-build: a prebuild, else build/Release). The contract it implements is in
// lib/contract.ts; nothing but lib/server.ts touches the loaded addon.
import * as path from 'node:path';
import type { Binding } from './contract';

function load(): Binding {
  const root = path.join(__dirname, '..');
  // NOVA_HTTP_ADDON: an explicit .node file (sanitizer builds: scripts/test-asan.js, scripts/test-tsan.js).
  const override = process.env.NOVA_HTTP_ADDON;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.resolve(override)) as Binding;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node-gyp-build')(root) as Binding;
  } catch (err) {
    const e = err as Error;
    throw new Error(
      `nova-http: could not load the native addon for ${process.platform}-${process.arch} ` +
        `(Node ${process.version}). No prebuilt binary matched and no local build was found; ` +
        `run "npm rebuild nova-http" with a C++17 compiler and Python installed. Cause: ${e.message}`,
      { cause: err },
    );
  }
}

export const binding: Binding = load();
