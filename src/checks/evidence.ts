import { latencyMs, type Observation } from '../engine/observation.js';
import type { Policy } from '../policy/types.js';
import type { EvidenceItem } from './types.js';

/**
 * An observation as report evidence, from the observation alone (so `evaluate` stays pure and a
 * recorded run gives the same evidence). Values are shown as sent: credential values are replaced
 * by the redactor when a report or a recording is written, never here.
 */
export function evidenceFrom(
  policy: Pick<Policy, 'target'>,
  observation: Observation,
  label: string,
  outcome: EvidenceItem['outcome'],
  note?: string,
): EvidenceItem {
  const item: EvidenceItem = {
    probe: observation.probe,
    label,
    method: observation.method,
    path: observation.path,
    url: `${policy.target ?? ''}${observation.path}`,
    requestHeaders: { ...observation.requestHeaders },
    responseHeaders: observation.headers,
    outcome,
  };
  if (observation.status !== undefined) item.status = observation.status;
  if (observation.error !== undefined) item.error = observation.error;
  if (observation.bodySnippet !== undefined) item.bodySnippet = observation.bodySnippet.slice(0, 200);
  const latency = latencyMs(observation);
  if (latency !== undefined) item.latencyMs = Math.round(latency * 10) / 10;
  if (note !== undefined) item.note = note;
  return item;
}

/**
 * A planned request that has no answer to show (the run cap stopped it before it was sent), as
 * report evidence: the request alone, from the plan.
 */
export function evidenceUnsent(
  policy: Pick<Policy, 'target'>,
  request: Pick<Observation, 'probe' | 'method' | 'path' | 'requestHeaders'>,
  label: string,
  outcome: EvidenceItem['outcome'],
  note?: string,
): EvidenceItem {
  const { probe, method, path } = request;
  const url = `${policy.target ?? ''}${path}`;
  const requestHeaders = { ...request.requestHeaders };
  const item: EvidenceItem = { probe, label, method, path, url, requestHeaders, responseHeaders: {}, outcome };
  if (note !== undefined) item.note = note;
  return item;
}
