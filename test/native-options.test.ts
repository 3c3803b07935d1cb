// The addon takes every option from lib/options.ts and has no defaults of its own: an options object that lacks
// one (or carries a non-number) is refused with a TypeError naming it, instead of a silent native default.
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';

const require = createRequire(import.meta.url);
const { binding } = require('../dist/binding.js');
const { resolveOptions, toNativeOptions } = require('../dist/options.js');

describe('native options', () => {
  const all = toNativeOptions(resolveOptions({}));

  test('every option lib/options.ts sends is accepted', () => {
    expect(() => new binding.Server(all, () => {})).not.toThrow();
  });

  test.each(Object.keys(all))('without %s: a TypeError naming it', (name) => {
    const partial = { ...all };
    delete partial[name];
    expect(() => new binding.Server(partial, () => {})).toThrow(TypeError);
    expect(() => new binding.Server(partial, () => {})).toThrow(new RegExp(`"${name}"`));
    expect(() => new binding.Server({ ...all, [name]: 'x' }, () => {})).toThrow(new RegExp(`"${name}"`));
  });
});
