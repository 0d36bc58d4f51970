import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { InstanceResult, SummaryMetric } from '../../src/k6/aggregate.js';
import { k6Checks } from '../../src/k6/checks.js';
import { K6InputError } from '../../src/k6/errors.js';
import { mergeInstances, mergeSummaryMetric } from '../../src/k6/merge.js';
import { parseK6Time } from '../../src/k6/ndjson.js';
import { planK6 } from '../../src/k6/plan.js';
import { loadPolicyForK6 } from '../../src/k6/policy.js';
import { readK6File } from '../../src/k6/read.js';
import { parseThreshold } from '../../src/k6/thresholds.js';
import { bucketRun, fixture, tempDir, toNdjson } from './support.js';

const NDJSON = fixture('out-json.xk6-dashboard.first300.ndjson');
const SUMMARIES = {
  'handle-summary-data.k6-reporter-simple.json': 878,
  'handle-summary-data.mostlyucid-nmt.json': 856,
  'handle-summary-data.quality-time.json': 950,
  'handle-summary-data.vafast-benchmarks.json': 384_236,
  'summary-export-legacy.sap-cloud-cap-samples.json': 700,
};

const write = (dir: string, name: string, content: string | Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
};

async function inputError(file: string): Promise<K6InputError> {
  try {
    await readK6File(file);
  } catch (error) {
    if (error instanceof K6InputError) return error;
    throw error;
  }
  throw new Error(`${file} was read without error`);
}

