import { describe, expect, it } from 'vitest';
import { ALL_ROUTES, MetricsRecorder, MINUTE_MS } from '../../src/gateway/metrics-recorder.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('MetricsRecorder', () => {
  it('counts requests, 4xx and 5xx per minute and route', () => {
    const recorder = new MetricsRecorder();
    recorder.record(T0 + 1_000, 'GET /a', 200, 5);
    recorder.record(T0 + 59_999, 'GET /a', 429, 1);
    recorder.record(T0 + 30_000, 'GET /a', 502, 9);
    recorder.record(T0 + 60_000, 'GET /a', 403, 2);
    recorder.record(T0 + 2_000, 'GET /b', 200, 3);
    expect(recorder.datapoints().map((p) => [p.minuteStartMs - T0, p.route, p.count, p.error4xx, p.error5xx])).toEqual([
      [0, 'GET /a', 3, 1, 1],
      [0, 'GET /b', 1, 0, 0],
      [MINUTE_MS, 'GET /a', 1, 1, 0],
    ]);
    expect(recorder.datapoints({ route: 'GET /b' })).toHaveLength(1);
    expect(recorder.datapoints({ fromMs: T0 + MINUTE_MS })).toHaveLength(1);
    expect(recorder.datapoints({ toMs: T0 + MINUTE_MS })).toHaveLength(2);
    const merged = recorder.datapoints({ mergeRoutes: true });
    expect(merged.map((p) => [p.route, p.count])).toEqual([
      [ALL_ROUTES, 4],
      [ALL_ROUTES, 1],
    ]);
    expect(recorder.routes()).toEqual(['GET /a', 'GET /b']);
  });

  it('summarizes latency: sum, count, max and percentiles within 4%, never above the max', () => {
    const recorder = new MetricsRecorder();
    for (let ms = 1; ms <= 1000; ms++) recorder.record(T0, 'GET /a', 200, ms);
    const { latency } = recorder.datapoints()[0]!;
    expect(latency.count).toBe(1000);
    expect(latency.sumMs).toBe(500_500);
    expect(latency.maxMs).toBe(1000);
    expect(latency.p50Ms).toBeGreaterThanOrEqual(500);
    expect(latency.p50Ms).toBeLessThanOrEqual(500 * 1.04);
    expect(latency.p99Ms).toBeGreaterThanOrEqual(990);
    expect(latency.p99Ms).toBeLessThanOrEqual(1000);
  });

  it('keeps only the retained minutes', () => {
    const recorder = new MetricsRecorder({ retentionMinutes: 3 });
    for (let minute = 0; minute < 10; minute++) recorder.record(T0 + minute * MINUTE_MS, 'GET /a', 200, 1);
    expect(recorder.datapoints().map((p) => (p.minuteStartMs - T0) / MINUTE_MS)).toEqual([7, 8, 9]);
    recorder.record(T0, 'GET /a', 200, 1); // a straggler from an evicted minute is dropped
    expect(recorder.datapoints()).toHaveLength(3);
    recorder.clear();
    expect(recorder.datapoints()).toEqual([]);
  });

  it('handles zero and huge latencies', () => {
    const recorder = new MetricsRecorder();
    recorder.record(T0, 'GET /a', 200, 0);
    recorder.record(T0, 'GET /a', 200, 5_000_000);
    const { latency } = recorder.datapoints()[0]!;
    expect(latency.p50Ms).toBeLessThan(0.02);
    expect(latency.p99Ms).toBeLessThanOrEqual(5_000_000);
    expect(latency.maxMs).toBe(5_000_000);
  });
});
