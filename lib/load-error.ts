// The message of a failed addon load: which host this is (platform, arch, libc, Node), which binaries the package
// has, and how to build one from source. Kept apart from the loader (lib/binding.ts) so it is tested on its own.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** 'glibc 2.36' / 'musl' on Linux (node-gyp-build takes a host with /etc/alpine-release as musl); '' elsewhere. */
export function hostLibc(): string {
  if (process.platform !== 'linux') return '';
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const glibc = report?.header?.glibcVersionRuntime;
  if (glibc && !fs.existsSync('/etc/alpine-release')) return `glibc ${glibc}`;
  return 'musl';
}

/** What prebuilds/ holds, e.g. ['darwin-arm64', 'linux-x64 (glibc, musl)', 'win32-x64']. */
export function shippedPrebuilds(root: string): string[] {
  const dir = path.join(root, 'prebuilds');
  let subdirs: string[];
  try {
    subdirs = fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
  return subdirs.flatMap((sub) => {
    let files: string[];
    try {
      files = fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.node'));
    } catch {
      return [];
    }
    if (files.length === 0) return [];
    const libcs = files.map((f) => f.split('.').find((tag) => tag === 'glibc' || tag === 'musl')).filter(Boolean);
    return [libcs.length ? `${sub} (${libcs.join(', ')})` : sub];
  });
}

/**
 * @param file the binary that matched this host but failed to load (a mismatch), or undefined when none matched
 */
export function loadErrorMessage(root: string, file: string | undefined, cause: unknown): string {
  const libc = hostLibc();
  const host = `${process.platform}-${process.arch}${libc ? ` (${libc})` : ''}, Node ${process.version} ` +
    `(N-API ${process.versions.napi})`;
  const has = shippedPrebuilds(root);
  const why = cause instanceof Error ? cause.message : String(cause);
  return [
    file
      ? `nova-http: the native addon ${path.relative(root, file)} failed to load on ${host}: ${why}`
      : `nova-http: no native addon for ${host}: no prebuilt binary matches and there is no local build.`,
    `The package has prebuilt binaries for: ${has.length ? has.join(', ') : 'none (no prebuilds/ directory)'}.`,
    'To build it from source (needs a C++17 compiler, make and Python 3): npm rebuild nova-http --build-from-source',
  ].join('\n');
}
