/**
 * The tracing check (kind `tracing`): a route with `tracing: { required: true }` (its own or the
 * policy's) answers with X-Amzn-Trace-Id carrying a well-formed Root, and keeps the Root of a
 * trace header the client sends. Two requests with the route's credential: one without a trace
 * header, one with a fresh one. Missing header, a header without a Root, or a Root not kept are
 * `medium` findings, explicit (the policy asks for tracing, so they gate at any --fail-on).
 * See docs/canary-tracing.md.
 */
import type { Observation } from '../../engine/observation.js';
import { isOkStatus, type RoutePolicy } from '../../policy/types.js';
import { describeAnswer, isUnresolved, probeRoute, routeRequest } from '../context.js';
import type { CheckDefinition, FindingDraft } from '../contract.js';
import { evidenceFrom } from '../evidence.js';
import { finding } from '../findings.js';
import type { EvidenceItem } from '../types.js';
import { newTraceHeader, parseTraceHeader } from './trace-header.js';

export const TRACE_HEADER = 'x-amzn-trace-id';
const PROBE = { fresh: 'tracing.fresh', kept: 'tracing.kept' } as const;

export interface TracingSpec {
  route: RoutePolicy;
}

export interface TracingNotes {
  /** The Root sent on the `kept` probe. */
  sentRoot?: string;
}

export interface TracingObserved {
  /** The trace header of the answer without one sent (absent: none). */
  fresh?: string;
  /** The trace header of the answer to a request that sent `sentRoot`. */
  kept?: string;
  sentRoot?: string;
  rootKept?: boolean;
}

const LABEL = { fresh: 'no trace header sent', kept: 'trace header sent (its Root must come back)' } as const;

export const tracingCheck: CheckDefinition<'tracing', TracingSpec, TracingObserved, TracingNotes> = {
  kind: 'tracing',
  phase: 'route',
  select: (policy) => policy.routes.filter((r) => r.tracing?.required).map((route) => ({ route: route.id, idSuffix: '', spec: { route } })),
  expected: () => ({ header: 'X-Amzn-Trace-Id', format: 'Root=1-{8 hex}-{24 hex};Parent=…;Sampled=…', keepsSentRoot: true }),
  plan: () => ({ requests: 2, durationMs: 0, needsIdleBucket: false }),
  collect: async (ctx, { route }) => {
    const fresh = await probeRoute(ctx, route, routeRequest(ctx.policy, route, PROBE.fresh));
    ctx.progress(`tracing ${route.id}: ${LABEL.fresh} → ${describeAnswer(fresh?.final)}`);
    const trace = newTraceHeader();
    const kept = await probeRoute(ctx, route, routeRequest(ctx.policy, route, PROBE.kept, { headers: { [TRACE_HEADER]: trace.header } }));
    ctx.progress(`tracing ${route.id}: ${LABEL.kept} → ${describeAnswer(kept?.final)}`);
    return { sentRoot: trace.root };
  },
  evaluate: ({ route }, { observations, notes }, policy) => {
    const last = (probe: string): Observation | undefined => observations.filter((o) => o.probe === probe).at(-1);
    const answers = { fresh: last(PROBE.fresh), kept: last(PROBE.kept) };
    const observed: TracingObserved = {
      ...(answers.fresh?.headers[TRACE_HEADER] !== undefined ? { fresh: answers.fresh.headers[TRACE_HEADER] } : {}),
      ...(answers.kept?.headers[TRACE_HEADER] !== undefined ? { kept: answers.kept.headers[TRACE_HEADER] } : {}),
      ...(notes.sentRoot !== undefined ? { sentRoot: notes.sentRoot } : {}),
    };
    const evidence: EvidenceItem[] = [];
    const findings: FindingDraft[] = [];
    const problems: string[] = [];
    const unresolved: string[] = [];
    const missing: number[] = [];
    const malformed: number[] = [];
    for (const which of ['fresh', 'kept'] as const) {
      const o = answers[which];
      if (!o || isUnresolved(o) || !isOkStatus(route, o.status!)) {
        unresolved.push(`${LABEL[which]} → ${describeAnswer(o)}`);
        if (o) evidence.push(evidenceFrom(policy, o, LABEL[which], 'unresolved', "not the backend's normal answer: nothing to judge"));
        continue;
      }
      const index = evidence.length;
      const value = o.headers[TRACE_HEADER];
      const parsed = value === undefined ? undefined : parseTraceHeader(value);
      let outcome: EvidenceItem['outcome'] = 'ok';
      let note: string;
      if (parsed === undefined) {
        outcome = 'violation';
        missing.push(index);
        note = 'no X-Amzn-Trace-Id on the answer';
      } else if (parsed.root === undefined) {
        outcome = 'violation';
        malformed.push(index);
        note = 'X-Amzn-Trace-Id without a well-formed Root=1-{8 hex}-{24 hex}';
      } else if (which === 'kept') {
        observed.rootKept = parsed.root === notes.sentRoot?.toLowerCase();
        note = observed.rootKept ? 'the sent Root came back' : `Root ${parsed.root} is not the one sent (${notes.sentRoot})`;
        if (!observed.rootKept) {
          outcome = 'violation';
          problems.push('the sent trace Root was not kept');
          findings.push(
            finding(
              'trace-root-lost',
              'medium',
              'the trace id the client sent was not kept',
              `${note}: the trace breaks at the gateway`,
              [index],
              true,
            ),
          );
        }
      } else note = `Root ${parsed.root}`;
      evidence.push(evidenceFrom(policy, o, LABEL[which], outcome, note));
    }
    if (missing.length) {
      problems.push('answers carry no X-Amzn-Trace-Id');
      const detail = `tracing is required, but ${missing.length} of the answers had no trace header`;
      findings.unshift(finding('trace-missing', 'medium', 'no X-Amzn-Trace-Id on answers', detail, missing, true));
    }
    if (malformed.length) {
      problems.push('X-Amzn-Trace-Id has no well-formed Root');
      const detail = 'the header is there, but without Root=1-{8 hex}-{24 hex}';
      findings.push(finding('trace-malformed', 'medium', 'X-Amzn-Trace-Id without a well-formed Root', detail, malformed, true));
    }
    if (problems.length) return { status: 'fail', summary: problems.join('; '), observed, evidence, findings };
    if (unresolved.length) return { status: 'error', summary: `could not observe: ${unresolved.join('; ')}`, observed, evidence, findings };
    return { status: 'pass', summary: `answers carry X-Amzn-Trace-Id, and the sent Root came back`, observed, evidence, findings };
  },
};
