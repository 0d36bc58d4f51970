import type { Observation } from '../engine/observation.js';
import type { Policy, RoutePolicy } from '../policy/types.js';
import type { RequestRecord } from './aggregate.js';
import { routeTag, SLO_PROBE, THROTTLE_PROBES } from './names.js';

/**
 * k6 points → the Observation stream the checks' evaluate reads, so an import is judged by the
 * same code as a native run. What k6 records of one request (one http_req_duration point) maps
 * onto one Observation:
 * - the point is stamped when the answer ended: doneAtMs is its time, sentAtMs that less the
 *   duration. k6's arrival-rate executors start an iteration when it is due or drop it (counted
 *   in dropped_iterations), so there is no send lag to correct: intendedAtMs = sentAtMs.
 * - status 0 is k6's "no response": the Observation has no status and the reason in `error`.
 * - the check id comes from the export's tags: route, probe and (usage plans) plan.
 * Times are ms since the run's first send (the estimator's least squares prefer small numbers).
 */
export interface DecodedRun {
  observations: Observation[];
  /** Epoch ms of time 0. */
  originEpochMs: number;
}

type Routes = Pick<Policy, 'routes'> | undefined;

export function decodeRecords(records: readonly RequestRecord[], policy?: Routes): DecodedRun {
  const originEpochMs = records.reduce((min, r) => Math.min(min, r.sentAtMs), Infinity);
  const byTag = new Map((policy?.routes ?? []).map((route) => [routeTag(route), route]));
  const observations = [...records]
    .sort((a, b) => a.sentAtMs - b.sentAtMs)
    .map((record) => decodeRecord(record, byTag.get(record.route), originEpochMs));
  return { observations, originEpochMs: Number.isFinite(originEpochMs) ? originEpochMs : 0 };
}

function decodeRecord(record: RequestRecord, route: RoutePolicy | undefined, originEpochMs: number): Observation {
  const sentAtMs = record.sentAtMs - originEpochMs;
  const observation: Observation = {
    probe: record.probe,
    method: record.method ?? route?.method ?? 'GET',
    path: route?.path ?? pathOf(record.url),
    intendedAtMs: sentAtMs,
    sentAtMs,
    doneAtMs: sentAtMs + Math.max(0, record.durationMs),
    headers: {},
  };
  const check = checkIdOf(record, route);
  if (check !== undefined) observation.check = check;
  if (record.status !== undefined) observation.status = record.status;
  else observation.error = record.error ?? 'no response';
  return observation;
}

/** ` [plan gold]`: the id suffix of a usage plan's throttle check, as the registry spells it. */
export function planIdSuffix(plan: string): string {
  return ` [plan ${plan}]`;
}

/** The id of the check a request belongs to: `throttle:GET /api/items [plan gold]`, `slo:GET /health`. */
export function checkIdOf(record: Pick<RequestRecord, 'route' | 'probe' | 'plan'>, route?: Pick<RoutePolicy, 'id'>): string | undefined {
  const routeId = route?.id ?? record.route;
  if (record.probe === THROTTLE_PROBES.volley || record.probe === THROTTLE_PROBES.paced) {
    return `throttle:${routeId}${record.plan !== undefined ? planIdSuffix(record.plan) : ''}`;
  }
  return record.probe === SLO_PROBE ? `slo:${routeId}` : undefined;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url;
  }
}
