/**
 * The recorder behind `run --record` and the reader behind `gatecheck judge`: one JSON record a
 * line, the run first; every line through the run's Redactor, so a credential value is never
 * written (in a header, a query string, a body, a check's notes, JSON-escaped or not).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/engine/observation.js';
import { parsePolicy } from '../../src/policy/load.js';
import { judgeRecording } from '../../src/run/judge.js';
import { FileRunRecorder, parseRecording, RecordingError } from '../../src/run/record.js';
import { Redactor } from '../../src/util/redact.js';
import { reportSchemaErrors } from '../support/report-schema.js';

const SECRET = 'rec-secret-7f3a9c1e5d';
const redactor = new Redactor([{ name: 'main', header: 'x-api-key', value: SECRET }]);
const RUN = { version: '0.1.0', policyFile: 'api.yaml', target: 'http://127.0.0.1:8080' };

function observation(extra: Partial<Observation> = {}): Observation {
  return {
    probe: 'slo',
    check: 'slo:GET /api/items',
    method: 'GET',
    path: `/api/items?key=${SECRET}`,
    requestHeaders: { 'x-api-key': SECRET },
    intendedAtMs: 10,
    sentAtMs: 10.5,
    doneAtMs: 12,
    status: 200,
    headers: { 'content-type': 'application/json' },
    bodySnippet: `{"echo":"${SECRET}"}`,
    ...extra,
  };
}

async function record(write: (recorder: FileRunRecorder) => void): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'gatecheck-rec-')), 'run.ndjson');
  const recorder = await FileRunRecorder.create(file, redactor, RUN);
  write(recorder);
  await recorder.close();
  return readFileSync(file, 'utf8');
}

describe('FileRunRecorder', () => {
  it('writes the run, each observation and each check record as one JSON line each, in order', async () => {
    const text = await record((r) => {
      r.start({ startedAt: '2026-11-30T10:00:00.000Z', epochAtOriginMs: 1_796_032_800_000 });
      r.observation(observation());
      r.observation(observation({ status: undefined, error: 'ECONNRESET', probe: 'slo' }));
      r.check({ id: 'slo:GET /api/items', kind: 'slo', route: 'GET /api/items', idSuffix: '', notes: { dropped: 0 } });
    });
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['run', 'observation', 'observation', 'check']);
    expect(lines[0]).toEqual({ type: 'run', ...RUN, startedAt: '2026-11-30T10:00:00.000Z', epochAtOriginMs: 1_796_032_800_000 });
    const seen = { type: 'observation', probe: 'slo', check: 'slo:GET /api/items', method: 'GET', status: 200, sentAtMs: 10.5 };
    expect(lines[1]).toMatchObject(seen);
    expect(lines[2]).toMatchObject({ type: 'observation', error: 'ECONNRESET' });
    expect(lines[2]).not.toHaveProperty('status');
    const check = { type: 'check', id: 'slo:GET /api/items', kind: 'slo', route: 'GET /api/items', idSuffix: '', notes: { dropped: 0 } };
    expect(lines[3]).toEqual(check);
  });

  it('never writes a credential value: headers, query strings, bodies and notes hold its placeholder', async () => {
    const text = await record((r) => {
      r.start({ startedAt: '2026-11-30T10:00:00.000Z', epochAtOriginMs: 0 });
      r.observation(observation());
      const notes = { sent: `Bearer ${SECRET}`, quoted: `"${SECRET}"` };
      r.check({ id: 'auth:GET /api/items', kind: 'auth', route: 'GET /api/items', idSuffix: '', notes });
    });
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(encodeURIComponent(SECRET));
    const [, seen, check] = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(seen).toMatchObject({ path: '/api/items?key=<credential main>', requestHeaders: { 'x-api-key': '<credential main>' } });
    expect(seen!.bodySnippet).toBe('{"echo":"<credential main>"}');
    expect(check!.notes).toEqual({ sent: 'Bearer <credential main>', quoted: '"<credential main>"' });
  });

  it("what was sent, not what a probe's headers object became afterwards", async () => {
    const o = observation();
    const text = await record((r) => {
      r.start({ startedAt: '2026-11-30T10:00:00.000Z', epochAtOriginMs: 0 });
      r.observation(o);
      o.requestHeaders!['x-later'] = 'changed';
    });
    expect(text).not.toContain('x-later');
  });

  it("a path that cannot be created is the file system's error, before anything is recorded", async () => {
    const file = join(tmpdir(), 'gatecheck-no-such-dir', 'x', 'run.ndjson');
    await expect(FileRunRecorder.create(file, redactor, RUN)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('parseRecording', () => {
  it('reads back the run, the observations (without their type) and the check records by id', async () => {
    const text = await record((r) => {
      r.start({ startedAt: '2026-11-30T10:00:00.000Z', epochAtOriginMs: 5 });
      r.observation(observation());
      r.check({ id: 'slo:GET /api/items', kind: 'slo', route: 'GET /api/items', idSuffix: '', notes: { dropped: 1 } });
    });
    const recording = parseRecording(text);
    expect(recording.run).toMatchObject({ type: 'run', target: RUN.target, epochAtOriginMs: 5 });
    expect(recording.observations).toHaveLength(1);
    expect(recording.observations[0]).not.toHaveProperty('type');
    expect(recording.observations[0]).toMatchObject({ probe: 'slo', path: '/api/items?key=<credential main>' });
    expect(recording.checks.get('slo:GET /api/items')?.record.notes).toEqual({ dropped: 1 });
  });

  it('a check is judged on what came before its record: a late answer tagged with it is not its data', async () => {
    const text = await record((r) => {
      r.start({ startedAt: '2026-11-30T10:00:00.000Z', epochAtOriginMs: 5 });
      r.observation(observation());
      r.check({ id: 'slo:GET /api/items', kind: 'slo', route: 'GET /api/items', idSuffix: '', notes: {} });
      r.observation(observation({ doneAtMs: 99 }));
    });
    const recording = parseRecording(text);
    expect(recording.observations).toHaveLength(2);
    expect(recording.checks.get('slo:GET /api/items')?.observations.map((o) => o.doneAtMs)).toEqual([12]);
  });

  it.each([
    ['', /empty: no run record/],
    ['{"type":"observation","probe":"x"}\n', /line 1: a recording starts with the run record/],
    ['version: 1\nroutes: []\n', /line 1 is not JSON/],
    ['{"type":"run"}\n{"type":"observ', /line 2 is not JSON \(the recording was cut short\?\)/],
    ['{"type":"run"}\n{"type":"mystery"}\n', /line 2: unknown record type "mystery"/],
  ])('refuses %j, naming the line', (text, message) => {
    expect(() => parseRecording(text)).toThrow(RecordingError);
    expect(() => parseRecording(text)).toThrow(message);
  });
});

describe('judgeRecording', () => {
  const policy = parsePolicy(
    [
      'version: 1',
      'credentials: { main: { header: x-api-key, value: "${KEY}" } }',
      'routes:',
      '  - { method: GET, path: /api/items, slo: { p99Ms: 50, durationSec: 1 } }',
      '  - { method: GET, path: /health, slo: { p99Ms: 50, durationSec: 1 } }',
    ].join('\n'),
    'api.yaml',
    { env: { KEY: SECRET } },
  );
  const notes = { offered: { loopDelayMs: { max: 1 } }, maxSendLagMs: 0, dropped: 0 };
  const startedAt = '2026-11-30T10:00:00.000Z';
  const run = { type: 'run' as const, ...RUN, startedAt, epochAtOriginMs: Date.parse(startedAt) };
  const sloRecord = { type: 'check' as const, id: 'slo:GET /api/items', kind: 'slo', route: 'GET /api/items', idSuffix: '', notes };
  const observations = [
    observation({ requestHeaders: { 'x-api-key': '<credential main>' }, path: '/api/items' }),
    observation({ doneAtMs: 40, path: '/api/items' }),
  ];
  const recording = { run, observations, checks: new Map([[sloRecord.id, { record: sloRecord, observations }]]) };
  const report = judgeRecording({ recording, recordingFile: 'run.ndjson', policy, policyFile: 'api.yaml', version: '0.1.0' });
  const status = (id: string) => report.checks.find((c) => c.id === id);

  it('evaluates a recorded check on its observations and notes', () => {
    expect(status('slo:GET /api/items')).toMatchObject({ status: 'pass', requestsSent: 2, observed: { sent: 2, ok: 2 } });
    expect(status('slo:GET /api/items')!.summary).toMatch(/^p99 [\d.]+ ms ≤ 50 ms/);
    const recorded = { file: 'run.ndjson', gatecheckVersion: '0.1.0' };
    expect(report).toMatchObject({ target: RUN.target, startedAt, requestsSent: 2, recording: recorded });
  });

  it('the judged report matches the published report.json schema', () => {
    expect(reportSchemaErrors(JSON.parse(JSON.stringify(report)))).toEqual([]);
  });

  it('a check the recording has no record of is skip, saying so; the run is then not verified', () => {
    const summary = expect.stringMatching(/^not verified: the recording has no record of this check/);
    expect(status('slo:GET /health')).toMatchObject({ status: 'skip', summary });
    expect(report.verdict).toBe('error');
  });

  it('notes that are not what the check wrote → error for that check, not a crash', () => {
    const broken = { ...recording, checks: new Map([[sloRecord.id, { record: { ...sloRecord, notes: null }, observations: [] }]]) };
    const judged = judgeRecording({ recording: broken, recordingFile: 'run.ndjson', policy, policyFile: 'api.yaml', version: '0.1.0' });
    const summary = expect.stringMatching(/^cannot judge the recording of this check: /);
    expect(judged.checks.find((c) => c.id === 'slo:GET /api/items')).toMatchObject({ status: 'error', summary });
  });
});
