/**
 * A real gateway for end-to-end tests: nginx with ModSecurity v3 and the OWASP Core Rule Set,
 * started from a test on a free loopback port, in a throw-away directory of its own.
 *
 * The `correct` variant enforces exactly what `nginxPolicyYaml()` promises for `GET /api/items`:
 * an API key in `x-api-key`, a token bucket of 50 r/s with 21 requests at once from idle,
 * CORS for `https://app.example.com` only, and CRS in blocking mode (anomaly scoring, 403).
 * Every other variant breaks exactly one of those promises, so a check that passes on `correct`
 * must fail on the variant that breaks its promise.
 *
 * Needs the Debian packages nginx-light (or nginx), libnginx-mod-http-modsecurity and
 * modsecurity-crs; `nginxAvailable()` says whether they are there. Nothing outside the temp
 * directory is written: no system pid file, log or temp path is touched.
 *
 * Two nginx facts shape the config below:
 * - `return` finishes a request in the rewrite phase, before the preaccess phase where both
 *   `limit_req` and ModSecurity's request-body phase (phase 2, where CRS inspects ARGS) run.
 *   A location answering with `return 200` is therefore neither throttled nor inspected by CRS.
 *   The backend of /api/items is a static file for that reason.
 * - `limit_req rate=R burst=B nodelay` admits B+1 requests at once from idle, then R per second.
 *   Its clock is nginx's cached one, which every /api/items response carries in `X-Nginx-Msec`
 *   ($msec), so a test can compute exactly what a refill must admit.
 *
 * Tuning: CRS rule 920350 (numeric Host header, +3 on every request reaching 127.0.0.1) is removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every config the harness can start: `correct`, then one variant per broken promise. */
export const NGINX_VARIANTS = [
  'correct',
  /** No limit_req at all. */
  'no-limit',
  /** rate=100r/s instead of 50r/s. */
  'wrong-rate',
  /** burst=60 instead of 20 (61 at once from idle instead of 21). */
  'big-burst',
  /** Access-Control-Allow-Origin echoes any Origin. */
  'cors-reflect',
  /** Access-Control-Allow-Origin: * on every response. */
  'cors-star',
  /** Origin matched by the unanchored suffix regex `example\.com$`: any *.example.com, even `https://evilexample.com`. */
  'cors-suffix',
  /** Correct, except that the 403 for a missing or wrong key carries no CORS headers (a browser app cannot read it). */
  'cors-no-error-headers',
  /** No API key check. */
  'auth-off',
  /** CRS evaluates but never blocks (SecRuleEngine DetectionOnly). */
  'waf-detection-only',
  /** `modsecurity off`. */
  'waf-off',
] as const;

export type NginxVariant = (typeof NGINX_VARIANTS)[number];

export interface NginxOptions {
  variant: NginxVariant;
  /** The key /api/items accepts in `x-api-key`. Letters, digits, `_` and `-` only (it is written into a regex). */
  apiKey: string;
  /** Also listen with TLS (a self-signed certificate made by openssl) on a second port. */
  tls?: boolean;
  /** CRS paranoia level: 1 (Debian's default, the default here) or 2 (more rules, more false positives). */
  paranoia?: CrsParanoia;
}

/** The CRS paranoia levels the harnesses start: 1 is the rule set's default, 2 the next step up. */
export type CrsParanoia = 1 | 2;

export interface RunningNginx {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** With `tls`: the HTTPS port (same server, self-signed certificate for 127.0.0.1). */
  tlsPort?: number;
  variant: NginxVariant;
  paranoia: CrsParanoia;
  /** nginx's error log so far (ModSecurity writes its rule matches there, at level info). Empty after stop(). */
  errorLog(): string;
  /** Graceful stop (SIGQUIT), SIGKILL after a bound, then removes the temp directory. Idempotent. */
  stop(): Promise<void>;
}

/** Files the harness needs; all absolute, as installed by the Debian packages. */
export const NGINX_PATHS = {
  binary: '/usr/sbin/nginx',
  modsecurityModule: '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so',
  modsecurityConf: '/etc/nginx/modsecurity.conf',
  unicodeMapping: '/etc/nginx/unicode.mapping',
  crsSetup: '/etc/modsecurity/crs/crs-setup.conf',
  crsRulesDir: '/usr/share/modsecurity-crs/rules',
} as const;

/** The origin the correct config allows. */
export const NGINX_ALLOWED_ORIGIN = 'https://app.example.com';

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;

