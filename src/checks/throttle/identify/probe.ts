/**
 * The probe sequence that tells limiter families apart: data only (relative send times and what each segment is
 * for); the engine that sends it comes later. Every segment answers a question the families answer differently:
 *
 * - cold-volley: how many an idle key admits at once (a bucket's B or B+1, a window's limit).
 * - trickle-0.8x: sends below the rate right after the volley emptied it. A bucket refills faster than that and
 *   accepts all; a fixed window refuses until its window ends; a sliding counter until its weighted count decays.
 * - overload-2.7x (fine: a send every 1/(2.7r)) and overload-1.4x: above the rate at two ratios. A token bucket
 *   admits r at both; a limiter that counts refusals (HAProxy http_req_rate) starves the client, more so at
 *   2.7×; vsthrottle's truncated refill admits less at 1.4× than at 2.7×; a timer refill admits in clumps at
 *   its fills. The ratios are not whole: at 3× a bucket of exactly the policy's rate would refill exactly on
 *   every third send, and which of two simultaneous arrivals gets the token is a coin toss.
 * - gap-0.5w/1.5w/2.5w: volleys after silences of 0.5, 1.5 and 2.5 window lengths: a fixed window opened by the
 *   first request may still be open after 0.5w; a sliding counter still weighs the previous period after 1.5w
 *   and has forgotten it after 2.5w; a bucket is full after each if the window is its B/r.
 * - straddle: a volley spread across a wall-clock boundary (epoch multiple of the window): a window aligned to
 *   UTC admits its limit on each side (up to 2×), one opened by the first request only once.
 */

export type ProbeSegmentName =
  'cold-volley' | 'trickle-0.8x' | 'overload-2.7x' | 'overload-1.4x' | 'gap-0.5w' | 'gap-1.5w' | 'gap-2.5w' | 'straddle';

export interface ProbeInput {
  /** The policy's contract: requests per second and how many at once. */
  rateLimit: number;
  burstLimit: number;
  /** When the user knows it: the window of a window limiter (s). */
  windowSec?: number;
  /** Earliest the schedule may start (epoch ms): the straddle volley is placed on a real wall-clock boundary. */
  epochMs: number;
  /** Traffic bound (default 10 s). */
  maxDurationMs?: number;
}

export interface ProbeRequest {
  /** Send time, ms after startEpochMs. Requests of a volley share it: the engine sends them at once. */
  atMs: number;
  segment: ProbeSegmentName;
}

export interface ProbeSegment {
  name: ProbeSegmentName;
  startMs: number;
  endMs: number;
  requests: number;
}

export interface ProbeSchedule {
  /** Epoch ms of atMs = 0: ≥ epochMs, at 100 ms past a whole second so the cold volley does not straddle one. */
  startEpochMs: number;
  /** The window length the gaps are measured in (ms), after shrinking to fit maxDurationMs. */
  windowMs: number;
  /** Wall-clock boundary (ms after startEpochMs) the straddle volley is centred on. */
  boundaryMs: number;
  durationMs: number;
  requests: ProbeRequest[];
  segments: ProbeSegment[];
}

/**
 * Paced segments: at most this many requests, over at most this long. The lengths are not round: a window
 * opened inside one would otherwise end exactly where a later segment starts, and whether a volley fell before
 * or after that boundary would hang on a millisecond of jitter.
 */
const TRICKLE = { ratio: 0.8, targetMs: 870, maxRequests: 50 };
const OVERLOAD_FINE = { ratio: 2.7, targetMs: 430, maxRequests: 90 };
const OVERLOAD = { ratio: 1.4, targetMs: 910, maxRequests: 90 };
/** Pause between consecutive segments (ms). */
const LEAD_MS = 20;
/** Half the straddle volley's spread (ms). */
const STRADDLE_HALF_MS = 40;

export function designProbe(input: ProbeInput): ProbeSchedule {
  const maxDurationMs = input.maxDurationMs ?? 10_000;
  const rate = Math.max(input.rateLimit, 0.1);
  const windowMs = input.windowSec ? input.windowSec * 1000 : Math.max(1000, Math.ceil((input.burstLimit / rate) * 1000));
  // What an idle key admits at once, as the policy sees it: its burst, or a window's limit.
  const capacity = Math.max(1, input.burstLimit, input.windowSec ? Math.round(rate * input.windowSec) : 0);
  // At 100 ms past a whole second: the cold volley and the first window lie inside one UTC second.
  const startEpochMs = Math.ceil((input.epochMs - 100) / 1000) * 1000 + 100;
  let gapWindowMs = windowMs;
  for (;;) {
    const schedule = build(startEpochMs, rate, capacity, windowMs, gapWindowMs);
    if (schedule.durationMs <= maxDurationMs || gapWindowMs < 100) return schedule;
    gapWindowMs *= 0.85;
  }
}

function build(startEpochMs: number, rate: number, capacity: number, windowMs: number, gapWindowMs: number): ProbeSchedule {
  const requests: ProbeRequest[] = [];
  const segments: ProbeSegment[] = [];
  const volley = (name: ProbeSegmentName, atMs: number, count: number) => {
    for (let i = 0; i < count; i++) requests.push({ atMs, segment: name });
    segments.push({ name, startMs: atMs, endMs: atMs, requests: count });
    return atMs;
  };
  const paced = (name: ProbeSegmentName, startMs: number, spec: { ratio: number; targetMs: number; maxRequests: number }) => {
    const intervalMs = 1000 / (rate * spec.ratio);
    const count = Math.max(2, Math.min(spec.maxRequests, Math.round(spec.targetMs / intervalMs)));
    for (let i = 0; i < count; i++) requests.push({ atMs: round(startMs + i * intervalMs), segment: name });
    const endMs = round(startMs + (count - 1) * intervalMs);
    segments.push({ name, startMs, endMs, requests: count });
    return endMs;
  };
  let t = volley('cold-volley', 0, 2 * capacity + 10);
  t = paced('trickle-0.8x', t + LEAD_MS, TRICKLE);
  t = paced('overload-2.7x', t + LEAD_MS, OVERLOAD_FINE);
  t = paced('overload-1.4x', t + LEAD_MS, OVERLOAD);
  const gapVolley = Math.ceil(1.5 * capacity) + 5;
  t = volley('gap-0.5w', round(t + 0.5 * gapWindowMs), gapVolley);
  t = volley('gap-1.5w', round(t + 1.5 * gapWindowMs), gapVolley);
  t = volley('gap-2.5w', round(t + 2.5 * gapWindowMs), gapVolley);
  // The straddle needs a fresh window on both sides: at least a window after the last volley, on an epoch
  // multiple of the window (whole seconds when the window is not a whole number of them).
  const alignMs = windowMs % 1000 === 0 ? windowMs : 1000;
  const earliest = startEpochMs + t + Math.min(windowMs, 2 * gapWindowMs) + STRADDLE_HALF_MS + LEAD_MS;
  const boundaryMs = Math.ceil(earliest / alignMs) * alignMs - startEpochMs;
  const straddle = 2 * capacity + 10;
  for (let i = 0; i < straddle; i++) {
    requests.push({ atMs: round(boundaryMs - STRADDLE_HALF_MS + (2 * STRADDLE_HALF_MS * i) / (straddle - 1)), segment: 'straddle' });
  }
  segments.push({ name: 'straddle', startMs: boundaryMs - STRADDLE_HALF_MS, endMs: boundaryMs + STRADDLE_HALF_MS, requests: straddle });
  return { startEpochMs, windowMs: gapWindowMs, boundaryMs, durationMs: boundaryMs + STRADDLE_HALF_MS, requests, segments };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
