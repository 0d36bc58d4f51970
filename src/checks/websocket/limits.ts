/**
 * Check kind `ws-limits`: the message size limit (API Gateway: 128 KB, a larger message closes
 * the socket with 1009; frames of at most 32 KB, so the client fragments) and, when it fits a
 * bounded run, the idle timeout. A message at the limit must be answered and one byte over it
 * refused; each goes on its own socket, since the refusal closes it.
 */
import type { Observation } from '../../engine/observation.js';
import type { Policy, WebSocketPolicy } from '../../policy/types.js';
import type { CheckContext } from '../context.js';
import type { CheckDefinition, FindingDraft, Verdict } from '../contract.js';
import { finding } from '../findings.js';
import type { EvidenceItem } from '../types.js';
import { classifyAnswer, connect, connectCredential, describeWs, messageText, socketUrl, wsEvidence } from './socket.js';

export const WS_LIMITS_PROBE = { connect: 'ws-limits.connect', atLimit: 'ws-limits.at-limit', overLimit: 'ws-limits.over-limit' } as const;

/** Longest idle timeout verified: waiting it out must fit a bounded run. */
export const MAX_VERIFIED_IDLE_SEC = 30;
/** Close code for a message too big (RFC 6455, section 7.4.1): what API Gateway sends. */
export const CLOSE_TOO_BIG = 1009;

export interface WsLimitsSpec {
  entry: WebSocketPolicy;
}

export interface WsLimitsNotes {
  notConnected?: string;
  /**
   * The idle probe: waitedMs from the 101 to the end of the wait; closedAfterMs from the upgrade's
   * send to the close seen (undefined: still open after waitedMs).
   */
  idle?: { waitedMs: number; closedAfterMs?: number; closeCode?: number };
}

export interface WsLimitsObserved {
  maxMessageBytes: number | null;
  atLimit: string | null;
  overLimit: string | null;
  overLimitCloseCode: number | null;
  idleTimeout: string;
}

export const wsLimitsCheck: CheckDefinition<'ws-limits', WsLimitsSpec, WsLimitsObserved, WsLimitsNotes> = {
  kind: 'ws-limits',
  phase: 'route',
  select: (policy) =>
    (policy.websockets ?? [])
      .filter((entry) => entry.limits?.maxMessageBytes !== undefined || entry.limits?.idleTimeoutSec !== undefined)
      .map((entry) => ({ route: entry.id, idSuffix: '', spec: { entry } })),
  expected: ({ entry }) => ({
    maxMessageBytes: entry.limits?.maxMessageBytes ?? null,
    overLimit: `refused (close ${CLOSE_TOO_BIG})`,
    frameBytes: entry.limits?.frameBytes ?? null,
    idleTimeoutSec: entry.limits?.idleTimeoutSec ?? null,
  }),
  // Two sockets and two messages for the size, a socket for the idle probe; its wait is the only time it plans.
  plan: (spec) => ({ requests: 5, durationMs: idleWaitMs(spec.entry), needsIdleBucket: false }),
  collect,
  evaluate,
};

/** How long the idle probe waits: the timeout plus a tenth (at least 2 s), when it is short enough to verify. */
function idleWaitMs(entry: WebSocketPolicy): number {
  const idle = entry.limits?.idleTimeoutSec;
  if (idle === undefined || idle > MAX_VERIFIED_IDLE_SEC) return 0;
  return idle * 1000 + Math.max(2_000, idle * 100);
}

