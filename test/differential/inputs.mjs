// The inputs of the differential run (test/differential/run.mjs): every case of test/corpus/*.txt (the format of
// test/corpus/README.md: `=== name` starts a case, `in:` / `in*N:` lines append escaped bytes), and variants of each
// generated from a seed derived from the case's id, so the same inputs (and ids) come back on every run:
//   <file>:<case>             the corpus input as it is
//   <file>:<case>#case        field names in random letter case
//   <file>:<case>#ows         random OWS (SP / HTAB) around field values
//   <file>:<case>#mut<k>      one random mutation, valid or not (bytes inserted, deleted or replaced in the head,
//                             a field line duplicated, another version, an extra framing-related field, a line end
//                             changed, a body byte changed)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import corpusUnescape from '../corpus/unescape.js';

const corpusDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../corpus');

const { unescape } = corpusUnescape;

/** [{ id, file, name, input }] for every case with input in test/corpus/*.txt, files in name order. */
export function corpusCases(dir = corpusDir) {
  const out = [];
  for (const file of fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
    let cur = null;
    fs.readFileSync(path.join(dir, file), 'utf8').split('\n').forEach((line, i) => {
      if (line.startsWith('=== ')) {
        cur = { file, name: line.slice(4).trim(), parts: [] };
        out.push(cur);
        return;
      }
      const m = /^in(?:\*(\d+))?: ?(.*)$/.exec(line);
      if (!m || !cur) return;
      const value = unescape(m[2], `${file}:${i + 1}`);
      for (let k = 0; k < Number(m[1] || 1); k++) cur.parts.push(value);
    });
  }
  return out
    .map((c) => ({ id: `${c.file.replace(/\.txt$/, '')}:${c.name}`, file: c.file, name: c.name,
      input: Buffer.concat(c.parts) }))
    .filter((c) => c.input.length > 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness: FNV-1a of the id seeds mulberry32.

function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function rng(id) {
  let seed = hash(id);
  const next = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Variants. Work on latin1 strings (one char per byte).

/** The first head of the input: [head (up to its final CRLF CRLF, or all), rest]. */
function splitHead(s) {
  const end = s.indexOf('\r\n\r\n');
  return end < 0 ? [s, ''] : [s.slice(0, end + 2), s.slice(end + 2)];
}

/** Maps each field line of the first head (not the request line) through f(line, index). */
function mapFieldLines(s, f) {
  const [head, rest] = splitHead(s);
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length - 1; i++) lines[i] = f(lines[i], i);
  return lines.join('\r\n') + rest;
}

function randomCase(s, r) {
  return mapFieldLines(s, (line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return line;
    let name = '';
    for (const ch of line.slice(0, colon)) name += r.next() < 0.5 ? ch.toUpperCase() : ch.toLowerCase();
    return name + line.slice(colon);
  });
}

function randomOws(s, r) {
  const ows = () => Array.from({ length: r.int(0, 3) }, () => (r.next() < 0.7 ? ' ' : '\t')).join('');
  return mapFieldLines(s, (line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return line;
    return `${line.slice(0, colon + 1)}${ows()}${line.slice(colon + 1).replace(/^[ \t]*|[ \t]*$/g, '')}${ows()}`;
  });
}

const BYTES = ['\x00', '\t', '\n', '\r', ' ', '\x7f', '\x80', '\xff', ':', ',', ';', '"', '\\', '/', '?', '#', '\x0b',
  '\x0c', 'A', '0', '-', '_', '@', '='];
const VERSIONS = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.10', 'HTTP/11', 'HTTPS/1.1'];
const FIELDS = [
  'Content-Length: 0', 'Content-Length: 3', 'Content-Length: -1', 'Content-Length: 1, 1', 'Content-Length: 1,2',
  'Content-Length: 007', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: gzip',
  'Transfer-Encoding: identity', 'Host: other', 'Host:', 'Expect: 100-continue', 'Connection: close',
  'Connection: keep-alive', 'Connection: upgrade', 'Upgrade: websocket', 'X-Empty:', 'X-Obs: \xe9t\xe9',
];

function mutate(s, r) {
  const [head, rest] = splitHead(s);
  const at = (str) => r.int(0, Math.max(0, str.length - 1));
  const kind = r.int(0, 7);
  switch (kind) {
    case 0: { // insert a byte in the head
      const i = at(head);
      return head.slice(0, i) + r.pick(BYTES) + head.slice(i) + rest;
    }
    case 1: { // delete a byte of the head
      const i = at(head);
      return head.slice(0, i) + head.slice(i + 1) + rest;
    }
    case 2: { // replace a byte of the head
      const i = at(head);
      return head.slice(0, i) + r.pick(BYTES) + head.slice(i + 1) + rest;
    }
    case 3: { // duplicate a field line
      const lines = head.split('\r\n');
      if (lines.length < 3) return s + r.pick(BYTES);
      const i = r.int(1, lines.length - 2);
      lines.splice(i, 0, lines[i]);
      return lines.join('\r\n') + rest;
    }
    case 4: // another version
      return s.replace(/HTTP\/\d\.\d/, r.pick(VERSIONS));
    case 5: { // an extra field
      const lines = head.split('\r\n');
      lines.splice(r.int(1, Math.max(1, lines.length - 1)), 0, r.pick(FIELDS));
      return lines.join('\r\n') + rest;
    }
    case 6: { // a line end becomes a bare LF or a bare CR
      const ends = [];
      for (let i = head.indexOf('\r\n'); i >= 0; i = head.indexOf('\r\n', i + 2)) ends.push(i);
      if (ends.length === 0) return s + '\n';
      const i = r.pick(ends);
      return head.slice(0, i) + (r.next() < 0.5 ? '\n' : '\r') + head.slice(i + 2) + rest;
    }
    default: { // a byte of the body (or of what follows the head) changes
      if (rest.length <= 2) return s + r.pick(BYTES);
      const i = 2 + at(rest.slice(2));
      return head + rest.slice(0, i) + r.pick(BYTES) + rest.slice(i + 1);
    }
  }
}

/** Every input: the corpus cases and `mutations` mutated variants of each (plus the case and OWS variants). */
export function allInputs({ mutations = 4 } = {}) {
  const out = [];
  const seen = new Set();
  const add = (id, from, s) => {
    const input = Buffer.from(s, 'latin1');
    const key = input.toString('latin1');
    if (seen.has(key)) return; // the same bytes twice: compared once, under the first id
    seen.add(key);
    out.push({ id, from, input });
  };
  for (const c of corpusCases()) {
    const s = c.input.toString('latin1');
    add(c.id, c.id, s);
    add(`${c.id}#case`, c.id, randomCase(s, rng(`${c.id}#case`)));
    add(`${c.id}#ows`, c.id, randomOws(s, rng(`${c.id}#ows`)));
    for (let k = 1; k <= mutations; k++) add(`${c.id}#mut${k}`, c.id, mutate(s, rng(`${c.id}#mut${k}`)));
  }
  return out;
}
