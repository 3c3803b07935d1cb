// The I/O models every behaviour test runs in: `describe.each(ioModels)`, once per entry, with no per-model
// special cases. A new model or backend is one more entry here.
import type { ServerOptions } from '../../dist/index.js';

export type ModelOptions = Pick<ServerOptions, 'ioModel' | 'backend' | 'threads'>;
export const ioModels: ModelOptions[] = [
  { ioModel: 'blocking' },
  { ioModel: 'evented', backend: 'epoll' },
  { ioModel: 'evented', backend: 'poll' },
  { ioModel: 'evented', backend: 'epoll', threads: 0 },
];

/** A short name for a model in test output: blocking, evented/epoll, evented/poll, evented/epoll/inline. */
export const modelName = (m: ModelOptions) =>
  `${m.ioModel}${m.backend ? `/${m.backend}` : ''}${m.threads === 0 ? '/inline' : ''}`;
