// Loads the native addon (node-gyp-build: a prebuild, else build/Release). The contract it implements is in
// lib/contract.ts; nothing but lib/server.ts touches the loaded addon.
import * as path from 'node:path';
import type { Binding } from './contract';
import { loadErrorMessage } from './load-error';

function load(): Binding {
  const root = path.join(__dirname, '..');
  // NOVA_HTTP_ADDON: an explicit .node file (sanitizer builds: scripts/test-asan.js, scripts/test-tsan.js).
  const override = process.env.NOVA_HTTP_ADDON;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.resolve(override)) as Binding;
  }
  // Two steps, so that the error can tell "no binary for this host" from "its binary would not load".
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  let file: string | undefined;
  try {
    file = gypBuild.resolve(root);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Binding;
  } catch (err) {
    throw new Error(loadErrorMessage(root, file, err), { cause: err });
  }
}

export const binding: Binding = load();