async function collect(ctx: CheckContext, { entry }: WsLimitsSpec): Promise<WsLimitsNotes> {
  const where = connectCredential(ctx.policy, entry, socketUrl(ctx.policy.target, entry));
  const frameBytes = entry.limits?.frameBytes ?? Infinity;
  const max = entry.limits?.maxMessageBytes;
  const notes: WsLimitsNotes = {};
  const probes: Array<[string, number]> =
    max !== undefined
      ? [
          [WS_LIMITS_PROBE.atLimit, max],
          [WS_LIMITS_PROBE.overLimit, max + 1],
        ]
      : [];
  for (const [probe, bytes] of probes) {
    const opened = await connect(ctx, WS_LIMITS_PROBE.connect, where);
    if (!opened?.connection) return { notConnected: `the socket did not open (${describeWs(opened?.observation)})` };
    if (!ctx.budget.take()) break;
    const answer = await opened.connection.send(
      { probe, method: 'WS', path: entry.path ?? '', body: messageText(entry, bytes) },
      undefined,
      frameBytes,
    );
    ctx.progress(`ws-limits ${entry.id}: a ${bytes}-byte message → ${describeWs(answer)}`);
    await opened.connection.close();
  }
  const waitMs = idleWaitMs(entry);
  if (waitMs > 0) {
    const opened = await connect(ctx, WS_LIMITS_PROBE.connect, where);
    if (!opened?.connection) return { ...notes, notConnected: `the socket did not open (${describeWs(opened?.observation)})` };
    // The gateway's idle clock started between the upgrade's send and its 101: the close counted
    // from the send bounds its timeout from above (too short is decided from that), and the wait
    // counted from the 101 bounds it from below (not enforced is decided from that).
    const sentAtMs = opened.observation.sentAtMs;
    const openedAtMs = opened.observation.doneAtMs;
    ctx.progress(`ws-limits ${entry.id}: leaving a socket idle for up to ${(waitMs / 1000).toFixed(0)} s`);
    const closed = await opened.connection.waitForClose(Math.min(waitMs, ctx.budget.msLeft));
    notes.idle = {
      waitedMs: Math.round(ctx.client.now() - openedAtMs),
      ...(closed ? { closedAfterMs: Math.round(closed.atMs - sentAtMs), closeCode: closed.code } : {}),
    };
    await opened.connection.close();
  }
  return notes;
}

export function evaluate(
  spec: WsLimitsSpec,
  { observations, notes }: { observations: Observation[]; notes: WsLimitsNotes },
  policy: Policy,
): Verdict<WsLimitsObserved> {
  const { entry } = spec;
  const max = entry.limits?.maxMessageBytes;
  const at = observations.find((o) => o.probe === WS_LIMITS_PROBE.atLimit);
  const over = observations.find((o) => o.probe === WS_LIMITS_PROBE.overLimit);
  const evidence: EvidenceItem[] = [];
  const findings: FindingDraft[] = [];
  const problems: string[] = [];
  const unsure: string[] = [];
  const observed: WsLimitsObserved = {
    maxMessageBytes: max ?? null,
    atLimit: at ? classifyAnswer(at) : null,
    overLimit: over ? classifyAnswer(over) : null,
    overLimitCloseCode: over?.ws?.closeCode ?? null,
    idleTimeout: 'not in the policy',
  };
  const verdict = (status: Verdict<WsLimitsObserved>['status'], summary: string): Verdict<WsLimitsObserved> => ({
    status,
    summary,
    observed,
    evidence,
    findings,
  });
  if (notes.notConnected !== undefined) return verdict('error', `${notes.notConnected}: cannot verify the limits`);
  if (max !== undefined) {
    if (!at || !over) return verdict('error', 'the size probes could not be sent (run cap reached)');
    judgeAtLimit(policy, at, max, evidence, findings, problems, unsure);
    judgeOverLimit(policy, over, max, evidence, findings, problems, unsure);
  }
  judgeIdle(entry, notes, observed, findings, problems, unsure);
  if (problems.length > 0) return verdict('fail', problems.join('; '));
  if (unsure.length > 0) return verdict('inconclusive', unsure.join('; '));
  const said = [
    max !== undefined ? `a ${max}-byte message was answered and a ${max + 1}-byte one refused` : '',
    observed.idleTimeout,
  ].filter((s) => s && s !== 'not in the policy');
  return verdict('pass', said.join('; '));
}

function judgeAtLimit(
  policy: Policy,
  at: Observation,
  max: number,
  evidence: EvidenceItem[],
  findings: FindingDraft[],
  problems: string[],
  unsure: string[],
): void {
  const answer = classifyAnswer(at);
  const ok = answer === 'accepted';
  const refused = answer === 'closed' || answer === 'gateway-error';
  evidence.push(wsEvidence(policy, at, `a message of ${max} bytes (at the limit)`, ok ? 'ok' : refused ? 'violation' : 'unresolved'));
  if (refused) {
    problems.push(`a ${max}-byte message (at the limit) was refused (${describeWs(at)})`);
    findings.push(
      finding(
        'at-limit-refused',
        'high',
        `a message at the policy's ${max}-byte limit is refused`,
        `It was answered ${describeWs(at)}: clients are refused what the policy promises.`,
        [evidence.length - 1],
      ),
    );
  } else if (!ok) unsure.push(`the ${max}-byte message got ${describeWs(at)}: cannot tell whether it was accepted`);
}

