// The addon load error (lib/load-error.ts): it names the host (platform, arch, libc, Node and N-API version), lists
// the package's prebuilt binaries and says how to build from source; a binary that matched but failed to load is
// named with its cause. (scripts/install-test.js checks the same message end to end from an installed tarball.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { hostLibc, loadErrorMessage, shippedPrebuilds } from '../lib/load-error';

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function fakePackage(files: string[]): string {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nova-load-error-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
  return root;
}

describe('load error', () => {
  test('lists the prebuilds by platform-arch with their libc tags', () => {
    const dir = fakePackage([
      'prebuilds/linux-x64/nova_http.glibc.node', 'prebuilds/linux-x64/nova_http.musl.node',
      'prebuilds/darwin-arm64/nova_http.node', 'prebuilds/win32-x64/nova_http.node', 'prebuilds/empty/readme.txt',
    ]);
    expect(shippedPrebuilds(dir)).toEqual(['darwin-arm64', 'linux-x64 (glibc, musl)', 'win32-x64']);
  });

  test('no binary for this host: names the host, lists what the package has, says how to build', () => {
    const dir = fakePackage(['prebuilds/darwin-x64/nova_http.node']);
    const msg = loadErrorMessage(dir, undefined, new Error('No native build was found'));
    const libc = hostLibc();
    expect(msg).toBe([
      `nova-http: no native addon for ${process.platform}-${process.arch}${libc ? ` (${libc})` : ''}, ` +
        `Node ${process.version} (N-API ${process.versions.napi}): no prebuilt binary matches and there is no local build.`,
      'The package has prebuilt binaries for: darwin-x64.',
      'To build it from source (needs a C++17 compiler, make and Python 3): npm rebuild nova-http --build-from-source',
    ].join('\n'));
  });

  test('a binary that matched but would not load is named, with the loader\'s reason', () => {
    const dir = fakePackage(['prebuilds/linux-x64/nova_http.glibc.node']);
    const file = path.join(dir, 'prebuilds/linux-x64/nova_http.glibc.node');
    const msg = loadErrorMessage(dir, file, new Error("/lib/libc.so.6: version `GLIBC_2.99' not found"));
    expect(msg.split('\n')[0]).toContain(`the native addon prebuilds${path.sep}linux-x64${path.sep}nova_http.glibc.node failed to load on ${process.platform}-${process.arch}`);
    expect(msg.split('\n')[0]).toContain("version `GLIBC_2.99' not found");
    expect(msg).toContain('The package has prebuilt binaries for: linux-x64 (glibc).');
    expect(msg).toContain('npm rebuild nova-http --build-from-source');
  });

  test('a package without prebuilds/ says so', () => {
    const dir = fakePackage([]);
    expect(loadErrorMessage(dir, undefined, 'x')).toContain('The package has prebuilt binaries for: none (no prebuilds/ directory).');
  });

  test.runIf(process.platform === 'linux')('on Linux the libc is named: glibc with its version, or musl', () => {
    expect(hostLibc()).toMatch(fs.existsSync('/etc/alpine-release') ? /^musl$/ : /^glibc \d+\.\d+/);
  });
});
