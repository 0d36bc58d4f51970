import type { RunBudget } from '../engine/budget.js';
import type { HttpClient, ProbeRequest } from '../engine/http-client.js';
import type { MinuteLedger } from '../engine/minute-ledger.js';
import type { Observation } from '../engine/observation.js';
import type { MetricsSettings } from './metrics/cloudwatch-read.js';
import { sendProbe, type ProbeOutcome } from '../engine/probe.js';
import { throttleAwareness } from '../engine/throttle-model.js';
import type { Credential, Policy, RoutePolicy } from '../policy/types.js';
import { routeCredential } from '../policy/types.js';
import type { Redactor } from '../util/redact.js';
import { credentialSigner } from './sigv4/sign.js';

/** What every check gets from the run: no globals, no process, no console. */
export interface CheckContext {
  policy: Policy;
  client: HttpClient;
  budget: RunBudget;
  redactor: Redactor;
  /** The policy file as the user named it, for commands the report suggests. */
  policyFile?: string;
  /** One line of progress ("auth GET /api/items: wrong credential → 403"). */
  progress: (line: string) => void;
  /** The run's per-minute tally of every observation (the metrics check reconciles CloudWatch with it). */
  ledger?: MinuteLedger;
  /** CloudWatch flags for the metrics check. */
  metrics?: MetricsSettings;
}

/**
 * Headers that put a credential on a request: `x-api-key: K` or `authorization: Bearer K`. None
 * for a sigv4 credential: it signs the request instead (credentialParts, sigv4/sign.ts).
 */
export function credentialHeaders(credential: Credential | undefined, value = credential?.value): Record<string, string> {
  if (!credential || value === undefined || credential.kind === 'sigv4') return {};
  return { [credential.header]: credential.scheme ? `${credential.scheme} ${value}` : value };
}

/** What a credential puts on a request: its header, or (sigv4) a signer run as the request goes on the wire. */
export function credentialParts(credential: Credential | undefined): Pick<ProbeRequest, 'headers' | 'sign'> {
  const sign = credentialSigner(credential);
  return { headers: credentialHeaders(credential), ...(sign ? { sign } : {}) };
}

/** A request to the route as an ordinary client makes it: its method, its path, its credential. */
export function routeRequest(policy: Policy, route: RoutePolicy, probe: string, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  const credential = credentialParts(routeCredential(policy, route));
  return {
    probe,
    method: route.method,
    path: route.path,
    ...(credential.sign ? { sign: credential.sign } : {}),
    ...extra,
    headers: { ...credential.headers, ...extra.headers },
  };
}

/** sendProbe with the route's throttle awareness (src/engine/throttle-model.ts). */
export function probeRoute(ctx: CheckContext, route: RoutePolicy, request: ProbeRequest): Promise<ProbeOutcome | undefined> {
  return sendProbe(ctx.client, ctx.budget, request, throttleAwareness(route));
}

/** A transport failure or a 5xx: the gateway did not give an answer a check can judge. */
export function isUnresolved(observation: Observation): boolean {
  return observation.status === undefined || observation.status >= 500;
}

export function describeAnswer(observation: Observation | undefined): string {
  if (!observation) return 'not sent (run cap reached)';
  return observation.status !== undefined ? String(observation.status) : (observation.error ?? 'no answer');
}
