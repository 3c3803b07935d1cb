// The escapes of test/corpus/README.md (\r \n \t \\ \0 \xHH) turned into bytes: shared by the scripts that read
// the corpus from JavaScript (test/fuzz/make-seeds.js, test/differential/inputs.mjs).
'use strict';

function unescape(v, where) {
  const out = [];
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c !== '\\') {
      out.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const e = v[++i];
    if (e === 'r') out.push(13);
    else if (e === 'n') out.push(10);
    else if (e === 't') out.push(9);
    else if (e === '0') out.push(0);
    else if (e === '\\') out.push(92);
    else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      out.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`${where}: bad escape \\${e}`);
  }
  return Buffer.from(out);
}

module.exports = { unescape };
