import type { CloudWatchSource } from '../policy/types.js';

/**
 * The GetMetricData queries for one API (and its web ACL): which metric, on which dimension set,
 * with which statistic, per the AWS documentation of the `AWS/ApiGateway` and `AWS/WAFV2`
 * namespaces (see /work/shared/REFERENCE.md and docs/cloudwatch.md):
 *
 *   REST       Count, 4XXError, 5XXError, Latency, IntegrationLatency   on ApiName,Stage
 *              detailed: Count, 4XXError, 5XXError                       on ApiName,Method,Resource,Stage
 *   HTTP       Count, 4xx, 5xx, Latency, IntegrationLatency             on ApiId,Stage
 *              detailed: Count, 4xx, 5xx                                 on ApiId,Stage,Route
 *   WEBSOCKET  ConnectCount, MessageCount, ClientError, IntegrationError, ExecutionError on ApiId,Stage
 *   WAF        BlockedRequests, AllowedRequests                          on WebACL,Region,Rule
 *
 * Counts are asked for as `Sum` (CloudWatch's Average of 4XXError is a rate), latencies as p50 and
 * p99 over 60 s periods.
 *
 * Each query belongs to a group that is read in its own GetMetricData call: `counts` (plain
 * statistics), `percentiles`, `waf`. One bad query fails a whole call, and CloudWatch look-alikes
 * (moto, LocalStack) answer 500 to any call holding a percentile: a group they cannot serve then
 * costs only its own metrics.
 */

/** What a query's numbers mean to the reconciliation, whatever the API type calls the metric. */
export type MetricRole =
  | 'count'
  | 'error4xx'
  | 'error5xx'
  | 'latencyP50'
  | 'latencyP99'
  | 'integrationLatencyP99'
  | 'wafBlocked'
  | 'wafAllowed'
  | 'connectCount'
  | 'messageCount'
  | 'clientError'
  | 'integrationError'
  | 'executionError';

/** Read together in one GetMetricData call (see the file comment). */
export type QueryGroup = 'counts' | 'percentiles' | 'waf';

/** What each group holds, for messages. */
export const GROUP_LABEL: Record<QueryGroup, string> = {
  counts: 'plain statistics (Sum)',
  percentiles: 'percentile statistics',
  waf: 'AWS/WAFV2 metrics',
};

export interface Dimension {
  name: string;
  value: string;
}

export interface MetricQuery {
  /** GetMetricData query id: `^[a-z][a-zA-Z0-9_]*$`, unique in the call. */
  id: string;
  role: MetricRole;
  /** `*` for the whole API (or web ACL), else a route key (`GET /api/items`). */
  scope: string;
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
  /** `Sum`, `p50`, `p99`... */
  stat: string;
  /** Always 60: CloudWatch's one-minute periods, lined up with the client's minutes. */
  periodSec: number;
  group: QueryGroup;
}

export const API_SCOPE = '*';
export const PERIOD_SEC = 60;

export interface PlanOptions {
  /**
   * Ask for latency percentiles (default true). moto answers GetMetricData only for Sum,
   * Average, Minimum, Maximum and SampleCount (it fails with a 500 on `p99`); the percentile
   * group then degrades alone, so turning them off only saves that call.
   */
  percentiles?: boolean;
  /** Routes of the policy for detailed metrics (`GET /api/items` → Method GET, Resource /api/items). */
  routes?: ReadonlyArray<{ method: string; path: string }>;
}

interface MetricSpec {
  role: MetricRole;
  metricName: string;
  stat: string;
  /** Only for the whole-API dimension set (latency percentiles are not reconciled per route). */
  apiOnly?: boolean;
  percentile?: boolean;
}

const REST_METRICS: MetricSpec[] = [
  { role: 'count', metricName: 'Count', stat: 'Sum' },
  { role: 'error4xx', metricName: '4XXError', stat: 'Sum' },
  { role: 'error5xx', metricName: '5XXError', stat: 'Sum' },
  { role: 'latencyP50', metricName: 'Latency', stat: 'p50', apiOnly: true, percentile: true },
  { role: 'latencyP99', metricName: 'Latency', stat: 'p99', apiOnly: true, percentile: true },
  { role: 'integrationLatencyP99', metricName: 'IntegrationLatency', stat: 'p99', apiOnly: true, percentile: true },
];

const HTTP_METRICS: MetricSpec[] = REST_METRICS.map((spec) => ({
  ...spec,
  metricName: spec.metricName === '4XXError' ? '4xx' : spec.metricName === '5XXError' ? '5xx' : spec.metricName,
}));

