// The Windows integration subset (node --test under wine with a Windows node.exe: scripts/win-test.js; vitest does
// not run there). The I/O models Windows has: blocking (a thread per connection, idle timeout through SO_RCVTIMEO)
// and evented over WSAPoll (the poll backend); epoll and the inline `threads: 0` model are Linux-only.
export const winModels = [
  { ioModel: 'blocking' },
  { ioModel: 'evented', backend: 'poll' },
];

export const label = (m: Record<string, unknown>) => JSON.stringify(m);
