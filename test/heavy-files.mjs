// Test files that load the whole machine (thousands of connections or threads, a 1 GB body) or measure time:
// they run after the rest, one file at a time, so that one's load can't push another's deadlines (seen: the
// 10,000-connection flood made timers-accuracy miss its 250 ms bound when both ran at once).
export const heavyFiles = [
  'test/hostile-floods.test.ts',
  'test/hostile-slow.test.ts',
  'test/timers-accuracy.test.ts',
  'test/scale-concurrent.test.ts',
  'test/backpressure.test.ts',
  'test/hostile-spin.test.ts',
  'test/server-cycles.test.ts',
  'test/hostile-unread.test.ts',
  'test/hostile-refused.test.ts',
];
