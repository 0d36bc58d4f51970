/**
 * Scripted doubles for the faults a real network has: a Node server on a free loopback port whose
 * behaviour the test sets, request by request (the idea of autocannon's test servers). Plain HTTP,
 * or TLS with a throwaway self-signed certificate made by the `openssl` CLI (node:crypto cannot
 * issue certificates).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the server does with one request; `n` counts requests from 0. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export interface ScriptedServer {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Requests that reached the handler (a failed TLS handshake never does). */
  hits(): number;
  close(): Promise<void>;
}

export interface Certificate {
  key: string;
  cert: string;
  /** The certificate as a PEM file, for --ca. */
  certFile: string;
}

/** A self-signed certificate for 127.0.0.1, valid for a day. */
export function selfSignedCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'gatecheck-cert-'));
  const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  const made = spawnSync('openssl', [...args, ...subject, '-keyout', keyFile, '-out', certFile]);
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr.toString()}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** Starts the double; with `tls` it speaks HTTPS with that certificate. */
export async function startScriptedServer(behaviour: Behaviour, tls?: Certificate): Promise<ScriptedServer> {
  let hits = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => behaviour(req, res, hits++);
  const server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A drip or a hang keeps its socket open: close() would wait for it forever.
        server.closeAllConnections();
      }),
  };
}

/** 200 with a small JSON body to requests carrying `header: value`, 403 to the rest (a gateway that checks a key). */
export function keyed(header: string, value: string, refuse: Behaviour = forbidden): Behaviour {
  return (req, res, n) => (req.headers[header] === value ? res.end('{"ok":true}') : refuse(req, res, n));
}

export const forbidden: Behaviour = (_req, res) => {
  res.writeHead(403, { 'content-type': 'application/json' });
  res.end('{"message":"Forbidden"}');
};

/** A redirect to `location` (a login page). */
export function redirect(location: string, status = 302): Behaviour {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

/** Headers at once, then one byte of a promised 1 MB body every `everyMs`: never complete, never silent. */
export function drip(everyMs = 100): Behaviour {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1 << 20) });
    res.flushHeaders();
    const timer = setInterval(() => res.write(' '), everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** Headers and the start of a promised body, then the socket is destroyed. */
export const resetMidBody: Behaviour = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
  res.write('{"items":[');
  setTimeout(() => res.socket?.destroy(), 20);
};

/** `first` for the first `count` requests, `then` for the rest. */
export function after(count: number, first: Behaviour, then: Behaviour): Behaviour {
  return (req, res, n) => (n < count ? first(req, res, n) : then(req, res, n));
}
