// Splitting the bytes a client received into responses by each response's own framing (Content-Length, chunked,
// close), with 1xx interim responses apart and whatever follows the last complete response.

export interface ParsedResponse {
  /** The exact bytes of this response (latin1: one char per byte). */
  raw: string;
  /** Status line and fields, without the final CRLF CRLF. */
  head: string;
  version: string;
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  /** The body with the framing removed (chunked decoded). */
  body: Buffer;
  framing: 'none' | 'length' | 'chunked' | 'close';
  trailers: Array<[string, string]>;
  /** First value of a field, case-insensitive. */
  header(name: string): string | undefined;
}

export interface SplitResult {
  /** Complete final responses (1xx interim responses are in `interim`, not here). */
  responses: ParsedResponse[];
  interim: ParsedResponse[];
  /** Bytes after the last complete response (a partial response, or garbage). */
  rest: string;
}

export interface SplitOptions {
  /** The peer closed: a response without Content-Length or chunked framing ends here. */
  closed?: boolean;
  /** Indices (among final responses) of responses to HEAD requests: they have no body. */
  head?: number[];
}

function makeResponse(
  raw: string,
  head: string,
  version: string,
  status: number,
  reason: string,
  headers: Array<[string, string]>,
  body: Buffer,
  framing: ParsedResponse['framing'],
  trailers: Array<[string, string]>,
): ParsedResponse {
  return {
    raw,
    head,
    version,
    status,
    reason,
    headers,
    body,
    framing,
    trailers,
    header(name: string) {
      const n = name.toLowerCase();
      return headers.find(([k]) => k.toLowerCase() === n)?.[1];
    },
  };
}

function parseFields(lines: string[]): Array<[string, string]> {
  return lines.map((l) => {
    const i = l.indexOf(':');
    return (i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1).trim()]) as [string, string];
  });
}

/** Splits the bytes a client received into complete responses, using each response's own framing. */
export function splitResponses(data: Buffer | string, opts: SplitOptions = {}): SplitResult {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const responses: ParsedResponse[] = [];
  const interim: ParsedResponse[] = [];
  let off = 0;
  for (;;) {
    if (off >= buf.length) break;
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (headEnd < 0) break;
    const head = buf.toString('latin1', off, headEnd);
    const lines = head.split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) break;
    const status = Number(m[2]);
    const headers = parseFields(lines.slice(1));
    const get = (n: string) => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(
        makeResponse(buf.toString('latin1', off, bodyStart), head, m[1], status, m[3] ?? '', headers,
          Buffer.alloc(0), 'none', []),
      );
      off = bodyStart;
      continue;
    }
    const index = responses.length;
    let end = -1;
    let body: Buffer = Buffer.alloc(0);
    let framing: ParsedResponse['framing'];
    const trailers: Array<[string, string]> = [];
    const te = get('transfer-encoding').join(',').toLowerCase();
    const cl = get('content-length');
    if (opts.head?.includes(index) || status === 204 || status === 304) {
      framing = 'none';
      end = bodyStart;
    } else if (te && /(^|,)\s*chunked\s*$/.test(te)) {
      framing = 'chunked';
      const parts: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le < 0) break;
        const size = parseInt(buf.toString('latin1', p, le).split(';')[0].trim(), 16);
        if (Number.isNaN(size)) {
          end = -2; // garbage: stop splitting here
          break;
        }
        if (size === 0) {
          let q = le + 2;
          let done = false;
          for (;;) {
            const tle = buf.indexOf('\r\n', q, 'latin1');
            if (tle < 0) break;
            if (tle === q) {
              end = q + 2;
              done = true;
              break;
            }
            trailers.push(...parseFields([buf.toString('latin1', q, tle)]));
            q = tle + 2;
          }
          if (!done) end = -1;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      if (end === -2) break;
    } else if (cl.length > 0) {
      framing = 'length';
      const n = Number(cl[0]);
      if (bodyStart + n <= buf.length) {
        end = bodyStart + n;
        body = buf.subarray(bodyStart, end);
      }
    } else {
      framing = 'close';
      if (opts.closed) {
        end = buf.length;
        body = buf.subarray(bodyStart, end);
      }
    }
    if (end < 0) break;
    responses.push(
      makeResponse(buf.toString('latin1', off, end), head, m[1], status, m[3] ?? '', headers, Buffer.from(body),
        framing, trailers),
    );
    off = end;
  }
  return { responses, interim, rest: buf.toString('latin1', off) };
}
