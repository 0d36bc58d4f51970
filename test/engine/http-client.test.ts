/**
 * How the HTTP client words the faults a real network has, first as a table of errors, then on
 * the wire against the scripted doubles (loopback only; `.invalid` never resolves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors as undiciErrors } from 'undici';
import { describeBodyFailure, describeError, HttpClient, type TlsTrust } from '../../src/engine/http-client.js';
import type { Observation } from '../../src/engine/observation.js';
import { drip, redirect, resetMidBody, selfSignedCertificate, startScriptedServer } from '../support/scripted-server.js';
import type { Behaviour, Certificate, ScriptedServer } from '../support/scripted-server.js';

/** An error as Node or undici raises it: an Error with extra fields. */
function nodeError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

const SELF_SIGNED = nodeError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate');
const TLS_ALERT = '\x15\x03\x03\x00\x02\x02\x46';
const TLS_ON_HTTP = 'tls: the target answered TLS on an http:// URL; use https://';
const CA_HINT = 'pass --ca FILE to trust it, or --insecure';
const SKIP_HINT = '--insecure skips verification';
const ALTNAMES = "Hostname/IP does not match certificate's altnames: Host: a. is not in the cert's altnames";
const OPENSSL = (reason: string) => ({ reason, message: `80:error:0A00010B:SSL routines::${reason}\n` });

describe('describeError', () => {
  it.each<[string, unknown, string]>([
    ['self-signed', SELF_SIGNED, `tls: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); ${CA_HINT}`],
    [
      'unknown issuer',
      nodeError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'),
      `tls: unable to get local issuer certificate (UNABLE_TO_GET_ISSUER_CERT_LOCALLY); ${CA_HINT}`,
    ],
    ['expired', nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), `tls: certificate has expired (CERT_HAS_EXPIRED); ${SKIP_HINT}`],
    ['wrong host', nodeError('ERR_TLS_CERT_ALTNAME_INVALID', ALTNAMES), `tls: ${ALTNAMES} (ERR_TLS_CERT_ALTNAME_INVALID); ${SKIP_HINT}`],
    [
      'plain HTTP on https://',
      Object.assign(nodeError('ERR_SSL_WRONG_VERSION_NUMBER', ''), OPENSSL('wrong version number')),
      'tls: the target did not answer TLS on an https:// URL (ERR_SSL_WRONG_VERSION_NUMBER); if it speaks plain HTTP, use http://',
    ],
    [
      'other handshake failure',
      Object.assign(nodeError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', ''), OPENSSL('sslv3 alert handshake failure')),
      'tls: sslv3 alert handshake failure (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)',
    ],
    ['TLS alert read as HTTP', nodeError('HPE_INVALID_CONSTANT', 'Expected HTTP/', { data: TLS_ALERT }), TLS_ON_HTTP],
    ['other parse error', nodeError('HPE_INVALID_CONSTANT', 'Expected HTTP/', { data: 'SSH-2.0-OpenSSH' }), 'HPE_INVALID_CONSTANT'],
    ['DNS', nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND x.invalid', { hostname: 'x.invalid' }), 'ENOTFOUND x.invalid'],
    ['refused', nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), 'ECONNREFUSED'],
    ['socket closed', new undiciErrors.SocketError('other side closed'), 'ECONNRESET'],
    ['head timeout', new undiciErrors.HeadersTimeoutError(), 'timeout'],
    ['connect timeout', new undiciErrors.ConnectTimeoutError(), 'timeout'],
  ])('%s', (_name, error, text) => {
    expect(describeError(error)).toBe(text);
  });

  it('names a failure after the head as the failure mid-body, keeping the head status', () => {
    expect(describeBodyFailure(new undiciErrors.BodyTimeoutError(), 200, 500)).toBe(
      'timeout mid-body: a 200 head, then the body was not complete within 500 ms',
    );
    expect(describeBodyFailure(new undiciErrors.SocketError('other side closed'), 201, 500)).toBe(
      'ECONNRESET mid-body: a 201 head, then the connection broke before the body was whole',
    );
  });
});

