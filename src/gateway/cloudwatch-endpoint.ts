import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ALL_ROUTES, type MetricsRecorder, type MinuteDatapoint } from './metrics-recorder.js';
import { listenTracked } from './listen.js';
import { WS_CONNECT_ROUTE, WS_MESSAGE_ROUTE } from './websocket.js';

/**
 * CloudWatch `GetMetricData` for the reference gateway's own traffic, on its own loopback port,
 * in the wire protocol `@aws-sdk/client-cloudwatch` ≥ 3.949 speaks (awsJson1_0):
 *
 *   POST /   content-type: application/x-amz-json-1.0
 *            x-amz-target: GraniteServiceVersion20100801.GetMetricData
 *            x-amzn-query-mode: true, SigV4 `authorization` (checked for presence, not verified)
 *   body     {"StartTime": 1764067200, "EndTime": ..., "MetricDataQueries": [...], "NextToken"?, "MaxDatapoints"?, "ScanBy"?}
 *            timestamps in epoch seconds, in and out
 *   errors   400, {"__type": "...#Code", "message": "..."} and `x-amzn-query-error: Code;Sender`
 *
 * What it answers:
 *   AWS/ApiGateway  Count, 4XXError, 5XXError (Sum, SampleCount); Latency (Average, Maximum,
 *                   SampleCount, Sum, p50, p90, p99) on ApiName[,Stage] and
 *                   ApiName,Method,Resource,Stage, for the configured ApiName and Stage
 *   AWS/ApiGateway  ConnectCount, MessageCount, ClientError, IntegrationError, ExecutionError
 *                   (Sum, SampleCount) on ApiId,Stage for the WebSocket API, when `websocket` is
 *                   given: ConnectCount = upgrades opened ($connect 101), MessageCount = messages
 *                   received (throttled ones included), ClientError = refused upgrades and throttled
 *                   messages, IntegrationError = messages the route failed (none: it echoes),
 *                   ExecutionError 0; a datapoint for each in every minute with WebSocket traffic
 *   AWS/WAFV2       BlockedRequests, AllowedRequests (Sum) on WebACL,Region,Rule (Rule=ALL or a
 *                   rule name), when a WAF recorder and web ACL name are given
 * Anything else (other names, dimension sets, metrics) has no datapoints, as on AWS.
 * Datapoints are complete as soon as the gateway has answered: the emulator has no lateness
 * unless a test asks for it (`behaviour.withholdFromMs`).
 */

export interface CloudWatchEndpointOptions {
  recorder: MetricsRecorder;
  /** WAF decisions: route key = rule name; status 403 = blocked, 200 = allowed. */
  wafRecorder?: MetricsRecorder;
  apiName: string;
  stage: string;
  region: string;
  webAcl?: string;
  /** The WebSocket API: its ApiId and Stage, and its recorder (route `$connect` 101/403, `$message` 200/429/5xx). */
  websocket?: { apiId: string; stage: string; recorder: MetricsRecorder };
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Largest page in datapoints, whatever MaxDatapoints asks (tests force pagination). */
  pageSize?: number;
}

/** Knobs a test turns while the endpoint runs. */
export interface EmulatorBehaviour {
  /** Answer the next N calls with `Throttling` (the SDK retries those). */
  throttleNext: number;
  /** Answer every call with `AccessDenied`. */
  denyAccess: boolean;
  /** Withhold datapoints of minutes starting at or after this epoch ms (late metrics). */
  withholdFromMs?: number;
  /**
   * Fail every call holding a query that matches, tested on `Namespace MetricName Stat`
   * (`AWS/ApiGateway Latency p99`): moto and LocalStack answer a call holding a percentile with a
   * 500 (`InternalFailure`); `Throttling` stands for a genuine failure of that call.
   */
  failQueries?: { pattern: RegExp; error: 'InternalFailure' | 'Throttling' };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The raw body as received. */
  body: string;
}

export interface CloudWatchEndpointHandle {
  /** `http://127.0.0.1:PORT`: give it to the SDK as `endpoint` (--endpoint-url). */
  url: string;
  port: number;
  behaviour: EmulatorBehaviour;
  /** The last 200 requests, oldest first (wire-protocol tripwire tests read them). */
  requests: SeenRequest[];
  close(): Promise<void>;
}

