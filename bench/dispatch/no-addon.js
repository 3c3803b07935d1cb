'use strict';
// A stand-in for the addon (bench/dispatch/run.js): the benchmark's Server subclass injects its own native server,
// so constructing this one means the injection broke.
exports.Server = class {
  constructor() {
    throw new Error('bench/dispatch: the fake native server was not injected');
  }
};