/** True when nginx, the ModSecurity module, its base config and the CRS rules are all installed. */
export function nginxAvailable(): boolean {
  return (
    Object.values(NGINX_PATHS).every((path) => existsSync(path)) &&
    existsSync(join(NGINX_PATHS.crsRulesDir, 'REQUEST-949-BLOCKING-EVALUATION.conf'))
  );
}

/** Starts nginx with the given variant's config; resolves once it answers GET /health. */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const { variant, apiKey } = options;
  if (!(NGINX_VARIANTS as readonly string[]).includes(variant)) throw new Error(`unknown nginx variant "${variant}"`);
  checkApiKey(apiKey);
  if (!nginxAvailable()) throw new Error(`nginx with ModSecurity and CRS is not installed (need ${Object.values(NGINX_PATHS).join(', ')})`);

  const dir = mkdtempSync(join(tmpdir(), 'gatecheck-nginx-'));
  try {
    layOut(dir, variant, options.paranoia ?? 1);
    if (options.tls) selfSignedCertificate(dir);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const tlsPort = options.tls ? await freePort() : undefined;
      writeFileSync(join(dir, 'nginx.conf'), nginxConf({ dir, port, tlsPort, variant, apiKey }), { mode: 0o600 });
      const started = await launch(dir, port, variant, options.paranoia ?? 1);
      if (started.ok) return tlsPort === undefined ? started.handle : { ...started.handle, tlsPort };
      const log = redact(`${readIfExists(join(dir, 'error.log'))}${started.output}`, apiKey);
      if (attempt < PORT_ATTEMPTS && /Address already in use/.test(log)) continue;
      throw new Error(`nginx (variant ${variant}) did not start: ${started.reason}\n--- nginx error log ---\n${log.trim() || '(empty)'}`);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Files

/** Writes everything but nginx.conf (which depends on the port): the backend's file and ModSecurity's setup. */
function layOut(dir: string, variant: NginxVariant, paranoia: CrsParanoia): void {
  // Run as root, nginx's workers run as `nobody`: they must be able to enter the directory
  // (0711: enter, not list) and write to ModSecurity's data and temp folders. The configs,
  // read by the master only, stay 0600: nginx.conf holds the API key.
  chmodSync(dir, 0o711);
  for (const sub of ['www', 'modsec-data', 'modsec-tmp']) {
    mkdirSync(join(dir, sub));
    chmodSync(join(dir, sub), sub === 'www' ? 0o755 : 0o777);
  }
  writeFileSync(join(dir, 'www', 'items.json'), '{"ok":true}', { mode: 0o644 });
  writeFileSync(join(dir, 'modsecurity-base.conf'), modsecurityBaseConf(dir, variant), { mode: 0o600 });
  writeFileSync(join(dir, 'modsec.conf'), modsecRulesConf(dir, variant, paranoia), { mode: 0o600 });
}

/**
 * The distribution's /etc/nginx/modsecurity.conf with the directives that point outside the temp
 * directory (or that must differ per variant) rewritten in place.
 */
function modsecurityBaseConf(dir: string, variant: NginxVariant): string {
  let text = readFileSync(NGINX_PATHS.modsecurityConf, 'utf8');
  const codepage = /^\s*SecUnicodeMapFile\s+\S+\s+(\d+)/m.exec(text)?.[1] ?? '20127';
  const directives: Array<[string, string]> = [
    ['SecRuleEngine', variant === 'waf-detection-only' ? 'DetectionOnly' : 'On'],
    // The audit log would hold request headers, API key included: keep it off.
    ['SecAuditEngine', 'Off'],
    ['SecAuditLog', join(dir, 'modsec_audit.log')],
    ['SecDataDir', join(dir, 'modsec-data')],
    ['SecTmpDir', join(dir, 'modsec-tmp')],
    // The original names the mapping relative to /etc/nginx, which the copy is not in.
    ['SecUnicodeMapFile', `${NGINX_PATHS.unicodeMapping} ${codepage}`],
    ['SecStatusEngine', 'Off'],
  ];
  for (const [name, value] of directives) text = setDirective(text, name, value);
  return `# Copy of ${NGINX_PATHS.modsecurityConf}, rewritten by test/support/nginx.ts.\n${text}`;
}

/** Replaces every active `Name ...` line; appends one when there is none. */
export function setDirective(text: string, name: string, value: string): string {
  const pattern = new RegExp(`^([ \\t]*)${name}[ \\t].*$`, 'gm');
  return pattern.test(text) ? text.replace(pattern, (_line, indent: string) => `${indent}${name} ${value}`) : `${text}\n${name} ${value}\n`;
}

function modsecRulesConf(dir: string, variant: NginxVariant, paranoia: CrsParanoia): string {
  return [
    `# ModSecurity for gatecheck's nginx harness (variant ${variant}).`,
    `Include ${join(dir, 'modsecurity-base.conf')}`,
    ...crsIncludes(paranoia),
    '',
  ].join('\n');
}

/**
 * The CRS as Debian ships it (anomaly scoring, inbound threshold 5, deny 403), at the given
 * paranoia level, for both harnesses (nginx + ModSecurity v3, Apache + ModSecurity v2).
 */
export function crsIncludes(paranoia: CrsParanoia): string[] {
  return [
    `# OWASP CRS as Debian ships it: anomaly scoring, paranoia level ${paranoia}, inbound threshold 5, deny 403.`,
    `Include ${NGINX_PATHS.crsSetup}`,
    // crs-setup.conf leaves rule 900000 commented out; REQUEST-901 then sets level 1. Set before it runs.
    ...(paranoia === 1 ? [] : [`SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=${paranoia}"`]),
    `Include ${NGINX_PATHS.crsRulesDir}/*.conf`,
    '# Tests reach the server as http://127.0.0.1:PORT, and 920350 ("Host header is a numeric IP address",',
    '# warning, +3) would then add 3 to every request: one notice-level match (+2) on a benign request',
    '# would reach the threshold of 5. A gateway reached by name never scores it.',
    'SecRuleRemoveById 920350',
  ];
}

/** cert.pem and key.pem for CN=127.0.0.1, valid for a day: the TLS listener's certificate. */
function selfSignedCertificate(dir: string): void {
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'];
  const made = spawnSync('openssl', [...args, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr || made.error?.message}`);
}

interface ConfInput {
  dir: string;
  port: number;
  tlsPort?: number | undefined;
  variant: NginxVariant;
  apiKey: string;
}

function nginxConf({ dir, port, tlsPort, variant, apiKey }: ConfInput): string {
  const rate = variant === 'wrong-rate' ? 100 : 50;
  const burst = variant === 'big-burst' ? 60 : 20;
  const sharedHeaders = [
    'add_header Access-Control-Allow-Origin $cors_origin always;',
    'add_header Vary Origin always;',
    // nginx's cached clock, the one limit_req reads: lets a test compute what a refill must admit.
    'add_header X-Nginx-Msec $msec always;',
  ];
  const items = [
    '# Preflight: answered here, before the key check (a browser never sends the key on a preflight).',
    'if ($request_method = OPTIONS) {',
    ...indent([
      ...sharedHeaders,
      'add_header Access-Control-Allow-Methods "GET, POST" always;',
      'add_header Access-Control-Allow-Headers "content-type, x-api-key" always;',
      'add_header Access-Control-Max-Age 600 always;',
      'return 204;',
    ]),
    '}',
    ...(variant === 'auth-off' ? [] : ['if ($api_key_ok = 0) {', ...indent(refusal(variant)), '}']),
    ...(variant === 'no-limit' ? [] : [`limit_req zone=per_key burst=${burst} nodelay;`]),
    'error_page 429 = @throttled;',
    ...sharedHeaders,
    '# A static file, not `return 200`: return would skip limit_req and ModSecurity phase 2.',
    `alias ${join(dir, 'www', 'items.json')};`,
  ];
  const lines = [
    `# gatecheck nginx harness, variant ${variant}. Generated by test/support/nginx.ts.`,
    `load_module ${NGINX_PATHS.modsecurityModule};`,
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    // info: ModSecurity logs its rule matches at that level.
    `error_log ${join(dir, 'error.log')} info;`,
    'events {',
    '    worker_connections 1024;',
    '}',
    'http {',
    ...indent([
      'access_log off;',
      'server_tokens off;',
      `client_body_temp_path ${join(dir, 'client_body_temp')};`,
      `proxy_temp_path ${join(dir, 'proxy_temp')};`,
      `fastcgi_temp_path ${join(dir, 'fastcgi_temp')};`,
      `uwsgi_temp_path ${join(dir, 'uwsgi_temp')};`,
      `scgi_temp_path ${join(dir, 'scgi_temp')};`,
      'types {}',
      'default_type application/json;',
      'etag off;',
      'if_modified_since off;',
      'keepalive_requests 100000;',
      '',
      // Regex, not a string key: nginx compares map strings case-insensitively.
      'map $http_x_api_key $api_key_ok {',
      '    default 0;',
      `    "~^${apiKey}$" 1;`,
      '}',
      'map $http_origin $cors_origin {',
      ...indent(corsMap(variant)),
      '}',
      '# Keyed on the API key, like an API Gateway usage plan. Requests without a key are not counted.',
      `limit_req_zone $http_x_api_key zone=per_key:1m rate=${rate}r/s;`,
      'limit_req_status 429;',
      '',
      `modsecurity ${variant === 'waf-off' ? 'off' : 'on'};`,
      `modsecurity_rules_file ${join(dir, 'modsec.conf')};`,
      '',
      'server {',
      ...indent([
        `listen 127.0.0.1:${port};`,
        ...(tlsPort === undefined
          ? []
          : [
              `listen 127.0.0.1:${tlsPort} ssl;`,
              `ssl_certificate ${join(dir, 'cert.pem')};`,
              `ssl_certificate_key ${join(dir, 'key.pem')};`,
            ]),
        'server_name localhost;',
        'location = /health {',
        '    return 200 \'{"status":"ok"}\';',
        '}',
        'location = /api/items {',
        ...indent(items),
        '}',
        'location @throttled {',
        ...indent([...sharedHeaders, 'return 429 \'{"message":"Too Many Requests"}\';']),
        '}',
        'location / {',
        '    return 404 \'{"message":"Not Found"}\';',
        '}',
      ]),
      '}',
    ]),
    '}',
    '',
  ];
  return lines.join('\n');
}

/**
 * The 403 for a missing or wrong key. An `if` block inherits the location's add_header directives
 * only when it has none of its own: one header of its own drops the CORS headers from the 403.
 */
function refusal(variant: NginxVariant): string[] {
  const own = variant === 'cors-no-error-headers' ? ['add_header X-Nginx-Msec $msec always;'] : [];
  return [...own, 'return 403 \'{"message":"Forbidden"}\';'];
}

/** The `map $http_origin $cors_origin` body. An empty value makes nginx omit the header. */
function corsMap(variant: NginxVariant): string[] {
  switch (variant) {
    case 'cors-reflect':
      return ['default $http_origin;'];
    case 'cors-star':
      return ['default "*";'];
    case 'cors-suffix':
      return ['default "";', '"~example\\.com$" $http_origin;'];
    default:
      return ['default "";', '"~^https://app\\.example\\.com$" $http_origin;'];
  }
}

function indent(lines: string[]): string[] {
  return lines.map((line) => (line === '' ? '' : `    ${line}`));
}

function checkApiKey(apiKey: string): void {
  // Written into an nginx map regex: keep it to characters with no meaning there.
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(apiKey)) throw new Error('apiKey must be 1-256 letters, digits, "_" or "-"');
}