export const SERVICE_TARGET = 'GraniteServiceVersion20100801';
export const JSON_1_0 = 'application/x-amz-json-1.0';
const MAX_BODY_BYTES = 1_000_000;
const DEFAULT_MAX_DATAPOINTS = 100_800;
const MAX_QUERIES = 500;
const KEPT_REQUESTS = 200;
const THROTTLING_TYPE = 'com.amazon.coral.availability#ThrottlingException';
const COUNT_STATS = new Set(['Sum', 'SampleCount']);
const LATENCY_STATS = new Set(['Average', 'Maximum', 'SampleCount', 'Sum', 'p50', 'p90', 'p99']);

export async function startCloudWatchEndpoint(options: CloudWatchEndpointOptions): Promise<CloudWatchEndpointHandle> {
  const host = options.host ?? '127.0.0.1';
  const behaviour: EmulatorBehaviour = { throttleNext: 0, denyAccess: false };
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    readBody(req, (body) => {
      if (body === undefined) return sendError(res, 413, 'RequestEntityTooLarge', `request body over ${MAX_BODY_BYTES} bytes`);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: flatHeaders(req), body });
      if (requests.length > KEPT_REQUESTS) requests.shift();
      answer(req, res, body, options, behaviour);
    });
  });
  const listening = await listenTracked(server, options.port ?? 0, host, 'the CloudWatch endpoint');
  return {
    url: listening.url,
    port: listening.port,
    behaviour,
    requests,
    close: () => listening.close(),
  };
}

// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type = `com.amazonaws.cloudwatch#${code}`,
  ) {
    super(message);
  }
}

interface Query {
  Id: string;
  Label?: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: string }> };
    Period: number;
    Stat: string;
  };
}

interface Datapoint {
  timestampSec: number;
  value: number;
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  options: CloudWatchEndpointOptions,
  behaviour: EmulatorBehaviour,
): void {
  try {
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/')
      throw new ApiError(404, 'UnknownOperationException', `only POST / is served, got ${req.method} ${req.url}`);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (contentType !== JSON_1_0)
      throw new ApiError(
        400,
        'UnsupportedProtocol',
        `this endpoint speaks awsJson1_0 only (content-type ${JSON_1_0}); got "${contentType}"`,
      );
    const target = req.headers['x-amz-target'];
    if (target !== `${SERVICE_TARGET}.GetMetricData`)
      throw new ApiError(
        400,
        'UnknownOperationException',
        `only ${SERVICE_TARGET}.GetMetricData is served, got x-amz-target "${String(target)}"`,
        'com.amazon.coral.service#UnknownOperationException',
      );
    if (!/^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? ''))
      throw new ApiError(
        400,
        'MissingAuthenticationToken',
        'Request is missing Authentication Token (a SigV4 authorization header)',
        'com.amazon.coral.service#MissingAuthenticationTokenException',
      );
    if (behaviour.denyAccess) {
      throw new ApiError(
        400,
        'AccessDenied',
        'User: arn:aws:iam::000000000000:user/gatecheck is not authorized to perform: cloudwatch:GetMetricData' +
          ' because no identity-based policy allows the cloudwatch:GetMetricData action',
        'com.amazon.coral.service#AccessDeniedException',
      );
    }
    if (behaviour.throttleNext > 0) {
      behaviour.throttleNext--;
      throw new ApiError(400, 'Throttling', 'Rate exceeded', 'com.amazon.coral.availability#ThrottlingException');
    }
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      throw new ApiError(400, 'SerializationException', 'the body is not JSON', 'com.amazon.coral.service#SerializationException');
    }
    failOnQueries(input, behaviour);
    const output = getMetricData(input, options, behaviour);
    send(res, 200, { 'content-type': JSON_1_0 }, JSON.stringify(output));
  } catch (error) {
    if (error instanceof ApiError) return sendError(res, error.status, error.code, error.message, error.type);
    sendError(
      res,
      500,
      'InternalFailure',
      error instanceof Error ? error.message : String(error),
      'com.amazon.coral.service#InternalFailure',
    );
  }
}

