// Runs the native C++ tests (test/native/*_test.cc, built with ASan + UBSan from test/CMakeLists.txt by
// scripts/native-tests.js) so that `npm test` covers them; their own output is printed when one fails.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..');

it('native tests pass (scripts/native-tests.js)', async () => {
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, [join(root, 'scripts', 'native-tests.js')], { cwd: root, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code: status, output: stdout + stderr });
      });
  });
  if (code !== 0) console.error(output);
  expect(code).toBe(0);
}, 420_000);  // a first build compiles every test and core file (CMake, ASan): minutes on a loaded 2-core box
