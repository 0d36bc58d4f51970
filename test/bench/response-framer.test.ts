import { describe, expect, it } from 'vitest';
import { FramingError, ResponseFramer, serialiseRequest } from '../../src/bench/response-framer.js';

/** Frames `chunks` for `method`; "200" per answer, "200 close" when the server will close. */
function frame(chunks: string[], method = 'GET', end = false): string[] {
  const answers: string[] = [];
  const framer = new ResponseFramer((status, close) => answers.push(close ? `${status} close` : String(status)), method);
  for (const c of chunks) framer.push(Buffer.from(c, 'latin1'));
  if (end) answers.push(framer.end() ? 'ended between answers' : 'ended inside an answer');
  return answers;
}

/** Every way of cutting `text` in two: a framer must give the same answers for each. */
function everyCut(text: string, method: string, expected: string[]): void {
  for (let cut = 1; cut < text.length; cut++) {
    expect(frame([text.slice(0, cut), text.slice(cut)], method), `cut at ${cut}`).toEqual(expected);
  }
}

const fixed = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
const chunked = 'HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
// What nginx answers a HEAD: the Content-Length of the body a GET would get, and no body.
const head = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n';

describe('response framing', () => {
  it('frames Content-Length and chunked answers, back to back', () => {
    expect(frame([fixed + chunked + fixed])).toEqual(['200', '429', '200']);
  });

  it('frames answers cut at every byte boundary', () => {
    everyCut(fixed + chunked, 'GET', ['200', '429']);
  });

  it('frames a HEAD answer without its body: its Content-Length counts bytes it does not carry', () => {
    expect(frame([head + head + head], 'HEAD')).toEqual(['200', '200', '200']);
    everyCut(head + head, 'head', ['200', '200']);
    // The same bytes for a GET are one head still waiting for its 11 bytes: the stall HEAD used to cause.
    expect(frame([head], 'GET')).toEqual([]);
  });

  it('frames 204 and 304 without a body, whatever their Content-Length says', () => {
    const noContent = 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n';
    const notModified = 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 1234\r\n\r\n';
    everyCut(noContent + notModified + fixed, 'GET', ['204', '304', '200']);
  });

  it('skips interim 1xx heads and counts only the final answer; 101 cannot be framed further', () => {
    everyCut('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n' + fixed, 'GET', ['200']);
    expect(() => frame(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'])).toThrow(FramingError);
  });

  it('frames chunked bodies with extensions, several chunks and trailer fields', () => {
    const body =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;name=x\r\nabcd\r\nA\r\n0123456789\r\n' +
      '0\r\nDigest: sha-256=x\r\nOther: y\r\n\r\n';
    everyCut(body + fixed, 'GET', ['200', '200']);
  });

  it('lets Transfer-Encoding override Content-Length (RFC 9112 §6.3)', () => {
    const both = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n';
    expect(frame([both + fixed])).toEqual(['200', '200']);
  });

  it('matches the framing headers in any letter case', () => {
    expect(frame(['HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length:2 \r\n\r\nok'])).toEqual(['200', '200']);
  });

  it('says when the server will close the connection after an answer', () => {
    const close = (headers: string, version = '1.1') => frame([`HTTP/${version} 200 OK\r\n${headers}Content-Length: 0\r\n\r\n`]);
    expect(close('Connection: close\r\n')).toEqual(['200 close']);
    expect(close('connection: Upgrade, CLOSE\r\n')).toEqual(['200 close']);
    expect(close('Connection: keep-alive\r\n')).toEqual(['200']);
    expect(close('')).toEqual(['200']);
    // HTTP/1.0 closes unless it says keep-alive.
    expect(close('', '1.0')).toEqual(['200 close']);
    expect(close('Connection: Keep-Alive\r\n', '1.0')).toEqual(['200']);
  });

  it('reads a body without Content-Length or chunking to the close', () => {
    const chunks = ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome', ' more HTTP/1.1 200 looks like a head'];
    expect(frame(chunks, 'GET', true)).toEqual(['200 close', 'ended between answers']);
  });

  it('says when the connection ended inside an answer', () => {
    expect(frame([fixed.slice(0, -2)], 'GET', true)).toEqual(['ended inside an answer']);
    expect(frame([fixed], 'GET', true)).toEqual(['200', 'ended between answers']);
  });

  it('refuses what it cannot frame', () => {
    expect(() => frame(['SSH-2.0-OpenSSH_9.2\r\n\r\n'])).toThrow(FramingError);
    expect(() => frame(['HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n'])).toThrow(/bad Content-Length "5x"/);
    expect(() => frame(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'])).toThrow(/bad chunk size/);
  });

  it('serialises the request once, with Host and keep-alive', () => {
    const request = serialiseRequest(new URL('http://127.0.0.1:8080/a?b=1'), 'GET', { 'x-api-key': 'k' }).toString();
    expect(request).toBe('GET /a?b=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nconnection: keep-alive\r\nx-api-key: k\r\n\r\n');
  });
});