describe('k6 summaries (real samples)', () => {
  it.each(Object.entries(SUMMARIES))('%s: reads the request count', async (name, requests) => {
    const instance = await readK6File(fixture(name));
    expect(instance.summary.get('http_reqs')?.values.count).toBe(requests);
  });

  it('tells the shapes apart', async () => {
    expect((await readK6File(fixture('handle-summary-data.quality-time.json'))).format).toBe('handle-summary');
    expect((await readK6File(fixture('summary-export-legacy.sap-cloud-cap-samples.json'))).format).toBe('summary-export');
    expect((await readK6File(NDJSON)).format).toBe('ndjson');
  });

  it('keeps k6’s threshold verdicts, failing ones included', async () => {
    const quality = await readK6File(fixture('handle-summary-data.quality-time.json'));
    expect(quality.thresholds).toEqual([
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
      { metric: 'http_req_duration', expression: 'p(98)<200', ok: false },
    ]);
    const nmt = await readK6File(fixture('handle-summary-data.mostlyucid-nmt.json'));
    expect(nmt.thresholds.find((t) => t.metric === 'http_req_duration')).toEqual({
      metric: 'http_req_duration',
      expression: 'p(95) < 5000',
      ok: false,
    });
  });

  it('reads the legacy export: rate under `value`, checks and groups keyed by name', async () => {
    const sap = await readK6File(fixture('summary-export-legacy.sap-cloud-cap-samples.json'));
    expect(sap.summary.get('http_req_failed')).toEqual({ type: 'rate', values: { passes: 700, fails: 0, rate: 1 } });
    expect(sap.summary.get('vus')?.type).toBe('gauge');
    expect(sap.summary.get('http_req_duration')?.type).toBe('trend');
    expect(sap.thresholds).toEqual([]);
  });

  it('reads a legacy export’s thresholds where true means FAILED', async () => {
    // k6's own oldJSONSummary() applied to a real handleSummary dump (see PROVENANCE.md).
    const data = JSON.parse(readFileSync(fixture('handle-summary-data.quality-time.json'), 'utf8')) as {
      metrics: Record<string, { type: string; values: Record<string, unknown>; thresholds?: Record<string, { ok: boolean }> }>;
      root_group: { checks: Array<{ name: string }> };
    };
    const metrics: Record<string, Record<string, unknown>> = {};
    for (const [name, m] of Object.entries(data.metrics)) {
      const flat: Record<string, unknown> = { ...m.values };
      if (m.thresholds) flat.thresholds = Object.fromEntries(Object.entries(m.thresholds).map(([expr, t]) => [expr, !t.ok]));
      if (m.type === 'rate') {
        flat.value = flat.rate;
        delete flat.rate;
      }
      metrics[name] = flat;
    }
    const legacy = {
      metrics,
      root_group: { ...data.root_group, checks: Object.fromEntries(data.root_group.checks.map((c) => [c.name, c])), groups: {} },
    };
    const instance = await readK6File(write(tempDir(), 'legacy.json', JSON.stringify(legacy, null, 4)));
    expect(instance.format).toBe('summary-export');
    expect(instance.thresholds).toEqual(
      expect.arrayContaining([
        { metric: 'http_req_duration', expression: 'p(98)<200', ok: false },
        { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
      ]),
    );
    expect(instance.summary.get('http_req_failed')?.values).toMatchObject({ passes: 7, fails: 943 });
  });

  it.each(['k6Version', 'k6_version'])('reads the machine-readable summary with metadata.%s', async (versionKey) => {
    const data = JSON.parse(readFileSync(fixture('handle-summary-data.quality-time.json'), 'utf8')) as {
      metrics: Record<string, { type: string; contains: string; values: Record<string, number> }>;
      state: { testRunDurationMs: number };
    };
    // As k6's ToMachineReadable builds it (see PROVENANCE.md).
    const metrics = Object.entries(data.metrics).map(([name, m]) => {
      const v = m.values;
      const values =
        m.type === 'counter'
          ? { count: v.count }
          : m.type === 'rate'
            ? { matches: v.passes, total: v.passes! + v.fails!, rate: v.rate }
            : m.type === 'gauge'
              ? { max: v.max, min: v.min, value: v.value }
              : Object.fromEntries(['avg', 'max', 'med', 'min', 'p(90)', 'p(95)'].filter((k) => k in v).map((k) => [k, v[k]]));
      return { name, type: m.type, contains: m.contains, values };
    });
    const summary = {
      version: '1.0.0',
      metadata: { [versionKey]: '1.7.1', [versionKey === 'k6Version' ? 'generatedAt' : 'generated_at']: '2025-11-01T10:00:00Z' },
      config: { duration: data.state.testRunDurationMs / 1000, execution: 'local' },
      results: { metrics, checks: { results: [{ name: 'OG response status is 200', passes: 165, fails: 7 }] } },
    };
    const instance = await readK6File(write(tempDir(), 'summary-v1.json', JSON.stringify(summary)));
    expect(instance.format).toBe('summary-v1');
    expect(instance.k6Version).toBe('1.7.1');
    expect(instance.summary.get('http_reqs')?.values.count).toBe(950);
    expect(instance.summary.get('http_req_failed')?.values).toMatchObject({ passes: 7, fails: 943 });
    expect(instance.checks.get('OG response status is 200')).toEqual({ passes: 165, fails: 7 });
    expect(instance.thresholds).toEqual([]);
  });
});

describe('k6 NDJSON points (real sample)', () => {
  it('counts what the file holds', async () => {
    const instance = await readK6File(NDJSON);
    const lines = readFileSync(NDJSON, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; metric: string; data: { value: number; tags: Record<string, string> } });
    const points = (metric: string) => lines.filter((l) => l.type === 'Point' && l.metric === metric);
    expect(instance.lines).toBe(300);
    expect(instance.points.get('http_reqs')?.sum).toBe(points('http_reqs').length);
    expect(instance.points.get('http_reqs')?.sum).toBe(26);
    expect(Object.fromEntries(instance.statuses)).toEqual({ 200: 12, 308: 14 });
    expect(instance.points.get('http_req_duration')?.points).toBe(26);
    expect(instance.points.get('http_req_duration{expected_response:true}')?.points).toBe(26);
    expect(instance.points.get('data_received')?.sum).toBe(points('data_received').reduce((s, p) => s + p.data.value, 0));
    const durations = points('http_req_duration')
      .map((p) => p.data.value)
      .sort((a, b) => a - b);
    expect(instance.points.get('http_req_duration')?.stat('max', 0)).toBe(durations[durations.length - 1]);
    // HDR percentiles are exact to 0.1%.
    expect(instance.points.get('http_req_duration')!.stat('med', 0)!).toBeCloseTo(durations[12]!, 0);
    expect([...instance.windows.values()].reduce((s, w) => s + w.accepted + w.throttled + w.other, 0)).toBe(26);
  });

  it('reads gzip by its magic bytes, whatever the name', async () => {
    const plain = await readK6File(NDJSON);
    const zipped = await readK6File(write(tempDir(), 'points.json', gzipSync(readFileSync(NDJSON))));
    expect(zipped.points.get('http_reqs')?.sum).toBe(plain.points.get('http_reqs')?.sum);
    expect(zipped.lines).toBe(300);
  });

  it('parses Go’s nanosecond timestamps with their offset', () => {
    expect(parseK6Time('2023-09-08T21:03:10.549397854+02:00')).toBeCloseTo(Date.UTC(2023, 8, 8, 19, 3, 10) + 549.397854, 6);
    expect(parseK6Time('2023-09-08T19:03:10Z')).toBe(Date.UTC(2023, 8, 8, 19, 3, 10));
    expect(parseK6Time('yesterday')).toBeUndefined();
  });
});