const WEBSOCKET_METRICS: MetricSpec[] = [
  { role: 'connectCount', metricName: 'ConnectCount', stat: 'Sum' },
  { role: 'messageCount', metricName: 'MessageCount', stat: 'Sum' },
  { role: 'clientError', metricName: 'ClientError', stat: 'Sum' },
  { role: 'integrationError', metricName: 'IntegrationError', stat: 'Sum' },
  { role: 'executionError', metricName: 'ExecutionError', stat: 'Sum' },
];

const WAF_METRICS: MetricSpec[] = [
  { role: 'wafBlocked', metricName: 'BlockedRequests', stat: 'Sum' },
  { role: 'wafAllowed', metricName: 'AllowedRequests', stat: 'Sum' },
];

const SHORT: Record<MetricRole, string> = {
  count: 'count',
  error4xx: 'e4xx',
  error5xx: 'e5xx',
  latencyP50: 'lat50',
  latencyP99: 'lat99',
  integrationLatencyP99: 'ilat99',
  wafBlocked: 'wafBlocked',
  wafAllowed: 'wafAllowed',
  connectCount: 'connect',
  messageCount: 'message',
  clientError: 'clientErr',
  integrationError: 'integrationErr',
  executionError: 'executionErr',
};

/** The whole-API dimension set: the one every reconciliation reads. */
export function apiDimensions(source: CloudWatchSource): Dimension[] {
  const { api } = source;
  if (api.type === 'REST')
    return [
      { name: 'ApiName', value: api.name ?? '' },
      { name: 'Stage', value: api.stage },
    ];
  return [
    { name: 'ApiId', value: api.id ?? '' },
    { name: 'Stage', value: api.stage },
  ];
}

/** `REST API gatecheck-demo, stage demo`: for messages. */
export function describeApi(source: CloudWatchSource): string {
  const { api } = source;
  return `${api.type} API ${api.type === 'REST' ? `ApiName=${api.name}` : `ApiId=${api.id}`}, Stage=${api.stage}`;
}

/** Every query for the source, whole-API first, then per route (detailed), then WAF. */
export function planQueries(source: CloudWatchSource, region: string, options: PlanOptions = {}): MetricQuery[] {
  const percentiles = options.percentiles ?? true;
  const { api } = source;
  const specs = (api.type === 'REST' ? REST_METRICS : api.type === 'HTTP' ? HTTP_METRICS : WEBSOCKET_METRICS).filter(
    (s) => percentiles || !s.percentile,
  );
  const queries: MetricQuery[] = [];
  const add = (spec: MetricSpec, scope: string, suffix: string, namespace: string, dimensions: Dimension[]): void => {
    const group: QueryGroup = namespace === 'AWS/WAFV2' ? 'waf' : spec.percentile ? 'percentiles' : 'counts';
    const { role, metricName, stat } = spec;
    queries.push({ id: `${SHORT[role]}_${suffix}`, role, scope, namespace, metricName, dimensions, stat, periodSec: PERIOD_SEC, group });
  };

  for (const spec of specs) add(spec, API_SCOPE, 'api', 'AWS/ApiGateway', apiDimensions(source));
  if (api.detailed && api.type !== 'WEBSOCKET') {
    (options.routes ?? []).forEach((route, i) => {
      const dimensions: Dimension[] =
        api.type === 'REST'
          ? [
              { name: 'ApiName', value: api.name ?? '' },
              { name: 'Method', value: route.method },
              { name: 'Resource', value: route.path },
              { name: 'Stage', value: api.stage },
            ]
          : [
              { name: 'ApiId', value: api.id ?? '' },
              { name: 'Stage', value: api.stage },
              { name: 'Route', value: `${route.method} ${route.path}` },
            ];
      for (const spec of specs.filter((s) => !s.apiOnly)) add(spec, `${route.method} ${route.path}`, `r${i}`, 'AWS/ApiGateway', dimensions);
    });
  }
  if (source.waf) {
    const dimensions: Dimension[] = [
      { name: 'WebACL', value: source.waf.webAcl },
      { name: 'Region', value: region },
      { name: 'Rule', value: source.waf.rule },
    ];
    for (const spec of WAF_METRICS) add(spec, API_SCOPE, 'waf', 'AWS/WAFV2', dimensions);
  }
  return queries;
}

/** `Latency p99`, `WAF BlockedRequests`, `Count`: a metric as the report names it. */
export function metricLabel(query: Pick<MetricQuery, 'namespace' | 'metricName' | 'group' | 'stat'>): string {
  if (query.namespace === 'AWS/WAFV2') return `WAF ${query.metricName}`;
  return query.group === 'percentiles' ? `${query.metricName} ${query.stat}` : query.metricName;
}
