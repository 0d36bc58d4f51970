/**
 * A second real WAF for end-to-end tests: Apache httpd with ModSecurity v2 (mod_security2) and the
 * OWASP Core Rule Set, as Debian packages them, reverse-proxying to a tiny Node backend. Started
 * from a test on a free loopback port, in a throw-away directory of its own, like nginx.ts.
 *
 * Why a Node backend behind mod_proxy (not a static file as in nginx.ts): it answers 200 to any
 * method on any path below /api/, so the path placement and the body placements (POST) reach
 * ModSecurity and then get a normal answer, as they would in front of a real API. ModSecurity v2
 * runs phase 1 and phase 2 (request body) in Apache's hooks before the proxy handler, so CRS sees
 * every request, whatever the backend does.
 *
 * Variants: `correct` (SecRuleEngine On), `waf-detection-only` (DetectionOnly: rules match and log
 * but never deny) and `waf-off` (SecRuleEngine Off). `paranoia` sets the CRS paranoia level.
 *
 * Needs the Debian packages apache2, libapache2-mod-security2 and modsecurity-crs;
 * `apacheAvailable()` says whether they are there. The system apache2 is never used: no
 * /etc/apache2 config, pid file, log or lock outside the temp directory is touched.
 *
 * Tuning: as in nginx.ts, CRS rule 920350 (numeric Host header) is removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crsIncludes, freePort, NGINX_PATHS, readIfExists, setDirective, sleep, type CrsParanoia } from './nginx.js';

export const APACHE_VARIANTS = ['correct', 'waf-detection-only', 'waf-off'] as const;
export type ApacheVariant = (typeof APACHE_VARIANTS)[number];

export interface ApacheOptions {
  variant: ApacheVariant;
  /** CRS paranoia level, default 1. */
  paranoia?: CrsParanoia;
}

export interface RunningApache {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  variant: ApacheVariant;
  paranoia: CrsParanoia;
  /** Apache's error log so far (ModSecurity writes its rule matches there). Empty after stop(). */
  errorLog(): string;
  /** Requests the backend answered: what got past ModSecurity. */
  backendHits(): number;
  /** SIGTERM (children included), SIGKILL after a bound, backend closed, temp directory removed. Idempotent. */
  stop(): Promise<void>;
}

/** Files the harness needs; all absolute, as installed by the Debian packages. */
export const APACHE_PATHS = {
  binary: '/usr/sbin/apache2',
  modulesDir: '/usr/lib/apache2/modules',
  security2: '/usr/lib/apache2/modules/mod_security2.so',
  modsecurityConf: '/etc/modsecurity/modsecurity.conf-recommended',
  unicodeMapping: '/etc/modsecurity/unicode.mapping',
  crsSetup: NGINX_PATHS.crsSetup,
  crsRulesDir: NGINX_PATHS.crsRulesDir,
} as const;

/** Modules loaded from APACHE_PATHS.modulesDir (core, unixd and log_config are compiled in). */
const MODULES = ['mpm_event', 'authz_core', 'unique_id', 'proxy', 'proxy_http', 'security2'] as const;

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;

/** True when apache2, mod_security2, its recommended config and the CRS rules are all installed. */
export function apacheAvailable(): boolean {
  return (
    Object.values(APACHE_PATHS).every((path) => existsSync(path)) &&
    MODULES.every((m) => existsSync(join(APACHE_PATHS.modulesDir, `mod_${m}.so`))) &&
    existsSync(join(APACHE_PATHS.crsRulesDir, 'REQUEST-949-BLOCKING-EVALUATION.conf'))
  );
}