describe('merging instances', () => {
  const text = readFileSync(NDJSON, 'utf8');
  const lines = text.trim().split('\n');
  const isMetric = (l: string) => l.startsWith('{"type":"Metric"');

  async function readAll(contents: string[]): Promise<InstanceResult[]> {
    const dir = tempDir();
    return Promise.all(contents.map((c, i) => readK6File(write(dir, `instance-${i}.ndjson`, c))));
  }

  function expectSameTotals(merged: ReturnType<typeof mergeInstances>, whole: ReturnType<typeof mergeInstances>) {
    expect(merged.points.get('http_reqs')!.sum).toBe(whole.points.get('http_reqs')!.sum);
    expect(Object.fromEntries(merged.statuses)).toEqual(Object.fromEntries(whole.statuses));
    expect(Object.fromEntries(merged.windows)).toEqual(Object.fromEntries(whole.windows));
    expect(merged.durationMs).toBe(whole.durationMs);
    for (const [name, aggregate] of whole.points) {
      const other = merged.points.get(name)!;
      expect([name, other.points, other.nonZero, other.min, other.max]).toEqual([
        name,
        aggregate.points,
        aggregate.nonZero,
        aggregate.min,
        aggregate.max,
      ]);
      expect(other.sum).toBeCloseTo(aggregate.sum, 6);
      if (aggregate.type === 'trend')
        for (const p of ['med', 'p(90)', 'p(95)', 'p(99)']) expect(other.stat(p, 0)).toBe(aggregate.stat(p, 0));
    }
    const m = (r: typeof merged) => Object.fromEntries(r.metrics.map((x) => [x.name, x.values]));
    const wm = m(whole);
    for (const [name, values] of Object.entries(m(merged)))
      for (const [k, v] of Object.entries(values)) expect(v, `${name}.${k}`).toBeCloseTo(wm[name]![k]!, 6);
  }

  it('three instances split by time merge to the unsplit file’s totals', async () => {
    const whole = mergeInstances(await readAll([text]));
    const metricLines = lines.filter(isMetric);
    const points = lines.filter((l) => !isMetric(l));
    const times = points.map((l) => parseK6Time((JSON.parse(l) as { data: { time: string } }).data.time)!);
    const [t0, t1] = [Math.min(...times), Math.max(...times)];
    const cut = (k: number) => t0 + ((t1 - t0) * k) / 3;
    // Each instance writes its own Metric lines before its points, as every k6 process does.
    const parts = [0, 1, 2].map((k) =>
      [...metricLines, ...points.filter((_, i) => times[i]! >= cut(k) && (k === 2 || times[i]! < cut(k + 1)))].join('\n'),
    );
    expect(parts.map((p) => p.split('\n').length - metricLines.length).reduce((a, b) => a + b)).toBe(points.length);
    expect(parts.every((p) => p.split('\n').length > metricLines.length + 20)).toBe(true);
    const merged = mergeInstances(await readAll(parts));
    expectSameTotals(merged, whole);
    expect(merged.instances).toHaveLength(3);
  });

  it('two instances split by line merge to the unsplit file’s totals', async () => {
    const whole = mergeInstances(await readAll([text]));
    const metricLines = lines.filter(isMetric);
    const points = lines.filter((l) => !isMetric(l));
    const merged = mergeInstances(
      await readAll([[...metricLines, ...points.slice(0, 131)].join('\n'), [...metricLines, ...points.slice(131)].join('\n')]),
    );
    expectSameTotals(merged, whole);
  });

  it('a naive cut (the second part lacks the Metric lines) still merges to the same request totals', async () => {
    const whole = mergeInstances(await readAll([text]));
    // k6's built-in metrics have known types; only the submetrics declared on Metric lines are lost.
    const merged = mergeInstances(await readAll([lines.slice(0, 137).join('\n'), lines.slice(137).join('\n')]));
    expect(merged.points.get('http_reqs')!.sum).toBe(whole.points.get('http_reqs')!.sum);
    expect(Object.fromEntries(merged.statuses)).toEqual(Object.fromEntries(whole.statuses));
    expect(Object.fromEntries(merged.windows)).toEqual(Object.fromEntries(whole.windows));
    expect(merged.points.get('http_req_duration')!.stat('p(95)', 0)).toBe(whole.points.get('http_req_duration')!.stat('p(95)', 0));
  });

  it('adds summary counts exactly and marks merged percentiles approximate', async () => {
    const a = await readK6File(fixture('handle-summary-data.quality-time.json'));
    const b = await readK6File(fixture('handle-summary-data.quality-time.json'));
    const merged = mergeInstances([a, b]);
    const metric = (name: string) => merged.metrics.find((m) => m.name === name)!;
    expect(metric('http_reqs').values.count).toBe(1900);
    expect(metric('http_req_failed').values).toMatchObject({ passes: 14, fails: 1886 });
    expect(metric('http_req_duration').values.count).toBe(1900);
    expect(metric('http_req_duration').approximate).toMatch(/largest of 2 instances/);
    expect(merged.checks.get('::OG response status is 200')).toEqual({ passes: 330, fails: 14 });
    const failing = merged.thresholds.find((t) => t.expression === 'p(98)<200')!;
    expect(failing).toMatchObject({ ok: false, mergedExact: false });
    expect(failing.instances.map((i) => i.ok)).toEqual([false, false]);
  });

  it('any failing instance fails an intensive threshold; a counter total is judged merged', () => {
    const trend = mergeSummaryMetric('t', [
      { type: 'trend', values: { count: 10, avg: 1, 'p(95)': 100 } },
      { type: 'trend', values: { count: 30, avg: 3, 'p(95)': 300 } },
    ]);
    expect(trend.values).toMatchObject({ count: 40, avg: 2.5, 'p(95)': 300 });
    const instance = (file: string, ok: boolean, count: number): InstanceResult => {
      const base = {
        file,
        format: 'handle-summary' as const,
        instanceIds: [],
        lines: 0,
        points: new Map(),
        thresholdDefinitions: new Map(),
        checks: new Map(),
        statuses: new Map(),
        windows: new Map(),
        windowMs: 100,
        probes: new Map(),
        records: [],
        dropped: new Map(),
      };
      return {
        ...base,
        summary: new Map<string, SummaryMetric>([
          ['http_req_duration', { type: 'trend', values: { 'p(95)': ok ? 100 : 900 } }],
          ['http_reqs', { type: 'counter', values: { count } }],
        ]),
        thresholds: [
          { metric: 'http_req_duration', expression: 'p(95)<500', ok },
          { metric: 'http_reqs', expression: 'count>=150', ok: false },
        ],
      };
    };
    const merged = mergeInstances([instance('a', true, 100), instance('b', false, 100)]);
    expect(merged.thresholds.find((t) => t.metric === 'http_req_duration')).toMatchObject({ ok: false });
    // Each instance saw 100 < 150, but together they sent 200.
    expect(merged.thresholds.find((t) => t.metric === 'http_reqs')).toMatchObject({ ok: true, mergedValue: 200 });
  });

  it('parses k6 threshold expressions', () => {
    expect(parseThreshold('p(95) < 5000')).toEqual({ aggregation: 'p(95)', operator: '<', limit: 5000 });
    expect(parseThreshold('rate<=0.01')).toEqual({ aggregation: 'rate', operator: '<=', limit: 0.01 });
    expect(parseThreshold('max<4000')).toEqual({ aggregation: 'max', operator: '<', limit: 4000 });
    expect(parseThreshold('bogus')).toBeUndefined();
  });
});

