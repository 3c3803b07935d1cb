// The I/O models every behaviour test runs in: `describe.each(ioModels)`, once per entry, with no per-model
// special cases. A new model or backend is one more entry here.
export type ModelOptions = { ioModel: string; backend?: string; threads?: number };
export const ioModels: ModelOptions[] = [
  { ioModel: 'blocking' },
  { ioModel: 'evented', backend: 'epoll' },
  { ioModel: 'evented', backend: 'poll' },
  { ioModel: 'evented', backend: 'epoll', threads: 0 },
];