describe('HttpClient on the wire', () => {
  let cert: Certificate;
  let tlsServer: ScriptedServer;
  const servers: ScriptedServer[] = [];
  beforeAll(async () => {
    cert = selfSignedCertificate();
    tlsServer = await startScriptedServer((_req, res) => res.end('{}'), cert);
  });
  afterAll(() => Promise.all([tlsServer.close(), ...servers.map((s) => s.close())]));

  async function sendOnce(baseUrl: string, tls?: TlsTrust, requestTimeoutMs = 400): Promise<Observation> {
    const client = new HttpClient({ baseUrl, requestTimeoutMs, ...(tls ? { tls } : {}) });
    try {
      return await client.send({ probe: 'test', method: 'GET', path: '/x' });
    } finally {
      await client.close();
    }
  }
  async function plain(behaviour: Behaviour): Promise<string> {
    const server = await startScriptedServer(behaviour);
    servers.push(server);
    return server.url;
  }

  it('a body that trickles past the request timeout is a timeout, not the head status', async () => {
    const started = performance.now();
    const o = await sendOnce(await plain(drip(50)), undefined, 300);
    expect(o.status).toBeUndefined();
    expect(o.error).toBe('timeout mid-body: a 200 head, then the body was not complete within 300 ms');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a socket destroyed mid-body is a reset, not the head status', async () => {
    const o = await sendOnce(await plain(resetMidBody));
    expect(o.status).toBeUndefined();
    expect(o.error).toMatch(/^ECONNRESET mid-body: a 200 head/);
  });

  it('records a redirect and where it pointed, without following it', async () => {
    const o = await sendOnce(await plain(redirect('/login?next=%2Fx')));
    expect(o.status).toBe(302);
    expect(o.headers.location).toBe('/login?next=%2Fx');
  });

  it('names a self-signed certificate and the flags that get past it', async () => {
    const o = await sendOnce(tlsServer.url);
    expect(o.error).toBe('tls: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); pass --ca FILE to trust it, or --insecure');
  });

  it('trusts the certificate given as a CA, or any with insecure, and a sibling keeps the trust', async () => {
    expect((await sendOnce(tlsServer.url, { ca: cert.cert })).status).toBe(200);
    expect((await sendOnce(tlsServer.url, { insecure: true })).status).toBe(200);
    const client = new HttpClient({ baseUrl: tlsServer.url, requestTimeoutMs: 400, tls: { ca: cert.cert } });
    const sibling = client.sibling(2, 400);
    try {
      expect((await sibling.send({ probe: 'test', method: 'GET', path: '/x' })).status).toBe(200);
    } finally {
      await Promise.all([client.close(), sibling.close()]);
    }
  });

  it('says so when an http:// URL reaches a TLS port, and the other way round', async () => {
    const httpOnTls = await sendOnce(`http://127.0.0.1:${tlsServer.port}`);
    expect(httpOnTls.error).toBe(TLS_ON_HTTP);
    const httpPort = new URL(await plain((_req, res) => res.end('{}'))).port;
    const tlsOnHttp = await sendOnce(`https://127.0.0.1:${httpPort}`);
    expect(tlsOnHttp.error).toMatch(/^tls: the target did not answer TLS on an https:\/\/ URL \(ERR_SSL_[A-Z_]+\); if it speaks plain/);
  });

  it('a reset before any byte from a plain HTTP port stays a reset', async () => {
    const o = await sendOnce(await plain((req) => req.socket.destroy()));
    expect(o.error).toBe('ECONNRESET');
  });

  it('names the host that does not resolve', async () => {
    expect((await sendOnce('http://gatecheck-no-such-host.invalid:80')).error).toBe('ENOTFOUND gatecheck-no-such-host.invalid');
  });
});