describe('malformed k6 files: a clear error naming the file and line', () => {
  const dir = tempDir();
  const lines = readFileSync(NDJSON, 'utf8').trim().split('\n');

  it('a truncated last NDJSON line', async () => {
    const last = lines[lines.length - 1]!;
    const file = write(dir, 'truncated.ndjson', `${[...lines.slice(0, -1), last.slice(0, last.length >> 1)].join('\n')}`);
    const error = await inputError(file);
    expect(error.line).toBe(300);
    expect(error.message).toMatch(/truncated\.ndjson:300: not valid JSON: the line is cut short/);
  });

  it('a truncated gzip stream', async () => {
    const zipped = gzipSync(readFileSync(NDJSON));
    const error = await inputError(write(dir, 'truncated.ndjson.gz', zipped.subarray(0, zipped.length >> 1)));
    expect(error.message).toMatch(/truncated\.ndjson\.gz:\d+: the gzip stream is truncated or corrupt/);
  });

  it('an empty file, and one of whitespace', async () => {
    expect((await inputError(write(dir, 'empty.json', ''))).message).toMatch(/empty\.json: the file is empty/);
    expect((await inputError(write(dir, 'blank.json', '\n \n'))).message).toMatch(/blank\.json: the file holds only whitespace/);
  });

  it('an unknown summary shape', async () => {
    const error = await inputError(write(dir, 'other.json', JSON.stringify({ results: 'ok', passed: true }, null, 2)));
    expect(error.message).toMatch(/other\.json:1: unknown k6 summary shape \(top-level keys: results, passed\)/);
  });

  it('a summary cut short', async () => {
    const text = readFileSync(fixture('handle-summary-data.quality-time.json'), 'utf8');
    const error = await inputError(write(dir, 'cut.json', text.slice(0, 400)));
    expect(error.message).toMatch(/cut\.json:\d+: neither k6 NDJSON nor a JSON summary: .*truncated/);
  });

  it('a bad record in the middle of a stream', async () => {
    const broken = [
      ...lines.slice(0, 10),
      '{"type":"Point","metric":"http_reqs","data":{"time":"2023-09-08T21:03:10Z","value":"one"}}',
      ...lines.slice(10),
    ].join('\n');
    expect((await inputError(write(dir, 'bad.ndjson', broken))).message).toMatch(
      /bad\.ndjson:11: point of http_reqs: value is not a number/,
    );
  });

  it('a file that is not there', async () => {
    expect((await inputError(join(dir, 'missing.json'))).message).toMatch(/missing\.json: cannot read the file \(ENOENT\)/);
  });
});

