import { describe, expect, it } from 'vitest';
import { metricLabel, planQueries } from '../../src/cloudwatch/queries.js';
import type { CloudWatchSource } from '../../src/policy/types.js';

const routes = [{ method: 'GET', path: '/api/items' }];
const summary = (source: CloudWatchSource, percentiles = true) =>
  planQueries(source, 'eu-west-1', { routes, percentiles }).map(
    (q) => `${q.id} ${q.namespace} ${q.metricName}/${q.stat} ${q.dimensions.map((d) => `${d.name}=${d.value}`).join(',')}`,
  );

describe('planQueries: metric, statistic and dimension set per API type (REFERENCE.md)', () => {
  it('REST: ApiName,Stage; detailed adds ApiName,Method,Resource,Stage counts; WAF on WebACL,Region,Rule', () => {
    expect(summary({ api: { type: 'REST', name: 'shop', stage: 'prod', detailed: true }, waf: { webAcl: 'acl', rule: 'ALL' } })).toEqual([
      'count_api AWS/ApiGateway Count/Sum ApiName=shop,Stage=prod',
      'e4xx_api AWS/ApiGateway 4XXError/Sum ApiName=shop,Stage=prod',
      'e5xx_api AWS/ApiGateway 5XXError/Sum ApiName=shop,Stage=prod',
      'lat50_api AWS/ApiGateway Latency/p50 ApiName=shop,Stage=prod',
      'lat99_api AWS/ApiGateway Latency/p99 ApiName=shop,Stage=prod',
      'ilat99_api AWS/ApiGateway IntegrationLatency/p99 ApiName=shop,Stage=prod',
      'count_r0 AWS/ApiGateway Count/Sum ApiName=shop,Method=GET,Resource=/api/items,Stage=prod',
      'e4xx_r0 AWS/ApiGateway 4XXError/Sum ApiName=shop,Method=GET,Resource=/api/items,Stage=prod',
      'e5xx_r0 AWS/ApiGateway 5XXError/Sum ApiName=shop,Method=GET,Resource=/api/items,Stage=prod',
      'wafBlocked_waf AWS/WAFV2 BlockedRequests/Sum WebACL=acl,Region=eu-west-1,Rule=ALL',
      'wafAllowed_waf AWS/WAFV2 AllowedRequests/Sum WebACL=acl,Region=eu-west-1,Rule=ALL',
    ]);
  });

  it('HTTP: 4xx/5xx on ApiId,Stage; detailed on ApiId,Stage,Route; no percentiles for moto', () => {
    expect(summary({ api: { type: 'HTTP', id: 'a1b2c3d4e5', stage: '$default', detailed: true } }, false)).toEqual([
      'count_api AWS/ApiGateway Count/Sum ApiId=a1b2c3d4e5,Stage=$default',
      'e4xx_api AWS/ApiGateway 4xx/Sum ApiId=a1b2c3d4e5,Stage=$default',
      'e5xx_api AWS/ApiGateway 5xx/Sum ApiId=a1b2c3d4e5,Stage=$default',
      'count_r0 AWS/ApiGateway Count/Sum ApiId=a1b2c3d4e5,Stage=$default,Route=GET /api/items',
      'e4xx_r0 AWS/ApiGateway 4xx/Sum ApiId=a1b2c3d4e5,Stage=$default,Route=GET /api/items',
      'e5xx_r0 AWS/ApiGateway 5xx/Sum ApiId=a1b2c3d4e5,Stage=$default,Route=GET /api/items',
    ]);
  });

  it('WEBSOCKET: connection and message counts on ApiId,Stage', () => {
    expect(summary({ api: { type: 'WEBSOCKET', id: 'w1b2c3d4e5', stage: 'live', detailed: true } }).map((q) => q.split(' ')[2])).toEqual([
      'ConnectCount/Sum',
      'MessageCount/Sum',
      'ClientError/Sum',
      'IntegrationError/Sum',
      'ExecutionError/Sum',
    ]);
  });

  it('gives every query an id GetMetricData accepts, unique in the call', () => {
    const ids = planQueries(
      { api: { type: 'REST', name: 'x', stage: 'y', detailed: true }, waf: { webAcl: 'a', rule: 'R' } },
      'us-east-1',
      { routes: [...routes, { method: 'POST', path: '/b' }] },
    ).map((q) => q.id);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('puts plain statistics, percentiles and WAF metrics in separate groups (one call each), labelled for the report', () => {
    const source: CloudWatchSource = { api: { type: 'REST', name: 'x', stage: 'y', detailed: true }, waf: { webAcl: 'a', rule: 'ALL' } };
    const queries = planQueries(source, 'us-east-1', { routes });
    const byGroup = (group: string) => queries.filter((q) => q.group === group).map(metricLabel);
    expect(byGroup('counts')).toEqual(['Count', '4XXError', '5XXError', 'Count', '4XXError', '5XXError']);
    expect(byGroup('percentiles')).toEqual(['Latency p50', 'Latency p99', 'IntegrationLatency p99']);
    expect(byGroup('waf')).toEqual(['WAF BlockedRequests', 'WAF AllowedRequests']);
  });
});
