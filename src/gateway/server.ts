import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Policy } from '../policy/types.js';
import { startCloudWatchEndpoint, type CloudWatchEndpointHandle, type CloudWatchEndpointOptions } from './cloudwatch-endpoint.js';
import { addActualResponseHeaders, addPreflightHeaders, type CompiledCors } from './cors.js';
import { FAULT_NAMES, isFaultName, SLOW_FAULT_DELAY_MS, type FaultName } from './faults.js';
import { MetricsRecorder } from './metrics-recorder.js';
import {
  INTEGRATION_FAILURE,
  INVALID_API_KEY,
  JSON_CONTENT_TYPE,
  MISSING_AUTHENTICATION_TOKEN,
  THROTTLED,
  QUOTA_EXCEEDED,
  WAF_FILTERED,
  type GatewayResponse,
} from './responses.js';
import { listenTracked } from './listen.js';
import {
  compileRoutes,
  matchCredential,
  takeQuota,
  takeToken,
  UNROUTED,
  type CompiledPath,
  type CompiledRoute,
  type RouteTable,
} from './routes.js';
import { BODY_INSPECTION_LIMIT_BYTES, wafVerdict } from './waf-rules.js';
import { markCanary } from './canary.js';
import { verifySigV4 } from './sigv4-verify.js';
import { traceHeaderFor } from './tracing.js';
import { attachWebSockets } from './websocket.js';

/**
 * The embedded reference gateway: enforces a Policy with Amazon API Gateway (REST) semantics,
 * optionally with named faults. `gatecheck demo` and `serve` run it, and the tests use it as the
 * target. A reference and a test double, not a production proxy: there is no real backend.
 *
 * Pipeline, in the order AWS applies it:
 *   1. WAF (web ACL)                      → 403 Forbidden (WAF_FILTERED)
 *   2. resource + method lookup           → 403 Missing Authentication Token
 *   3. OPTIONS on a CORS resource         → 204 from the mock integration (no key, no throttle)
 *   4. API key                            → 403 Forbidden (INVALID_API_KEY)
 *      or IAM (SigV4) signature           → 403 Missing Authentication Token / InvalidSignatureException
 *   5. throttle (per route and key)       → 429 Too Many Requests
 *   6. backend                            → 200 {"ok":true,"route":"GET /api/items"}
 *      (a canary route's share marked as the canary's; X-Amzn-Trace-Id where tracing is on)
 * The backend faults (slow, error-5xx, reset, hang) act at step 6 only, so the gateway's own
 * refusals keep working under them, as they would with a broken integration behind AWS.
 */

