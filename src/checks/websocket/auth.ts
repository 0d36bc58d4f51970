/**
 * Check kind `ws-auth`: API Gateway authorizes a WebSocket API only on `$connect`, and a refused
 * `$connect` is an HTTP 401/403 on the upgrade. So the check opens a socket with the valid
 * credential (the positive control), then tries every bad way in that applies; a socket that
 * opens is a bypass (critical). Sockets that open are closed at once: no message is sent.
 */
import { randomBytes } from 'node:crypto';
import type { Observation } from '../../engine/observation.js';
import type { Credential, Policy, WebSocketPolicy } from '../../policy/types.js';
import { decodeJwt, withoutSignature } from '../auth/jwt.js';
import type { CheckContext } from '../context.js';
import type { CheckDefinition, FindingDraft, Verdict } from '../contract.js';
import { finding } from '../findings.js';
import type { EvidenceItem } from '../types.js';
import { connect, describeWs, placeCredential, socketUrl, withQuery, wsEvidence, type ConnectCredential } from './socket.js';

export const WS_AUTH_PROBE = 'ws-auth';

export interface WsAuthSpec {
  entry: WebSocketPolicy;
}

/** One way of calling `$connect`: the probe name's case, what it is, and where its credential goes. */
export interface WsAuthCase {
  case: string;
  label: string;
  where: ConnectCredential;
}

export interface WsAuthNotes {
  cases: Array<{ probe: string; case: string; label: string }>;
  skipped: string[];
}

export interface WsAuthObserved {
  control: string;
  refused: number;
  bypassed: string[];
  unresolved: string[];
  cases: Array<{ case: string; answer: string }>;
  skipped: string[];
}

/** Below this length a truncated value would be too short to redact: it is not sent. */
const MIN_TRUNCATED = 4;

/**
 * The bypass matrix for one entry. Pure: the wrong value comes from the caller. The credential's
 * "wrong place" is the other of header and query (a Lambda authorizer reading the one, a backend
 * the other, is a classic hole).
 */
export function wsAuthMatrix(
  entry: WebSocketPolicy,
  url: string,
  credential: Credential,
  wrongValue: string,
): { control: WsAuthCase; cases: WsAuthCase[]; skipped: string[] } {
  const place = (value: string) => placeCredential(entry, url, credential, value);
  const value = credential.value;
  const cases: WsAuthCase[] = [
    { case: 'missing', label: 'no credential', where: { url, headers: {} } },
    { case: 'empty', label: 'empty credential', where: place('') },
    { case: 'wrong', label: 'wrong credential', where: place(wrongValue) },
  ];
  const skipped: string[] = [];
  if (value.length - 4 >= MIN_TRUNCATED)
    cases.push({ case: 'truncated', label: 'credential with its last 4 characters cut', where: place(value.slice(0, -4)) });
  else skipped.push('truncated: the credential is too short to cut and still redact');
  const otherPlace: ConnectCredential =
    entry.auth?.in === 'query'
      ? { url, headers: { [credential.header]: credential.scheme ? `${credential.scheme} ${value}` : value } }
      : { url: withQuery(url, entry.auth?.queryParam ?? credential.header, value), headers: {} };
  const where =
    entry.auth?.in === 'query' ? `header ${credential.header}` : `query parameter ${entry.auth?.queryParam ?? credential.header}`;
  cases.push({ case: 'wrong-place', label: `the valid credential in the ${where} instead`, where: otherPlace });
  if (credential.kind === 'jwt') {
    if (credential.expiredValue !== undefined)
      cases.push({ case: 'expired-jwt', label: 'an expired JWT from the same issuer', where: place(credential.expiredValue) });
    else skipped.push('expired-jwt: the credential has no expiredValue');
    const decoded = decodeJwt(value);
    if (decoded)
      cases.push({ case: 'jwt-no-signature', label: 'the JWT with its signature stripped', where: place(withoutSignature(decoded, true)) });
  }
  return { control: { case: 'control', label: 'valid credential (positive control)', where: place(value) }, cases, skipped };
}

export const wsAuthCheck: CheckDefinition<'ws-auth', WsAuthSpec, WsAuthObserved, WsAuthNotes> = {
  kind: 'ws-auth',
  phase: 'route',
  select: (policy) =>
    (policy.websockets ?? []).filter((entry) => entry.auth?.required).map((entry) => ({ route: entry.id, idSuffix: '', spec: { entry } })),
  expected: ({ entry }) => ({
    refused: 'HTTP 401/403 on the upgrade',
    credential: entry.auth?.credential ?? null,
    in: entry.auth?.in ?? null,
  }),
  // The control and at most seven cases, each one upgrade (as the HTTP auth check, no time of its own).
  plan: () => ({ requests: 8, durationMs: 0, needsIdleBucket: false }),
  collect,
  evaluate,
};