function failOnQueries(input: unknown, behaviour: EmulatorBehaviour): void {
  const fail = behaviour.failQueries;
  const queries = (input as { MetricDataQueries?: unknown } | null)?.MetricDataQueries;
  if (!fail || !Array.isArray(queries)) return;
  const described = queries.map((q) => {
    const stat = (q as Partial<Query> | null)?.MetricStat;
    return `${stat?.Metric?.Namespace} ${stat?.Metric?.MetricName} ${stat?.Stat}`;
  });
  const hit = described.find((query) => fail.pattern.test(query));
  if (hit === undefined) return;
  if (fail.error === 'Throttling') throw new ApiError(400, 'Throttling', 'Rate exceeded', THROTTLING_TYPE);
  throw new ApiError(500, 'InternalFailure', `cannot compute ${hit}`, 'com.amazon.coral.service#InternalFailure');
}

function getMetricData(input: unknown, options: CloudWatchEndpointOptions, behaviour: EmulatorBehaviour): object {
  const body = (input ?? {}) as Record<string, unknown>;
  const startSec = epochSeconds(body.StartTime, 'StartTime');
  const endSec = epochSeconds(body.EndTime, 'EndTime');
  if (endSec <= startSec) throw new ApiError(400, 'InvalidParameterValue', 'The parameter EndTime must be greater than StartTime.');
  const queries = body.MetricDataQueries;
  if (!Array.isArray(queries) || queries.length === 0 || queries.length > MAX_QUERIES) {
    throw new ApiError(400, 'InvalidParameterValue', `MetricDataQueries must hold 1 to ${MAX_QUERIES} queries`);
  }
  const ids = new Set<string>();
  const checked = queries.map((q: unknown, i) => checkQuery(q, i, ids));
  const maxDatapoints = body.MaxDatapoints === undefined ? DEFAULT_MAX_DATAPOINTS : Number(body.MaxDatapoints);
  if (!Number.isInteger(maxDatapoints) || maxDatapoints < 1)
    throw new ApiError(400, 'InvalidParameterValue', 'MaxDatapoints must be a positive integer');
  const pageSize = Math.min(maxDatapoints, options.pageSize ?? Infinity);
  const descending = body.ScanBy !== 'TimestampAscending';

  const all = checked.map((query) => {
    const points = datapointsFor(query, startSec * 1000, endSec * 1000, options).filter(
      (p) => behaviour.withholdFromMs === undefined || p.timestampSec * 1000 < behaviour.withholdFromMs,
    );
    return descending ? points.reverse() : points;
  });

  // Pages cut the flat list of (query, datapoint) in query order; NextToken is the offset.
  const offset = body.NextToken === undefined ? 0 : parseToken(body.NextToken);
  const total = all.reduce((n, points) => n + points.length, 0);
  if (offset > total) throw new ApiError(400, 'InvalidNextToken', 'The service cannot find the NextToken');
  const end = Math.min(total, offset + pageSize);
  const results: object[] = [];
  let seen = 0;
  checked.forEach((query, i) => {
    const points = all[i]!;
    const first = seen; // flat index of this query's first datapoint
    seen += points.length;
    const inPage = points.slice(Math.max(0, offset - first), Math.max(0, end - first));
    // A query without any datapoint is answered (empty, Complete) on the first page only.
    if (inPage.length === 0 && !(points.length === 0 && offset === 0)) return;
    results.push({
      Id: query.Id,
      Label: query.Label ?? query.MetricStat.Metric.MetricName,
      Timestamps: inPage.map((p) => p.timestampSec),
      Values: inPage.map((p) => p.value),
      StatusCode: points.length > 0 && first + points.length > end ? 'PartialData' : 'Complete',
    });
  });
  return { MetricDataResults: results, Messages: [], ...(end < total ? { NextToken: `page-${end}` } : {}) };
}