/** Starts the backend, then Apache in front of it; resolves once GET /health answers through Apache. */
export async function startApache(options: ApacheOptions): Promise<RunningApache> {
  const { variant } = options;
  const paranoia = options.paranoia ?? 1;
  if (!(APACHE_VARIANTS as readonly string[]).includes(variant)) throw new Error(`unknown apache variant "${variant}"`);
  if (!apacheAvailable())
    throw new Error(`Apache with ModSecurity v2 and CRS is not installed (need ${Object.values(APACHE_PATHS).join(', ')})`);

  const backend = await startBackend();
  const dir = mkdtempSync(join(tmpdir(), 'gatecheck-apache-'));
  try {
    layOut(dir, variant, paranoia);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeFileSync(join(dir, 'httpd.conf'), httpdConf(dir, port, backend.port), { mode: 0o600 });
      const started = await launch(dir, port);
      if (started.ok) {
        return handleFor(started.child, started.exited, { dir, port, variant, paranoia, backend });
      }
      const log = `${readIfExists(join(dir, 'error.log'))}${started.output}`;
      if (attempt < PORT_ATTEMPTS && /Address already in use/.test(log)) continue;
      throw new Error(
        `apache2 (variant ${variant}) did not start: ${started.reason}\n--- apache error log ---\n${log.trim() || '(empty)'}`,
      );
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    await backend.close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The backend: any method, any path below /api/ → 200 {"ok":true}; /health → {"status":"ok"}.

interface Backend {
  port: number;
  hits(): number;
  close(): Promise<void>;
}

async function startBackend(): Promise<Backend> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    // Drain the body first: a proxied POST is answered only once it has been read.
    req.resume();
    req.on('end', () => {
      if (req.url === '/health') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Files

function layOut(dir: string, variant: ApacheVariant, paranoia: CrsParanoia): void {
  // Started as root, Apache's children run as `nobody`: they enter the directory (0711) and write
  // to ModSecurity's data and temp folders. The configs are read by the parent, as root.
  chmodSync(dir, 0o711);
  for (const sub of ['modsec-data', 'modsec-tmp', 'run']) {
    mkdirSync(join(dir, sub));
    chmodSync(join(dir, sub), 0o777);
  }
  writeFileSync(join(dir, 'modsecurity-base.conf'), modsecurityBaseConf(dir, variant), { mode: 0o600 });
  const rules = [
    `# ModSecurity v2 for gatecheck's Apache harness (variant ${variant}).`,
    `Include ${join(dir, 'modsecurity-base.conf')}`,
    ...crsIncludes(paranoia),
    '',
  ];
  writeFileSync(join(dir, 'modsec.conf'), rules.join('\n'), { mode: 0o600 });
}

/** Debian's modsecurity.conf-recommended with the paths and the engine mode rewritten. */
function modsecurityBaseConf(dir: string, variant: ApacheVariant): string {
  let text = readFileSync(APACHE_PATHS.modsecurityConf, 'utf8');
  const engine = variant === 'correct' ? 'On' : variant === 'waf-detection-only' ? 'DetectionOnly' : 'Off';
  const codepage = /^\s*SecUnicodeMapFile\s+\S+\s+(\d+)/m.exec(text)?.[1] ?? '20127';
  const directives: Array<[string, string]> = [
    ['SecRuleEngine', engine],
    ['SecAuditEngine', 'Off'],
    ['SecAuditLog', join(dir, 'modsec_audit.log')],
    ['SecDataDir', join(dir, 'modsec-data')],
    ['SecTmpDir', join(dir, 'modsec-tmp')],
    ['SecUnicodeMapFile', `${APACHE_PATHS.unicodeMapping} ${codepage}`],
    ['SecStatusEngine', 'Off'],
  ];
  for (const [name, value] of directives) text = setDirective(text, name, value);
  return `# Copy of ${APACHE_PATHS.modsecurityConf}, rewritten by test/support/apache.ts.\n${text}`;
}

function httpdConf(dir: string, port: number, backendPort: number): string {
  const backend = `http://127.0.0.1:${backendPort}`;
  return [
    `# gatecheck Apache harness. Generated by test/support/apache.ts.`,
    `ServerRoot ${dir}`,
    ...MODULES.map((m) => `LoadModule ${m}_module ${join(APACHE_PATHS.modulesDir, `mod_${m}.so`)}`),
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    'User nobody',
    'Group nogroup',
    `PidFile ${join(dir, 'run', 'httpd.pid')}`,
    `DefaultRuntimeDir ${join(dir, 'run')}`,
    `Mutex file:${join(dir, 'run')} default`,
    `ErrorLog ${join(dir, 'error.log')}`,
    'LogLevel warn',
    // One child process with enough threads for the check's 8 probes in flight.
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 32',
    'MaxRequestWorkers 32',
    'MaxConnectionsPerChild 0',
    'KeepAlive On',
    'MaxKeepAliveRequests 0',
    'ServerTokens Prod',
    'ServerSignature Off',
    // A path segment may carry %2F (the path placement's url encoding): pass it on as sent, as an API proxy does.
    'AllowEncodedSlashes NoDecode',
    `Include ${join(dir, 'modsec.conf')}`,
    'ProxyRequests Off',
    `ProxyPass /api/ ${backend}/api/ nocanon`,
    `ProxyPass /health ${backend}/health`,
    '<Location />',
    '    Require all granted',
    '</Location>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Processes

type Launch = { ok: true; child: ChildProcess; exited: () => string | undefined } | { ok: false; reason: string; output: string };

/** Started and not yet stopped: killed if the test process exits without stop(). */
const running = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

async function launch(dir: string, port: number): Promise<Launch> {
  // -DFOREGROUND: the parent stays in the foreground (our child process) and its children are its own.
  const child = spawn(APACHE_PATHS.binary, ['-d', dir, '-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 64_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`));
  child.once('error', (error) => (exited = `could not run ${APACHE_PATHS.binary}: ${error.message}`));
  const entry = { child, dir };
  running.add(entry);
  installExitHook();

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (exited === undefined && Date.now() < deadline) {
    const problem = await probeHealth(port);
    if (problem === undefined) return { ok: true, child, exited: () => exited };
    lastProblem = problem;
    await sleep(50);
  }
  const reason =
    exited !== undefined ? `apache2 exited (${exited})` : `no answer on port ${port} within ${START_TIMEOUT_MS / 1000} s (${lastProblem})`;
  await stopProcess(child, () => exited);
  running.delete(entry);
  return { ok: false, reason, output };
}

function handleFor(
  child: ChildProcess,
  exited: () => string | undefined,
  { dir, port, variant, paranoia, backend }: { dir: string; port: number; variant: ApacheVariant; paranoia: CrsParanoia; backend: Backend },
): RunningApache {
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    variant,
    paranoia,
    errorLog: () => readIfExists(join(dir, 'error.log')),
    backendHits: () => backend.hits(),
    stop: () => {
      stopping ??= (async () => {
        await stopProcess(child, exited);
        for (const entry of running) if (entry.child === child) running.delete(entry);
        rmSync(dir, { recursive: true, force: true });
        await backend.close();
      })();
      return stopping;
    },
  };
}

/** Undefined when GET /health answers the backend's health body through Apache; otherwise what went wrong. */
function probeHealth(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve(res.statusCode === 200 && body === '{"status":"ok"}' ? undefined : `GET /health answered ${res.statusCode ?? '?'}`),
      );
      res.on('error', (error) => resolve(error.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

/** SIGTERM to the parent (it stops its children), then SIGKILL to the parent and its children after a bound. */
async function stopProcess(child: ChildProcess, exited: () => string | undefined): Promise<void> {
  if (exited() !== undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const graceful = await Promise.race([gone.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  if (!graceful) {
    killTree(child);
    await Promise.race([gone, sleep(2_000)]);
  }
}

function killTree(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const children = readIfExists(`/proc/${pid}/task/${pid}/children`)
    .split(/\s+/)
    .filter((word) => word !== '')
    .map(Number);
  for (const worker of children) {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  child.kill('SIGKILL');
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child, dir } of running) {
      killTree(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
