/**
 * HTTP/1.1 response framing for the raw saturator: where each answer ends, its status, and whether
 * the server keeps the connection. Parsing stops at the status line and the three headers that
 * frame a message (Content-Length, Transfer-Encoding, Connection); everything else is skipped.
 */

/** An answer the framer cannot delimit: the connection is unusable after it. */
export class FramingError extends Error {}

/** Called once per complete final answer; `close` when the server will not read another request on this connection. */
export type OnResponse = (status: number, close: boolean) => void;

export function serialiseRequest(url: URL, method: string, headers: Record<string, string>): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const CONTENT_LENGTH = Buffer.from('content-length:');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding:');
const CONNECTION = Buffer.from('connection:');
const CHUNKED = Buffer.from('chunked');
const CLOSE = Buffer.from('close');
const KEEP_ALIVE = Buffer.from('keep-alive');

/**
 * Where the body of the answer being read ends: `head` while reading a head, `length` after
 * `bodyLeft` more bytes, `chunked`, or `until-close` (no Content-Length, no chunking: RFC 9112 §6.3 rule 8).
 */
type Body = 'head' | 'length' | 'chunked' | 'until-close';

const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/** Whether `b[at..]` starts with the lowercase `name`, compared case-insensitively. */
function startsWith(b: Buffer, at: number, name: Buffer): boolean {
  if (at + name.length > b.length) return false;
  for (let j = 0; j < name.length; j++) if (lower(b[at + j]!) !== name[j]) return false;
  return true;
}

/** Whether the comma-separated value `b[start..end)` lists `token` (lowercase), case-insensitively. */
function hasToken(b: Buffer, start: number, end: number, token: Buffer): boolean {
  for (let i = start; i + token.length <= end; i++) {
    if (!startsWith(b, i, token)) continue;
    const before = i === start ? 44 : b[i - 1]!;
    const after = i + token.length === end ? 44 : b[i + token.length]!;
    const edge = (c: number) => c === 44 || c === 32 || c === 9;
    if (edge(before) && edge(after)) return true;
  }
  return false;
}

/** A Content-Length value as a number; a value that is not all digits (after OWS) is a framing error. */
function lengthValue(b: Buffer, start: number, end: number): number {
  while (start < end && (b[start] === 32 || b[start] === 9)) start++;
  while (end > start && (b[end - 1] === 32 || b[end - 1] === 9)) end--;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) throw new FramingError(`bad Content-Length "${b.toString('latin1', start, end)}"`);
    n = n * 10 + d;
  }
  if (end === start) throw new FramingError('empty Content-Length');
  return n;
}

/**
 * Incremental response framing: feed bytes, get a callback per complete answer. Framing follows
 * RFC 9112 §6.3: no body for an answer to HEAD, for 204, 304 and 1xx (interim 1xx heads are skipped,
 * not counted: the final answer follows); then chunked, Content-Length, or the body runs to the close.
 * The request method is needed because a HEAD answer carries the Content-Length of a body it omits.
 */
export class ResponseFramer {
  private buffered: Buffer = Buffer.alloc(0);
  private body: Body = 'head';
  private bodyLeft = 0;
  private status = 0;
  private close = false;
  private readonly head: boolean;

  constructor(
    private readonly onResponse: OnResponse,
    method = 'GET',
  ) {
    this.head = method.toUpperCase() === 'HEAD';
  }

