// Reads what the darwin prebuilds must be checked for from a 64-bit Mach-O file (no macOS tools here): CPU, file
// type, the symbol table (defined/undefined externals), the dylibs it links and the minimum macOS version.
'use strict';

const MH_MAGIC_64 = 0xfeedfacf;
const CPU = { 0x01000007: 'x64', 0x0100000c: 'arm64' };
const FILETYPE = { 6: 'dylib', 8: 'bundle' };
const LC_SYMTAB = 0x2;
const LC_LOAD_DYLIB = 0xc;
const LC_VERSION_MIN_MACOSX = 0x24;
const LC_BUILD_VERSION = 0x32;
const N_STAB = 0xe0;
const N_TYPE = 0x0e;
const N_EXT = 0x01;
const N_UNDF = 0x0;

function version(v) {
  return `${v >>> 16}.${(v >>> 8) & 0xff}${v & 0xff ? `.${v & 0xff}` : ''}`;
}

function cstring(buf, off) {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end < 0 ? buf.length : end);
}

function readMachO(buf) {
  if (buf.length < 32 || buf.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  const out = {
    arch: CPU[buf.readUInt32LE(4)] || `cputype 0x${buf.readUInt32LE(4).toString(16)}`,
    filetype: FILETYPE[buf.readUInt32LE(12)] || `filetype ${buf.readUInt32LE(12)}`,
    dylibs: [],
    defined: [],
    undefined: [],
    minos: undefined,
  };
  const ncmds = buf.readUInt32LE(16);
  let off = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(off);
    const size = buf.readUInt32LE(off + 4);
    if (cmd === LC_LOAD_DYLIB) out.dylibs.push(cstring(buf, off + buf.readUInt32LE(off + 8)));
    if (cmd === LC_BUILD_VERSION) out.minos = version(buf.readUInt32LE(off + 12));
    if (cmd === LC_VERSION_MIN_MACOSX) out.minos = version(buf.readUInt32LE(off + 8));
    if (cmd === LC_SYMTAB) {
      const symoff = buf.readUInt32LE(off + 8);
      const nsyms = buf.readUInt32LE(off + 12);
      const stroff = buf.readUInt32LE(off + 16);
      for (let s = 0; s < nsyms; s++) {
        const e = symoff + s * 16;
        const type = buf.readUInt8(e + 4);
        if (type & N_STAB || !(type & N_EXT)) continue;
        const name = cstring(buf, stroff + buf.readUInt32LE(e));
        ((type & N_TYPE) === N_UNDF ? out.undefined : out.defined).push(name);
      }
    }
    if (size < 8) throw new Error(`load command ${i} has size ${size}`);
    off += size;
  }
  return out;
}

module.exports = { readMachO };