function redact(text: string, apiKey: string): string {
  return text.split(apiKey).join('<redacted>');
}

export function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

type Launch = { ok: true; handle: RunningNginx } | { ok: false; reason: string; output: string };

/** Processes started here and not yet stopped: killed if the test process exits without stop(). */
const running = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

async function launch(dir: string, port: number, variant: NginxVariant, paranoia: CrsParanoia): Promise<Launch> {
  const child = spawn(NGINX_PATHS.binary, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 64_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
      resolve();
    });
  });
  child.once('error', (error) => {
    exited = `could not run ${NGINX_PATHS.binary}: ${error.message}`;
  });

  const entry = { child, dir };
  running.add(entry);
  installExitHook();

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  while (exited === undefined && Date.now() < deadline) {
    const problem = await probeHealth(port);
    if (problem === undefined) break;
    lastProblem = problem;
    await sleep(50);
  }
  if (exited !== undefined || Date.now() >= deadline) {
    const reason =
      exited !== undefined ? `nginx exited (${exited})` : `no answer on port ${port} within ${START_TIMEOUT_MS / 1000} s (${lastProblem})`;
    await killHard(child, exitedPromise);
    running.delete(entry);
    return { ok: false, reason, output };
  }

  let stopping: Promise<void> | undefined;
  const handle: RunningNginx = {
    url: `http://127.0.0.1:${port}`,
    port,
    variant,
    paranoia,
    errorLog: () => readIfExists(join(dir, 'error.log')),
    stop: () => {
      stopping ??= (async () => {
        if (exited === undefined) {
          child.kill('SIGQUIT');
          const graceful = await Promise.race([exitedPromise.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
          if (!graceful) await killHard(child, exitedPromise);
        }
        running.delete(entry);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  return { ok: true, handle };
}

/** Undefined when GET /health answers nginx's health body; otherwise what went wrong. */
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

/** SIGKILL to the master and its workers (a killed master leaves its workers running). */
async function killHard(child: ChildProcess, exitedPromise: Promise<void>): Promise<void> {
  killTree(child);
  await Promise.race([exitedPromise, sleep(2_000)]);
}

function killTree(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  for (const worker of childPids(pid)) {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  child.kill('SIGKILL');
}

function childPids(pid: number): number[] {
  const text = readIfExists(`/proc/${pid}/task/${pid}/children`);
  return text
    .split(/\s+/)
    .filter((word) => word !== '')
    .map(Number);
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

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Policy

/**
 * The gatecheck policy the `correct` variant satisfies (and each broken variant violates in one
 * place). Identical to policies/examples/nginx-modsecurity.yaml when `target` is not given.
 */
export function nginxPolicyYaml(options: { target?: string } = {}): string {
  const target = options.target === undefined ? ['# target: http://127.0.0.1:8080   # or pass --target'] : [`target: ${options.target}`];
  return [
    '# yaml-language-server: $schema=../schema.json',
    '# nginx + ModSecurity v3 + OWASP CRS 3.3 (paranoia level 1) in front of one keyed, throttled route.',
    '# The config this describes is the `correct` variant of test/support/nginx.ts:',
    '#   limit_req_zone $http_x_api_key zone=per_key:1m rate=50r/s;',
    '#   limit_req zone=per_key burst=20 nodelay; limit_req_status 429;',
    '#   map $http_x_api_key $api_key_ok, map $http_origin $cors_origin, modsecurity on;',
    '# Point gatecheck at such an nginx with --target, and GATECHECK_API_KEY set to the key it accepts.',
    'version: 1',
    ...target,
    '# The refusals are worded like API Gateway\'s ({"message":"Forbidden"}, {"message":"Too Many Requests"}),',
    "# but CRS blocks with nginx's own HTML 403 page: plain expects no particular wording.",
    'vendor: plain',
    'limits: { maxRequests: 5000, maxDurationSec: 120 }',
    'credentials:',
    '  main: { header: x-api-key, value: "${GATECHECK_API_KEY}" }',
    'routes:',
    '  - name: items (keyed, throttled, CRS)',
    '    method: GET',
    '    path: /api/items',
    '    auth: { required: true, credential: main }',
    "    # burstLimit is the bucket size in API Gateway's terms: requests accepted at once from an idle",
    '    # bucket. nginx `burst=20 nodelay` admits 21 at once for a key it has never seen, but 20 for a',
    '    # known key that has gone idle (its excess counter starts at one request): gatecheck warms up',
    '    # first, so it measures 20. The default tolerance (10%, at least 1 request) covers both.',
    '    throttle: { rateLimit: 50, burstLimit: 20 }',
    '    cors:',
    '      allowOrigins: [https://app.example.com]',
    '      allowMethods: [GET, POST]',
    '      allowHeaders: [content-type, x-api-key]',
    '      allowCredentials: false',
    '      maxAge: 600',
    '    # CRS in anomaly-scoring mode denies with 403 once a request scores 5 or more. Measured with',
    "    # gatecheck's corpus (docs/security-checks.md), CRS 3.3.4 at paranoia level 1 blocks SQLi, XSS,",
    "    # traversal and XXE, and Log4Shell except in User-Agent (Debian's 3.3.4 has no Log4j rule); it has",
    '    # next to nothing for SSTI, SSRF and NoSQL, and reads one benign sample as SQL in every placement.',
    "    # The path placement is left out: this nginx answers /api/items/<anything> 404 before CRS's phase 2.",
    '    waf:',
    '      blockStatus: [403]',
    '      categories: [sqli, xss, traversal, log4shell, xxe]',
    '      placements: [query, header, cookie]',
    '      minBlockRate: 0.8',
    '      maxFalsePositiveRate: 0.1',
    '    slo: { p99Ms: 250, maxErrorRate: 0.01 }',
    '  - name: health (public)',
    '    method: GET',
    '    path: /health',
    '    slo: { p99Ms: 250, maxErrorRate: 0.01 }',
    '',
  ].join('\n');
}
