import { describe, expect, it } from 'vitest';
import { tracingCheck } from '../../src/checks/tracing/check.js';
import { newTraceHeader, parseTraceHeader } from '../../src/checks/tracing/trace-header.js';
import type { Observation } from '../../src/engine/observation.js';
import { traceHeaderFor } from '../../src/gateway/tracing.js';
import { parsePolicy } from '../../src/policy/load.js';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';

describe('parseTraceHeader (lenient)', () => {
  it.each([
    [`Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`, ROOT],
    [`Sampled=0; Parent=53995c3f42cd8ad8 ; Root=${ROOT}`, ROOT],
    [`root=${ROOT.toUpperCase()};Lineage=a87bd80c:1|68fd508a:5;Self=1-67891234-12456789abcdef012345678`, ROOT],
    [`Root=${ROOT}`, ROOT],
  ])('%s → Root %s', (header, root) => {
    expect(parseTraceHeader(header).root).toBe(root);
  });

  it.each([
    ['Root=1-5759e988-bd86;Parent=x'],
    ['Parent=53995c3f42cd8ad8;Sampled=1'],
    ['garbage'],
    ['Root=2-5759e988-bd862e3fe1be46a994272793'],
  ])('%s has no well-formed Root', (header) => {
    expect(parseTraceHeader(header).root).toBeUndefined();
  });

  it('a fresh header parses back to its Root, and the gateway keeps a sent Root and Sampled', () => {
    const fresh = newTraceHeader(Date.UTC(2026, 10, 30));
    expect(parseTraceHeader(fresh.header).root).toBe(fresh.root);
    expect(fresh.root).toMatch(/^1-6b0cbc80-[0-9a-f]{24}$/);
    const answered = parseTraceHeader(traceHeaderFor(`Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=0`));
    expect(answered.root).toBe(ROOT);
    expect(answered.sampled).toBe('0');
    expect(answered.parent).toMatch(/^[0-9a-f]{16}$/);
    expect(parseTraceHeader(traceHeaderFor(undefined)).root).toBeDefined();
  });
});

describe('tracing evaluate', () => {
  const policy = parsePolicy(
    `version: 1
tracing: { required: true }
routes:
  - { method: GET, path: /a }
  - { method: GET, path: /b, tracing: { required: false } }
`,
    'p.yaml',
    { env: {} },
  );
  const [instance] = tracingCheck.select(policy);
  const o = (probe: string, status: number, trace?: string): Observation => ({
    probe,
    method: 'GET',
    path: '/a',
    intendedAtMs: 0,
    sentAtMs: 0,
    doneAtMs: 1,
    status,
    headers: trace === undefined ? {} : { 'x-amzn-trace-id': trace },
  });
  const judge = (fresh?: string, kept?: string, status = 200) =>
    tracingCheck.evaluate(
      instance!.spec,
      { observations: [o('tracing.fresh', status, fresh), o('tracing.kept', status, kept)], notes: { sentRoot: ROOT } },
      policy,
    );

  it('selects routes by the top-level tracing, unless a route turns it off', () => {
    expect(tracingCheck.select(policy).map((i) => i.route)).toEqual(['GET /a']);
  });

  it('passes when both answers carry a Root and the sent one comes back', () => {
    const v = judge('Root=1-00000001-000000000000000000000001;Sampled=1', `Sampled=1;Root=${ROOT};Parent=0123456789abcdef`);
    expect(v.status).toBe('pass');
    expect(v.observed.rootKept).toBe(true);
  });

  it('missing header: medium explicit trace-missing', () => {
    const v = judge(undefined, undefined);
    expect(v.status).toBe('fail');
    expect(v.findings.map((f) => `${f.severity} ${f.id} ${f.explicit}`)).toEqual(['medium trace-missing true']);
    expect(v.findings[0]!.evidence).toEqual([0, 1]);
  });

  it('a Root not kept, and a header without a Root', () => {
    expect(judge('Root=1-00000001-000000000000000000000001', 'Root=1-00000002-000000000000000000000002').findings.map((f) => f.id)).toEqual(
      ['trace-root-lost'],
    );
    expect(judge('Sampled=1', `Root=${ROOT}`).findings.map((f) => f.id)).toEqual(['trace-malformed']);
  });

  it('is an error when the answers are not the backend normal one', () => {
    expect(judge(undefined, undefined, 502).status).toBe('error');
  });
});