export interface GatewayOptions {
  policy: Policy;
  faults?: FaultName[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /**
   * Also answer CloudWatch GetMetricData for this gateway's traffic on a second loopback port
   * (gateway/cloudwatch-endpoint.ts). ApiName, Stage, Region and WebACL default to the policy's
   * metrics block (else gatecheck-reference / test / us-east-1 / gatecheck-reference-acl).
   */
  cloudwatch?: boolean | Partial<Omit<CloudWatchEndpointOptions, 'recorder' | 'wafRecorder' | 'websocket' | 'host'>>;
  /** `--canary PERCENT`: the canary's share on every canary route, instead of the policy's. */
  canaryPercent?: number;
}

export interface GatewayHandle {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  /** Per-minute traffic metrics (CloudWatch-shaped), for a later CloudWatch emulation. */
  recorder: MetricsRecorder;
  /** WAF decisions per minute: route key = the rule that blocked (status 403), or `(allowed)` (200). */
  wafRecorder: MetricsRecorder;
  /**
   * The WebSocket API's traffic per minute (gateway/websocket.ts): route `$connect` with 101 or
   * 403, route `$message` with 200 (answered), 429 (throttled); every `websockets:` entry is one API.
   */
  wsRecorder: MetricsRecorder;
  /** The CloudWatch endpoint, when started (`cloudwatch` option). */
  cloudwatch?: CloudWatchEndpointHandle;
  /** Stops listening and destroys every open socket (hanging requests included). Idempotent. */
  close(): Promise<void>;
}

/** Keep idle connections longer than clients do, so the client closes first (no reuse race). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 66_000;

export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const faults = new Set<FaultName>();
  for (const name of options.faults ?? []) {
    if (!isFaultName(name)) throw new Error(`unknown fault "${String(name)}" (known: ${FAULT_NAMES.join(', ')})`);
    faults.add(name);
  }
  const host = options.host ?? '127.0.0.1';
  const recorder = new MetricsRecorder();
  const wafRecorder = new MetricsRecorder();
  const wsRecorder = new MetricsRecorder();
  const gateway = new Gateway(
    compileRoutes(options.policy, faults, options.canaryPercent !== undefined ? { canaryPercent: options.canaryPercent } : {}),
    faults,
    recorder,
    wafRecorder,
  );

  const server = createServer(gateway.handle);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // The policy's `websockets:` entries, upgraded on the same port (gateway/websocket.ts).
  const websockets = attachWebSockets(server, options.policy, faults, wsRecorder);
  const listening = await listenTracked(server, options.port ?? 0, host, 'the gateway');

  const cloudwatch = options.cloudwatch
    ? await startCloudWatchEndpoint(cloudWatchOptions(options, recorder, wafRecorder, wsRecorder, host))
    : undefined;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    gateway.shutdown();
    websockets.close();
    closing ??= Promise.all([listening.close(), cloudwatch?.close()]).then(() => undefined);
    return closing;
  };

  return { url: listening.url, port: listening.port, recorder, wafRecorder, wsRecorder, ...(cloudwatch ? { cloudwatch } : {}), close };
}

function cloudWatchOptions(
  options: GatewayOptions,
  recorder: MetricsRecorder,
  wafRecorder: MetricsRecorder,
  wsRecorder: MetricsRecorder,
  host: string,
): CloudWatchEndpointOptions {
  const given = typeof options.cloudwatch === 'object' ? options.cloudwatch : {};
  const source = options.policy.metrics?.cloudwatch;
  // The WebSocket API's ApiId and Stage: `websocketApi`, or `api` when it is the WebSocket one.
  const wsApi =
    source?.websocketApi ??
    (source?.api.type === 'WEBSOCKET' && source.api.id ? { id: source.api.id, stage: source.api.stage } : undefined);
  return {
    apiName: source?.api.type === 'REST' && source.api.name !== undefined ? source.api.name : 'gatecheck-reference',
    stage: source?.api.stage ?? 'test',
    region: source?.region ?? 'us-east-1',
    webAcl: source?.waf?.webAcl ?? 'gatecheck-reference-acl',
    ...given,
    recorder,
    wafRecorder,
    ...(wsApi ? { websocket: { apiId: wsApi.id, stage: wsApi.stage, recorder: wsRecorder } } : {}),
    host,
  };
}

/** One request as it moves down the pipeline. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: string;
  /** performance.now() when the request arrived: metrics latency starts here. */
  arrivedMs: number;
  /** First BODY_INSPECTION_LIMIT_BYTES of the body, decoded as UTF-8, when the WAF needs it. */
  body?: string;
  /** The body up to SIGNED_BODY_LIMIT_BYTES, for routes that verify a SigV4 signature over it. */
  signedBody?: string;
}

/** Bodies a SigV4 route hashes are read up to this size (a bigger one cannot match its signature here). */
const SIGNED_BODY_LIMIT_BYTES = 1 << 20;