function checkQuery(raw: unknown, index: number, ids: Set<string>): Query {
  const q = (raw ?? {}) as Partial<Query> & { Expression?: unknown };
  const at = `MetricDataQueries.member.${index + 1}`;
  if (typeof q.Id !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(q.Id))
    throw new ApiError(400, 'InvalidParameterValue', `${at}.Id must start with a lower-case letter and hold only letters, digits and _`);
  if (ids.has(q.Id)) throw new ApiError(400, 'InvalidParameterValue', `The value ${q.Id} for field Id is duplicated`);
  ids.add(q.Id);
  if (q.Expression !== undefined)
    throw new ApiError(400, 'InvalidParameterValue', `${at}: the emulator answers MetricStat queries only, not expressions`);
  const stat = q.MetricStat;
  if (!stat || !stat.Metric || typeof stat.Metric.MetricName !== 'string' || typeof stat.Metric.Namespace !== 'string')
    throw new ApiError(400, 'MissingParameter', `The parameter ${at}.MetricStat is required.`);
  if (!Number.isInteger(stat.Period) || stat.Period < 60 || stat.Period % 60 !== 0)
    throw new ApiError(
      400,
      'InvalidParameterValue',
      `${at}.MetricStat.Period must be a multiple of 60 (the emulator keeps one-minute data)`,
    );
  return q as Query;
}

/** The datapoints of one query: one per period with traffic, oldest first. */
function datapointsFor(query: Query, fromMs: number, toMs: number, options: CloudWatchEndpointOptions): Datapoint[] {
  const { Namespace, MetricName, Dimensions = [] } = query.MetricStat.Metric;
  const dims = new Map(Dimensions.map((d) => [d.Name, d.Value]));
  const keys = [...dims.keys()].sort().join(',');
  const { Stat, Period } = query.MetricStat;

  let minutes: MinuteDatapoint[] | undefined;
  let read: ((d: MinuteDatapoint) => number) | undefined;
  if (Namespace === 'AWS/ApiGateway' && dims.get('ApiName') === options.apiName && (dims.get('Stage') ?? options.stage) === options.stage) {
    if (keys === 'ApiName' || keys === 'ApiName,Stage') minutes = options.recorder.datapoints({ fromMs, toMs, mergeRoutes: true });
    else if (keys === 'ApiName,Method,Resource,Stage')
      minutes = options.recorder.datapoints({ fromMs, toMs, route: `${dims.get('Method')} ${dims.get('Resource')}` });
    read = apiGatewayReader(MetricName, Stat);
  } else if (
    Namespace === 'AWS/ApiGateway' &&
    options.websocket &&
    keys === 'ApiId,Stage' &&
    dims.get('ApiId') === options.websocket.apiId &&
    dims.get('Stage') === options.websocket.stage
  ) {
    const recorder = options.websocket.recorder;
    const perRoute = new Map(recorder.datapoints({ fromMs, toMs }).map((d) => [`${d.minuteStartMs} ${d.route}`, d]));
    minutes = recorder.datapoints({ fromMs, toMs, mergeRoutes: true });
    read = webSocketReader(MetricName, Stat, (d, route) => perRoute.get(`${d.minuteStartMs} ${route}`));
  } else if (
    Namespace === 'AWS/WAFV2' &&
    options.wafRecorder &&
    options.webAcl !== undefined &&
    keys === 'Region,Rule,WebACL' &&
    dims.get('WebACL') === options.webAcl &&
    dims.get('Region') === options.region
  ) {
    const rule = dims.get('Rule')!;
    minutes = options.wafRecorder
      .datapoints({ fromMs, toMs, mergeRoutes: true, ...(rule === 'ALL' ? {} : { route: rule }) })
      .map((d) => ({ ...d, route: rule === 'ALL' ? ALL_ROUTES : rule }));
    read = wafReader(MetricName, Stat);
  }
  if (!minutes || !read) return [];
  if (Period !== 60 && /^p\d/.test(Stat))
    throw new ApiError(400, 'InvalidParameterValue', `the emulator answers percentiles for 60 s periods only, got Period ${Period}`);

  // Periods are aligned on StartTime, as CloudWatch aligns them.
  const periodMs = Period * 1000;
  const byPeriod = new Map<number, number>();
  for (const minute of minutes) {
    const periodStart = fromMs + Math.floor((minute.minuteStartMs - fromMs) / periodMs) * periodMs;
    const value = read(minute);
    const before = byPeriod.get(periodStart);
    byPeriod.set(periodStart, before === undefined ? value : Stat === 'Maximum' ? Math.max(before, value) : before + value);
  }
  return [...byPeriod.entries()].sort(([a], [b]) => a - b).map(([startMs, value]) => ({ timestampSec: startMs / 1000, value }));
}