async function collect(ctx: CheckContext, { entry }: WsAuthSpec): Promise<WsAuthNotes> {
  const credential = ctx.policy.credentials[entry.auth!.credential!]!;
  const url = socketUrl(ctx.policy.target, entry);
  const wrongValue = `gatecheck-wrong-${randomBytes(12).toString('hex')}`;
  const matrix = wsAuthMatrix(entry, url, credential, wrongValue);
  // Values derived from the secret are secrets too: redacted in every report and recording.
  if (matrix.cases.some((c) => c.case === 'truncated')) ctx.redactor.add(credential.value.slice(0, -4), `${credential.name} truncated`);
  const notes: WsAuthNotes = { cases: [], skipped: matrix.skipped };
  for (const c of [matrix.control, ...matrix.cases]) {
    const probe = `${WS_AUTH_PROBE}.${c.case}`;
    const result = await connect(ctx, probe, c.where);
    notes.cases.push({ probe, case: c.case, label: c.label });
    if (!result) break;
    await result.connection?.close();
    ctx.progress(`ws-auth ${entry.id}: ${c.label} → ${describeWs(result.observation)}`);
  }
  return notes;
}

/** A handshake that did not open a socket because the gateway said no (any 4xx but 429). */
function isRefusal(o: Observation): boolean {
  return o.status !== undefined && o.status >= 400 && o.status < 500 && o.status !== 429;
}

export function evaluate(
  spec: WsAuthSpec,
  { observations, notes }: { observations: Observation[]; notes: WsAuthNotes },
  policy: Policy,
): Verdict<WsAuthObserved> {
  const byProbe = new Map(observations.filter((o) => o.ws?.event === 'connect').map((o) => [o.probe, o]));
  const evidence: EvidenceItem[] = [];
  const findings: FindingDraft[] = [];
  const observed: WsAuthObserved = { control: 'not sent', refused: 0, bypassed: [], unresolved: [], cases: [], skipped: notes.skipped };
  const control = byProbe.get(`${WS_AUTH_PROBE}.control`);
  observed.control = describeWs(control);
  const result = (status: Verdict<WsAuthObserved>['status'], summary: string): Verdict<WsAuthObserved> => ({
    status,
    summary,
    observed,
    evidence,
    findings,
  });
  if (control)
    evidence.push(wsEvidence(policy, control, 'valid credential (positive control)', control.status === 101 ? 'ok' : 'unresolved'));
  if (!control || control.status !== 101) {
    return result('error', `the positive control did not open a socket (${describeWs(control)}): cannot verify $connect auth`);
  }
  for (const c of notes.cases.filter((n) => n.case !== 'control')) {
    const o = byProbe.get(c.probe);
    observed.cases.push({ case: c.case, answer: describeWs(o) });
    if (!o) {
      observed.unresolved.push(c.case);
      continue;
    }
    if (o.status === 101) {
      observed.bypassed.push(c.case);
      evidence.push(wsEvidence(policy, o, c.label, 'violation', 'the socket opened: $connect let it in'));
      findings.push(
        finding(
          `bypass:${c.case}`,
          'critical',
          `$connect bypass: ${c.label} opened a WebSocket`,
          `The upgrade with ${c.label} was answered 101 Switching Protocols; it must be refused with HTTP 401/403.`,
          [evidence.length - 1],
        ),
      );
    } else if (isRefusal(o)) {
      observed.refused++;
      evidence.push(wsEvidence(policy, o, c.label, 'ok'));
    } else {
      observed.unresolved.push(c.case);
      evidence.push(wsEvidence(policy, o, c.label, 'unresolved'));
    }
  }
  const total = notes.cases.length - 1;
  if (observed.bypassed.length > 0)
    return result('fail', `${observed.bypassed.length} of ${total} bad ways in opened a socket: ${observed.bypassed.join(', ')}`);
  if (observed.unresolved.length > 0)
    return result(
      'inconclusive',
      `${observed.unresolved.length} of ${total} probes got no refusal to judge (${observed.unresolved.join(', ')})`,
    );
  return result('pass', `every bad way in (${total}) was refused on the upgrade; the valid credential opened a socket`);
}