class Gateway {
  private readonly wafEnabled: boolean;
  private readonly backendFault: 'hang' | 'reset' | undefined;
  private readonly slow: boolean;
  private readonly failing: boolean;
  /** Pending `slow` answers, cleared on close so no timer outlives the server. */
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly table: RouteTable,
    faults: ReadonlySet<FaultName>,
    private readonly recorder: MetricsRecorder,
    private readonly wafRecorder: MetricsRecorder,
  ) {
    this.wafEnabled = !faults.has('waf-off');
    // When both are given, hang wins over reset: nothing is answered either way.
    this.backendFault = faults.has('hang') ? 'hang' : faults.has('reset') ? 'reset' : undefined;
    this.slow = faults.has('slow');
    this.failing = faults.has('error-5xx');
  }

  /** The node:http request listener (an arrow so it can be passed unbound). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const arrivedMs = performance.now();
    const target = originForm(req.url ?? '/');
    const q = target.indexOf('?');
    const exchange: Exchange = {
      req,
      res,
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? '' : target.slice(q + 1),
      arrivedMs,
    };
    if (!hasBody(req)) {
      this.process(exchange);
      return;
    }
    // The WAF inspects the body and a SigV4 signature covers it, so the pipeline waits for it; the backend discards it.
    const wafBytes = this.wafEnabled ? BODY_INSPECTION_LIMIT_BYTES : 0;
    readBody(req, Math.max(wafBytes, this.table.verifiesSignatures ? SIGNED_BODY_LIMIT_BYTES : 0), (body) => {
      if (body !== undefined && wafBytes > 0) exchange.body = body.subarray(0, wafBytes).toString('utf8');
      if (body !== undefined && this.table.verifiesSignatures) exchange.signedBody = body.toString('utf8');
      this.process(exchange);
    });
  };

  shutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private process(exchange: Exchange): void {
    const { req } = exchange;
    const headers = req.headers;
    const origin = headers.origin;
    const method = req.method ?? 'GET';
    const resource: CompiledPath | undefined = this.table.paths.get(exchange.path);
    const route: CompiledRoute | undefined = resource?.methods.get(method);

    // 1. WAF, before anything else: even unknown paths are inspected.
    if (this.wafEnabled) {
      const verdict = wafVerdict({
        path: exchange.path,
        query: exchange.query,
        headers,
        skipHeaders: this.table.credentialHeaders,
        body: exchange.body,
      });
      this.wafRecorder.record(Date.now(), verdict.rule ?? '(allowed)', verdict.blocked ? 403 : 200, 0);
      if (verdict.blocked) return this.refuse(exchange, WAF_FILTERED, route?.cors ?? resource?.cors, origin, route?.id ?? UNROUTED);
    }

    // 2. Resource lookup (exact path). AWS answers an unknown resource like a missing signature.
    if (resource === undefined) return this.refuse(exchange, MISSING_AUTHENTICATION_TOKEN, undefined, origin, UNROUTED);

    // 3. Preflight: the mock integration on OPTIONS. It answers for the method the browser asks
    //    about when that method has its own CORS settings, else with the resource's first.
    if (method === 'OPTIONS' && resource.cors !== undefined) {
      const asked = headers['access-control-request-method'];
      const cors = (asked === undefined ? undefined : resource.methods.get(asked)?.cors) ?? resource.cors;
      return this.preflight(exchange, cors, origin);
    }
    if (route === undefined) return this.refuse(exchange, MISSING_AUTHENTICATION_TOKEN, resource.cors, origin, UNROUTED);

    // 4. API key, or an IAM signature (verified asynchronously: the SDK's signer is async).
    if (route.sigv4 !== undefined) {
      const signed = { method, target: originForm(req.url ?? '/'), headers, body: exchange.signedBody };
      void verifySigV4(route.sigv4, signed).then((refusal) =>
        refusal ? this.refuse(exchange, refusal, route.cors, origin, route.id) : this.admit(exchange, route, '', origin),
      );
      return;
    }
    // The matched key also picks the usage-plan bucket below.
    let keyName = '';
    if (route.credentials.length > 0) {
      const credential = matchCredential(route, headers);
      if (credential !== undefined) keyName = credential.name;
      else if (route.enforceAuth) return this.refuse(exchange, INVALID_API_KEY, route.cors, origin, route.id);
    }
    this.admit(exchange, route, keyName, origin);
  }

  /** Steps 5 and 6 for a request past auth. */
  private admit(exchange: Exchange, route: CompiledRoute, keyName: string, origin: string | undefined): void {
    // 5. Throttle.
    if (!takeToken(route, keyName, performance.now())) return this.refuse(exchange, THROTTLED, route.cors, origin, route.id);

    // 5b. Usage-plan quota (a throttled request does not count against it).
    if (!takeQuota(route, keyName, Date.now())) return this.refuse(exchange, QUOTA_EXCEEDED, route.cors, origin, route.id);

    // 6. Backend.
    this.backend(exchange, route, origin);
  }

  private backend(exchange: Exchange, route: CompiledRoute, origin: string | undefined): void {
    if (this.backendFault === 'hang') return; // never answered; close() destroys the socket
    if (this.backendFault === 'reset') {
      exchange.req.socket.destroy();
      return;
    }
    if (!this.slow) return this.answerBackend(exchange, route, origin);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // The client may have gone in the meantime: then there is no one to answer.
      if (!exchange.res.destroyed && !exchange.req.socket.destroyed) this.answerBackend(exchange, route, origin);
    }, SLOW_FAULT_DELAY_MS);
    this.timers.add(timer);
  }

  private answerBackend(exchange: Exchange, route: CompiledRoute, origin: string | undefined): void {
    if (this.failing) return this.refuse(exchange, INTEGRATION_FAILURE, route.cors, origin, route.id);
    const headers: Record<string, string | number> = {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': route.okBody.length,
      'x-amzn-requestid': randomUUID(),
    };
    if (route.cors !== undefined) addActualResponseHeaders(headers, route.cors, origin);
    if (route.tracing) headers['x-amzn-trace-id'] = traceHeaderFor(firstHeader(exchange.req.headers['x-amzn-trace-id']));
    const body = route.canary?.deck.next() ? markCanary(route.canary.marker, headers, route.okBody) : route.okBody;
    this.send(exchange, route.okStatus, headers, body, route.id);
  }

  private preflight(exchange: Exchange, cors: CompiledCors, origin: string | undefined): void {
    const headers: OutgoingHttpHeaders = { 'x-amzn-requestid': randomUUID() };
    addPreflightHeaders(headers, cors, origin);
    this.send(exchange, 204, headers, undefined, `OPTIONS ${exchange.path}`);
  }

  /** A gateway response; it carries the CORS headers too, so browsers can read the refusal. */
  private refuse(
    exchange: Exchange,
    response: GatewayResponse,
    cors: CompiledCors | undefined,
    origin: string | undefined,
    metricsKey: string,
  ): void {
    const headers: OutgoingHttpHeaders = {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': response.body.length,
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': response.errorType,
    };
    if (cors !== undefined) addActualResponseHeaders(headers, cors, origin);
    this.send(exchange, response.status, headers, response.body, metricsKey);
  }

  private send(exchange: Exchange, status: number, headers: OutgoingHttpHeaders, body: Buffer | undefined, metricsKey: string): void {
    const { req, res } = exchange;
    res.writeHead(status, headers);
    // HEAD keeps the Content-Length of the body it would have had, but sends no body.
    if (body === undefined || body.length === 0 || req.method === 'HEAD') res.end();
    else res.end(body);
    this.recorder.record(Date.now(), metricsKey, status, performance.now() - exchange.arrivedMs);
  }
}

/** Turns an absolute-form request target (`http://host/path?q`, sent to proxies) into `/path?q`. */
function originForm(target: string): string {
  if (target.charCodeAt(0) === 0x2f /* / */) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return target; // matches no route: answered 403 Missing Authentication Token
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Reads the whole body, keeping the first `keepBytes` bytes; `done` runs once it has all arrived. */
function readBody(req: IncomingMessage, keepBytes: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  req.on('data', (chunk: Buffer) => {
    if (kept >= keepBytes) return;
    const part = chunk.length > keepBytes - kept ? chunk.subarray(0, keepBytes - kept) : chunk;
    chunks.push(part);
    kept += part.length;
  });
  req.on('end', () => done(keepBytes > 0 ? Buffer.concat(chunks, kept) : undefined));
  // The client went away mid-body: there is no one to answer, and no error to report.
  req.on('error', () => undefined);
}