function apiGatewayReader(metric: string, stat: string): ((d: MinuteDatapoint) => number) | undefined {
  const counter =
    metric === 'Count'
      ? (d: MinuteDatapoint) => d.count
      : metric === '4XXError'
        ? (d: MinuteDatapoint) => d.error4xx
        : metric === '5XXError'
          ? (d: MinuteDatapoint) => d.error5xx
          : undefined;
  if (counter) {
    if (stat === 'Sum') return counter;
    if (stat === 'SampleCount') return (d) => d.count;
    throw new ApiError(400, 'InvalidParameterValue', `the emulator answers ${metric} with Sum or SampleCount, got ${stat}`);
  }
  if (metric === 'Latency') {
    if (!LATENCY_STATS.has(stat))
      throw new ApiError(400, 'InvalidParameterValue', `the emulator answers Latency with ${[...LATENCY_STATS].join(', ')}, got ${stat}`);
    return (d) => {
      const l = d.latency;
      switch (stat) {
        case 'Average':
          return l.count ? l.sumMs / l.count : 0;
        case 'Maximum':
          return l.maxMs;
        case 'SampleCount':
          return l.count;
        case 'Sum':
          return l.sumMs;
        case 'p50':
          return l.p50Ms;
        case 'p90':
          return l.p90Ms;
        default:
          return l.p99Ms;
      }
    };
  }
  return undefined; // IntegrationLatency, CacheHitCount...: not recorded, so no datapoints
}

/** A WebSocket API's metrics from its recorder's routes (`$connect`, `$message`) in the minute. */
function webSocketReader(
  metric: string,
  stat: string,
  route: (minute: MinuteDatapoint, route: string) => MinuteDatapoint | undefined,
): ((d: MinuteDatapoint) => number) | undefined {
  const connect = (d: MinuteDatapoint) => route(d, WS_CONNECT_ROUTE);
  const message = (d: MinuteDatapoint) => route(d, WS_MESSAGE_ROUTE);
  const counters: Record<string, (d: MinuteDatapoint) => number> = {
    ConnectCount: (d) => (connect(d)?.count ?? 0) - (connect(d)?.error4xx ?? 0),
    MessageCount: (d) => message(d)?.count ?? 0,
    ClientError: (d) => d.error4xx,
    IntegrationError: (d) => message(d)?.error5xx ?? 0,
    ExecutionError: () => 0,
  };
  const counter = counters[metric];
  if (!counter) return undefined;
  if (!COUNT_STATS.has(stat))
    throw new ApiError(400, 'InvalidParameterValue', `the emulator answers ${metric} with Sum or SampleCount, got ${stat}`);
  return counter;
}

function wafReader(metric: string, stat: string): ((d: MinuteDatapoint) => number) | undefined {
  if (metric !== 'BlockedRequests' && metric !== 'AllowedRequests') return undefined;
  if (!COUNT_STATS.has(stat))
    throw new ApiError(400, 'InvalidParameterValue', `the emulator answers ${metric} with Sum or SampleCount, got ${stat}`);
  return metric === 'BlockedRequests' ? (d) => d.error4xx : (d) => d.count - d.error4xx;
}

function epochSeconds(value: unknown, field: string): number {
  // awsJson1_0 sends epoch seconds (a number, maybe with a fraction); anything else is a protocol change.
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ApiError(400, 'InvalidParameterValue', `${field} must be epoch seconds (a JSON number), got ${JSON.stringify(value)}`);
  if (value > 1e11) throw new ApiError(400, 'InvalidParameterValue', `${field} ${value} looks like epoch milliseconds, not seconds`);
  return value;
}

function parseToken(token: unknown): number {
  const match = typeof token === 'string' ? /^page-(\d+)$/.exec(token) : null;
  if (!match) throw new ApiError(400, 'InvalidNextToken', 'The service cannot find the NextToken');
  return Number(match[1]);
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, type = `com.amazonaws.cloudwatch#${code}`): void {
  send(res, status, { 'content-type': JSON_1_0, 'x-amzn-query-error': `${code};Sender` }, JSON.stringify({ __type: type, message }));
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function readBody(req: IncomingMessage, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooBig = true;
    else chunks.push(chunk);
  });
  req.on('end', () => done(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
  req.on('error', () => undefined);
}