function judgeOverLimit(
  policy: Policy,
  over: Observation,
  max: number,
  evidence: EvidenceItem[],
  findings: FindingDraft[],
  problems: string[],
  unsure: string[],
): void {
  const answer = classifyAnswer(over);
  const refused = answer === 'closed' || answer === 'gateway-error';
  evidence.push(
    wsEvidence(
      policy,
      over,
      `a message of ${max + 1} bytes (one over the limit)`,
      refused ? 'ok' : answer === 'accepted' ? 'violation' : 'unresolved',
    ),
  );
  const index = evidence.length - 1;
  if (answer === 'accepted') {
    problems.push(`a ${max + 1}-byte message (over the limit) was answered by the route`);
    findings.push(
      finding(
        'over-limit-accepted',
        'high',
        `a message over the policy's ${max}-byte limit gets through`,
        `A ${max + 1}-byte message was answered by the route instead of being refused (close ${CLOSE_TOO_BIG}).`,
        [index],
      ),
    );
  } else if (answer === 'closed' && over.ws?.closeCode !== CLOSE_TOO_BIG) {
    findings.push(
      finding(
        'over-limit-close-code',
        'low',
        `an oversize message closes the socket with ${over.ws?.closeCode ?? 'no code'}, not ${CLOSE_TOO_BIG}`,
        `RFC 6455 (7.4.1) and API Gateway use ${CLOSE_TOO_BIG} (message too big); clients that retry on other codes resend it.`,
        [index],
      ),
    );
  } else if (!refused) unsure.push(`the ${max + 1}-byte message got ${describeWs(over)}: cannot tell whether it was refused`);
}

function judgeIdle(
  entry: WebSocketPolicy,
  notes: WsLimitsNotes,
  observed: WsLimitsObserved,
  findings: FindingDraft[],
  problems: string[],
  unsure: string[],
): void {
  const idle = entry.limits?.idleTimeoutSec;
  if (idle === undefined) return;
  if (idle > MAX_VERIFIED_IDLE_SEC) {
    observed.idleTimeout = `not verified: ${idle} s does not fit a bounded run (at most ${MAX_VERIFIED_IDLE_SEC} s)`;
    return;
  }
  const probe = notes.idle;
  if (!probe) {
    observed.idleTimeout = 'not measured';
    unsure.push('the idle probe did not run');
    return;
  }
  const idleMs = idle * 1000;
  if (probe.closedAfterMs === undefined) {
    observed.idleTimeout = `still open after ${(probe.waitedMs / 1000).toFixed(1)} s idle`;
    if (probe.waitedMs < idleMs + Math.max(1_000, idleMs * 0.05))
      unsure.push(`the run's time cap ended the idle probe after ${(probe.waitedMs / 1000).toFixed(1)} s`);
    else {
      problems.push(`a silent socket was still open ${(probe.waitedMs / 1000).toFixed(1)} s after opening (idle timeout ${idle} s)`);
      findings.push(
        finding(
          'idle-timeout-not-enforced',
          'medium',
          `idle sockets outlive the policy's ${idle} s idle timeout`,
          observed.idleTimeout,
          [],
        ),
      );
    }
    return;
  }
  observed.idleTimeout = `closed after ${(probe.closedAfterMs / 1000).toFixed(1)} s idle (code ${probe.closeCode ?? 'none'})`;
  // The gateway's clock starts at the upgrade, ours when the 101 arrived: only an early close by more than a tenth is one.
  if (probe.closedAfterMs < idleMs * 0.9) {
    problems.push(`a silent socket was closed after ${(probe.closedAfterMs / 1000).toFixed(1)} s, before the ${idle} s idle timeout`);
    findings.push(
      finding('idle-timeout-too-short', 'medium', `idle sockets are closed before the policy's ${idle} s`, observed.idleTimeout, []),
    );
  }
}