describe('checks from k6 points tagged by a gatecheck export', () => {
  const { policy } = loadPolicyForK6(fixture('policy.yaml'), {});
  const items = policy.routes[0]!;
  const start = Date.UTC(2026, 0, 1, 12);

  async function judge(ndjson: string[]) {
    const dir = tempDir();
    const instances = await Promise.all(ndjson.map((text, i) => readK6File(write(dir, `pod-${i}.ndjson`, text))));
    const merged = mergeInstances(instances, { extraThresholds: planK6(policy.routes, { requestTimeoutMs: 3000 }).thresholds });
    return { merged, checks: k6Checks(merged, { policy, policyFile: 'test/fixtures/k6/policy.yaml' }) };
  }

  it('fits the bucket on the merged timeline of three pods and judges the slo', async () => {
    const run = bucketRun({
      route: items.id,
      routeIndex: 0,
      rate: 50,
      burst: 20,
      volley: 40,
      pacedRate: 100,
      pacedSeconds: 2,
      startMs: start,
      slo: { rate: 20, seconds: 3, latencyMs: 40 },
    });
    const { merged, checks } = await judge(toNdjson(run, 3, { thresholds: planK6(policy.routes, { requestTimeoutMs: 3000 }).thresholds }));
    expect(merged.instances.map((i) => i.instanceIds)).toEqual([['0'], ['1'], ['2']]);
    const throttle = checks.find((c) => c.id === 'throttle:GET /api/items')!;
    expect(throttle.status, throttle.summary).toBe('pass');
    expect(throttle.observed.ratePerSec as number).toBeGreaterThan(45);
    expect(throttle.observed.ratePerSec as number).toBeLessThan(55);
    expect(Math.abs((throttle.observed.burst as number) - 20)).toBeLessThanOrEqual(2);
    // The volley's answer times reach the estimator: its window runs to the last answer, past its last send.
    const volley = throttle.observed.volley as { sent: number; spanMs: number; windowMs: number };
    expect(volley.sent).toBe(40);
    expect(volley.windowMs).toBeGreaterThan(volley.spanMs + 19);
    expect(throttle.evidence.map((e) => e.label)).toContain('volley: first throttled (429)');
    const slo = checks.find((c) => c.id === 'slo:GET /api/items')!;
    expect(slo.status, slo.summary).toBe('pass');
    expect(slo.observed).toMatchObject({ sent: 60, ok: 60, failed: 0, transportErrors: 0 });
    expect(slo.expected).toMatchObject({ engine: 'k6', p99Ms: 250 });
    // The route without points is skipped with its reason; auth is not the k6 engine's business.
    expect(checks.find((c) => c.id === 'throttle:POST /partner/orders')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('no k6 points tagged route=POST /partner/orders'),
    });
    expect(checks.find((c) => c.id === 'auth:GET /api/items')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('not checked by the k6 engine'),
    });
    expect(checks.find((c) => c.id === 'cors:GET /public/config')?.status).toBe('skip');
    // The policy's thresholds are still evaluated on the merged points (the k6 section shows them,
    // per pod and merged), but the slo is judged once: by its check, not again as threshold checks.
    const p99Metric = 'http_req_duration{route:GET /api/items,probe:slo,expected_response:true}';
    const p99 = merged.thresholds.find((t) => t.metric === p99Metric && t.expression === 'p(99)<=250')!;
    expect(p99).toMatchObject({ ok: true, mergedExact: true });
    expect(p99.instances.length).toBe(3);
    expect(p99.mergedValue).toBeGreaterThanOrEqual(40);
    expect(p99.mergedValue).toBeLessThanOrEqual(50);
    expect(checks.filter((c) => c.id.startsWith('slo:k6 '))).toEqual([]);
    // No points for /health: its slo is skipped with the reason, not passed.
    expect(checks.find((c) => c.id === 'slo:GET /health')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('no k6 points tagged route=GET /health, probe=slo'),
    });
  });

  it('fails a gateway whose bucket refills twice too fast', async () => {
    const run = bucketRun({
      route: items.id,
      routeIndex: 0,
      rate: 100,
      burst: 20,
      volley: 40,
      pacedRate: 200,
      pacedSeconds: 2,
      startMs: start,
    });
    const { checks } = await judge(toNdjson(run, 2));
    expect(checks.find((c) => c.id === 'throttle:GET /api/items')).toMatchObject({
      status: 'fail',
      summary: expect.stringMatching(/rate .*(outside|above)/),
    });
  });

  it('calls a run that could not reach the limit client-bound, and shows the export that would', async () => {
    const run = bucketRun({
      route: items.id,
      routeIndex: 0,
      rate: 50,
      burst: 20,
      volley: 40,
      pacedRate: 30,
      pacedSeconds: 2,
      startMs: start,
    });
    const { checks } = await judge(toNdjson(run, 1, { dropped: { r0_throttle_paced: 140 } }));
    const throttle = checks.find((c) => c.id === 'throttle:GET /api/items')!;
    expect(throttle.status).toBe('inconclusive');
    expect(throttle.summary).toMatch(/client-bound: offered 30\/s of the planned 100\/s.*140 scheduled requests dropped/);
    // The export command is the report's and the CLI's to print, from this data.
    expect(throttle.observed.clientBound).toMatchObject({ neededRatePerSec: 100 });
  });

  it('fails the slo on errors, from the points', async () => {
    const run = bucketRun({
      route: items.id,
      routeIndex: 0,
      rate: 50,
      burst: 20,
      volley: 40,
      pacedRate: 100,
      pacedSeconds: 2,
      startMs: start,
      slo: { rate: 20, seconds: 3, latencyMs: 40, errorEvery: 10 },
    });
    const { checks } = await judge(toNdjson(run, 2));
    expect(checks.find((c) => c.id === 'slo:GET /api/items')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('error rate 10.00% (6/60)'),
    });
  });
});