  /** Feeds received bytes; throws FramingError on an answer it cannot delimit. */
  push(chunk: Buffer): void {
    // A body that runs to the close is skipped as it arrives: nothing in it needs framing.
    if (this.body === 'until-close') return;
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.step());
  }

  /** Frames one head, chunk or body from the buffered bytes; false when more bytes are needed. */
  private step(): boolean {
    switch (this.body) {
      case 'head':
        return this.readHead();
      case 'length':
        return this.skipLength();
      case 'chunked':
        return this.skipChunk();
      case 'until-close':
        this.buffered = Buffer.alloc(0);
        return false;
    }
  }

  /**
   * The connection ended. Completes an answer whose body runs to the close and says whether the
   * framer was between answers (true) or one was cut short (false).
   */
  end(): boolean {
    if (this.body === 'until-close') {
      this.body = 'head';
      this.buffered = Buffer.alloc(0);
      this.onResponse(this.status, true);
      return true;
    }
    return this.body === 'head' && this.buffered.length === 0;
  }

  /** Reads one head when it is complete; sets the body framing. False when more bytes are needed. */
  private readHead(): boolean {
    const b = this.buffered;
    const end = b.indexOf(HEAD_END);
    if (end < 0) return false;
    // "HTTP/1.x 200 ...": the minor version at byte 7, status digits at bytes 9..11.
    const line = () => b.toString('latin1', 0, Math.min(b.indexOf(CRLF), 40));
    const http1 = b[0] === 72 && b[4] === 47 && b[5] === 49 && b[6] === 46 && b[8] === 32;
    if (!http1) throw new FramingError(`not an HTTP/1.x status line: "${line()}"`);
    const status = (b[9]! - 48) * 100 + (b[10]! - 48) * 10 + (b[11]! - 48);
    if (!(status >= 100 && status <= 599)) throw new FramingError(`bad status in "${line()}"`);
    this.buffered = b.subarray(end + 4);
    if (status < 200) {
      // 101 hands the connection to another protocol: no further HTTP answer can be framed on it.
      if (status === 101) throw new FramingError('101 Switching Protocols');
      return true;
    }
    this.status = status;
    this.frameBody(b, end, b[7] === 48);
    return true;
  }

  /** Sets `body`, `bodyLeft` and `close` from the framing headers of the head `b[0..end)`, one pass over its lines. */
  private frameBody(b: Buffer, end: number, http10: boolean): void {
    let length = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = http10;
    // Read byte by byte: on a head of a few short lines, a native indexOf per line costs more than it saves.
    let lineEnd = 0;
    while (b[lineEnd] !== 13) lineEnd++;
    for (let start = lineEnd + 2; start < end; start = lineEnd + 2) {
      lineEnd = start;
      while (lineEnd < end && b[lineEnd] !== 13) lineEnd++;
      const c = lower(b[start]!);
      if (c === 99 && startsWith(b, start, CONTENT_LENGTH)) length = lengthValue(b, start + CONTENT_LENGTH.length, lineEnd);
      else if (c === 99 && startsWith(b, start, CONNECTION)) {
        const from = start + CONNECTION.length;
        close = http10 ? !hasToken(b, from, lineEnd, KEEP_ALIVE) : hasToken(b, from, lineEnd, CLOSE);
      } else if (c === 116 && startsWith(b, start, TRANSFER_ENCODING)) {
        transferEncoding = true;
        // Chunked only when it is the last coding applied (RFC 9112 §6.3 rule 4).
        let valueEnd = lineEnd;
        while (valueEnd > start && (b[valueEnd - 1] === 32 || b[valueEnd - 1] === 9)) valueEnd--;
        chunked = valueEnd - CHUNKED.length >= start && startsWith(b, valueEnd - CHUNKED.length, CHUNKED);
      }
    }
    this.close = close;
    this.bodyLeft = 0;
    if (this.head || this.status === 204 || this.status === 304) this.body = 'length';
    else if (transferEncoding) this.body = chunked ? 'chunked' : 'until-close';
    else if (length >= 0) {
      this.body = 'length';
      this.bodyLeft = length;
    } else this.body = 'until-close';
  }

  /** Skips the rest of a Content-Length body; false when more bytes are needed. */
  private skipLength(): boolean {
    if (this.buffered.length < this.bodyLeft) return false;
    this.buffered = this.buffered.subarray(this.bodyLeft);
    this.complete();
    return true;
  }

  /** Skips one chunk (or the last chunk and its trailers); false when more bytes are needed. */
  private skipChunk(): boolean {
    const lineEnd = this.buffered.indexOf(CRLF);
    if (lineEnd < 0) return false;
    const size = parseInt(this.buffered.toString('latin1', 0, lineEnd), 16);
    if (!(size >= 0)) throw new FramingError(`bad chunk size line "${this.buffered.toString('latin1', 0, Math.min(lineEnd, 40))}"`);
    if (size === 0) {
      // The last chunk, then trailer fields (usually none), then an empty line.
      const trailersEnd = this.buffered.indexOf(HEAD_END, lineEnd);
      if (trailersEnd < 0) return false;
      this.buffered = this.buffered.subarray(trailersEnd + 4);
      this.complete();
      return true;
    }
    if (this.buffered.length < lineEnd + 2 + size + 2) return false;
    this.buffered = this.buffered.subarray(lineEnd + 2 + size + 2);
    return true;
  }

  private complete(): void {
    this.body = 'head';
    this.onResponse(this.status, this.close);
  }
}
