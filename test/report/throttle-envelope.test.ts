/**
 * The throttle envelope chart: an identified throttle check's cumulative accepted requests against the policy's
 * envelope (burstLimit + rateLimit·t) and the model's prediction, refusals marked, written as a well-formed SVG
 * beside report.md and referenced from the throttle section with a sentence on how to read it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvelopeSeries } from '../../src/checks/throttle/identified.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { ENVELOPE_READING, envelopeChart, throttleCharts } from '../../src/report/render/throttle.js';
import { writeReports } from '../../src/report/write.js';
import { Redactor } from '../../src/util/redact.js';
import { checkResult, runReport } from '../support/report-fixture.js';
import { xmlErrors } from '../support/xml.js';

const envelope: EnvelopeSeries = {
  sent: 8,
  tMs: [0, 1, 2, 3, 500, 1000, 1500, 2000],
  accepted: [1, 2, 3, 3, 4, 5, 5, 6],
  predicted: [1, 2, 3, 3, 4, 5, 6, 7],
  model: 'token bucket / GCRA, a new key admits burst+1 (nginx nodelay, redis-cell)',
  refused: 2,
  refusals: [
    [3, 3],
    [1500, 5],
  ],
};

const throttle = checkResult('throttle', 'pass', {
  id: 'throttle:GET /api/items',
  expected: { rateLimit: 2, burstLimit: 3, tolerance: 0.2, credential: null, plan: null },
  observed: {
    algorithm: 'token-bucket',
    variant: 'token bucket / GCRA',
    requests: { sent: 8, accepted: 6, refused: 2 },
    timeline: null,
    envelope,
  },
});

describe('throttle envelope chart', () => {
  it('draws accepted, the policy envelope from expected, the model and the refusals on a numeric time axis', () => {
    const chart = envelopeChart('GET /api/items', envelope, { rateLimit: 2, burstLimit: 3 });
    expect(chart.xAxis).toBe('value');
    const byName = Object.fromEntries(chart.series.map((s) => [s.name, s]));
    expect(byName['accepted (measured)']!.points).toEqual(envelope.tMs.map((t, i) => [t / 1000, envelope.accepted[i]]));
    expect(byName['policy envelope: 3 + 2/s · t']!.points).toEqual([
      [0, 3],
      [2, 7],
    ]);
    expect(byName['model: token bucket / GCRA']!.points!.at(-1)).toEqual([2, 7]);
    expect(byName['refused']!.type).toBe('scatter');
    expect(byName['refused']!.points).toEqual([
      [0.003, 3],
      [1.5, 5],
    ]);
  });

  it('is drawn only with a series and the policy numbers; the bucket path keeps its timeline chart alone', () => {
    expect(throttleCharts(throttle).map((c) => c.file)).toEqual(['charts/throttle-get-api-items-envelope.svg']);
    expect(throttleCharts({ ...throttle, expected: {} })).toEqual([]);
    expect(throttleCharts({ ...throttle, observed: { ...throttle.observed, envelope: null } })).toEqual([]);
  });

  it('is written as a well-formed SVG that report.md references under the throttle section, with how to read it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatecheck-envelope-'));
    const report = runReport([throttle]);
    const written = await writeReports(report, dir, new Redactor());
    const text = readFileSync(written.files.markdown, 'utf8');
    const referenced = [...text.matchAll(/!\[[^\]]*\]\((charts\/[^)]+\.svg)\)/g)].map((m) => m[1]!);
    expect(referenced).toEqual(['charts/throttle-get-api-items-envelope.svg']);
    expect(readdirSync(join(dir, 'charts'))).toEqual(['throttle-get-api-items-envelope.svg']);
    expect(written.charts).toEqual([join(dir, referenced[0]!)]);
    expect(existsSync(join(dir, referenced[0]!))).toBe(true);
    const svg = readFileSync(join(dir, referenced[0]!), 'utf8');
    expect(xmlErrors(svg)).toEqual([]);
    expect(svg).toMatch(/<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('GET /api/items: cumulative accepted vs the policy envelope');
    expect(svg).toContain('policy envelope: 3 + 2/s · t');
    expect(svg).toContain('model: token bucket / GCRA');
    // The chart and its reading sit in the throttle check's section; the series is not dumped as a table.
    const markdown = renderMarkdown(report);
    const image = markdown.indexOf('](charts/throttle-get-api-items-envelope.svg)');
    expect(image).toBeGreaterThan(markdown.indexOf('throttle:GET /api/items'));
    expect(markdown.indexOf(ENVELOPE_READING)).toBeGreaterThan(image);
    expect(markdown).not.toMatch(/\| envelope \|/);
  }, 30_000); // the first chart loads ECharts
});
