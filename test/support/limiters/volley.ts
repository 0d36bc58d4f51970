/**
 * A cold volley against a started limiter, and what the limiter's truth says it may accept.
 *
 * Send and answer times are the client's (epoch ms, sub-ms); a request reached the limiter somewhere
 * between the two. When the limiter reports how long it held a request (`x-request-time`, seconds, as
 * nginx's $request_time), the arrival is bounded by answer minus that hold instead: a delayed request
 * arrived long before its answer. Bounds are computed from these measured times, so a slow machine widens
 * them honestly instead of failing a correct limiter.
 */
import { Agent, request } from 'undici';
import type { LimiterTruth } from './types.js';

export interface VolleyAnswer {
  sentAt: number;
  answeredAt: number;
  /** Latest moment the request can have reached the limiter. */
  arrivedBy: number;
  status: number;
  /** How long the limiter held it (s), when it says so. */
  heldSec?: number;
  headers: Record<string, string>;
}

export interface Volley {
  answers: VolleyAnswer[];
  accepted: number;
  /** Status → count, for every answer that was not 200. */
  refused: Record<number, number>;
  /** From the first send to the last possible arrival (ms): the window in which refills can have happened. */
  arrivalSpanMs: number;
  firstSentAt: number;
  lastArrivedBy: number;
  /** From the first send to the last answer (ms). */
  wallMs: number;
}

/** Epoch ms with sub-ms resolution. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** One GET of `${url}/api/items` with the key, timed. */
async function send(agent: Agent, url: string, key: string): Promise<VolleyAnswer> {
  const sentAt = now();
  const res = await request(`${url}/api/items`, { method: 'GET', headers: { 'x-api-key': key }, dispatcher: agent });
  await res.body.text();
  const answeredAt = now();
  const headers = Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name, String(value)]));
  const held = headers['x-request-time'] === undefined ? undefined : Number(headers['x-request-time']);
  // nginx's $request_time has ms resolution: allow that ms.
  const arrivedBy = held === undefined || !Number.isFinite(held) ? answeredAt : Math.max(sentAt, answeredAt - held * 1000 + 1);
  return { sentAt, answeredAt, arrivedBy, status: res.statusCode, ...(held === undefined ? {} : { heldSec: held }), headers };
}

/** Sends `n` GETs at once (one connection each) with `x-api-key: key`, and waits for every answer. */
export async function volley(url: string, n: number, key: string): Promise<Volley> {
  const agent = new Agent({ connections: n, pipelining: 1 });
  try {
    return summarize(await Promise.all(Array.from({ length: n }, () => send(agent, url, key))));
  } finally {
    await agent.close();
  }
}

/**
 * Sends one GET every 1/ratePerSec s for `durationMs` (open model: a slow answer never holds the next send
 * back), then waits for every answer. Answers come sorted by send time.
 */
export async function paced(url: string, key: string, ratePerSec: number, durationMs: number): Promise<Volley> {
  const count = Math.floor((ratePerSec * durationMs) / 1000);
  const agent = new Agent({ connections: 64, pipelining: 1 });
  try {
    const start = now();
    const pending: Array<Promise<VolleyAnswer>> = [];
    for (let i = 0; i < count; i++) {
      const wait = start + (i * 1000) / ratePerSec - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(send(agent, url, key));
    }
    return summarize(await Promise.all(pending));
  } finally {
    await agent.close();
  }
}

function summarize(unsorted: VolleyAnswer[]): Volley {
  const answers = [...unsorted].sort((a, b) => a.sentAt - b.sentAt);
  const firstSentAt = Math.min(...answers.map((a) => a.sentAt));
  const lastArrivedBy = Math.max(...answers.map((a) => a.arrivedBy));
  const refused: Record<number, number> = {};
  for (const answer of answers) if (answer.status !== 200) refused[answer.status] = (refused[answer.status] ?? 0) + 1;
  return {
    answers,
    accepted: answers.filter((a) => a.status === 200).length,
    refused,
    arrivalSpanMs: lastArrivedBy - firstSentAt,
    firstSentAt,
    lastArrivedBy,
    wallMs: Math.max(...answers.map((a) => a.answeredAt)) - firstSentAt,
  };
}

export interface AcceptBounds {
  min: number;
  max: number;
  /** Why max exceeds min: the refills or window openings the measured span allows. */
  why: string;
}

/**
 * Accepted requests a cold volley of `n` may get: the truth's cold burst, plus what the algorithm can
 * have added while the volley was arriving (measured span), capped at `n`.
 */
export function coldAcceptBounds(truth: LimiterTruth, volleyed: Volley, n: number): AcceptBounds {
  const spanSec = volleyed.arrivalSpanMs / 1000;
  let extra: number;
  let why: string;
  switch (truth.algorithm) {
    case 'token-bucket':
    case 'leaky-bucket-delay':
      // Continuous refill; +1 for the fraction of a token (nginx: thousandths on a cached ms clock).
      extra = Math.floor(truth.ratePerSec * spanSec) + 1;
      why = `refill at ${truth.ratePerSec}/s over ${volleyed.arrivalSpanMs.toFixed(1)} ms, +1 for a fraction`;
      break;
    case 'timer-refill': {
      // Refills on wall-clock boundaries (Spring: whole seconds of Redis TIME, the same clock as ours).
      const interval = (truth.fillIntervalSec ?? 1) * 1000;
      const boundaries = Math.floor(volleyed.lastArrivedBy / interval) - Math.floor(volleyed.firstSentAt / interval);
      extra = boundaries * (truth.tokensPerFill ?? truth.ratePerSec);
      why = `${boundaries} fill boundar${boundaries === 1 ? 'y' : 'ies'} crossed`;
      break;
    }
    case 'fixed-window':
    case 'sliding-window': {
      // The first window opens with the volley (or with the wall clock, below): more only once it ends.
      const window = (truth.windowSec ?? 1) * 1000;
      const windows =
        truth.windowAnchor === 'clock'
          ? Math.floor(volleyed.lastArrivedBy / window) - Math.floor(volleyed.firstSentAt / window)
          : Math.floor(volleyed.arrivalSpanMs / window);
      extra = windows * (truth.limit ?? truth.coldBurst);
      why = `${windows} further window${windows === 1 ? '' : 's'} opened during the volley`;
      break;
    }
  }
  return { min: Math.min(truth.coldBurst, n), max: Math.min(truth.coldBurst + extra, n), why };
}
