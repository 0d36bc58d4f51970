import { MINUTE_MS } from '../util/time.js';
import { LatencyRecorder } from './latency.js';
import type { Observation } from './observation.js';

/**
 * A run-wide, per-minute tally of what the client saw, on wall-clock epoch minutes (CloudWatch's
 * periods), so a run can be laid next to the gateway's own metrics. Fed by the HttpClient `tap`:
 * every request of every check lands here, whichever probe sent it.
 *
 * Which minute a request belongs to is ambiguous near a minute's edges: the gateway may stamp it
 * on arrival or on answer, and its clock is not ours. So each request is filed under the minute
 * its answer arrived in (as the reference gateway files it), and it is also counted as "at an
 * edge" when its interval [sent − skew, done + skew] reaches into the previous or next minute:
 * the reconciliation lets those few move to the neighbour minute.
 */

/** Re-exported for the ledger's users (the metrics check, tests): defined in util so the report may load it. */
export { MINUTE_MS };

/** Counts for one minute (and, without latency, for one route in one minute). */
export interface MinuteCounts {
  /** Requests that got an HTTP answer (any status): what CloudWatch `Count` counts. */
  completed: number;
  status2xx: number;
  /** 400..499, 429s included. */
  status4xx: number;
  /** 429s (also in status4xx): AWS may leave "excessive" ones out of its metrics. */
  status429: number;
  status5xx: number;
  /** No HTTP answer (refused, reset, timeout): the gateway may or may not have counted them. */
  transportErrors: number;
  /** Answers the WAF check calls blocks (its probes, with one of the route's block statuses). */
  wafBlocks: number;
  /** Requests filed here that may belong to the previous minute (interval crosses its start). */
  edgePrev: number;
  /** Requests filed here that may belong to the next minute (interval crosses its end). */
  edgeNext: number;
}

/** One minute as the report and the reconciliation read it. */
export interface MinuteSnapshot extends MinuteCounts {
  /** Start of the minute, epoch ms (a multiple of 60,000). */
  minuteStartMs: number;
  /** Wire latency (request handed to the socket → response head), ms; undefined with no answers. */
  latency: { samples: number; p50Ms?: number; p99Ms?: number; maxMs?: number };
  /** Per route key (`GET /api/items`, query stripped): counts only. */
  routes: Record<string, MinuteCounts>;
}

export interface MinuteLedgerOptions {
  /** Turns a run-clock time (Observation ms) into epoch ms: `client.epochAtOriginMs + ms`. */
  toEpochMs: (runClockMs: number) => number;
  /** Whether an answer is a WAF block: the WAF check says (the ledger knows no check). */
  isWafBlock?: (observation: Observation) => boolean;
  /** How far apart the client's and the gateway's clocks may be, ms. Default 1,000. */
  clockSkewMs?: number;
}

/** A minute (or a route within it) with nothing counted yet. */
export function emptyCounts(): MinuteCounts {
  return {
    completed: 0,
    status2xx: 0,
    status4xx: 0,
    status429: 0,
    status5xx: 0,
    transportErrors: 0,
    wafBlocks: 0,
    edgePrev: 0,
    edgeNext: 0,
  };
}

class MinuteCell {
  readonly totals = emptyCounts();
  readonly latency = new LatencyRecorder();
  readonly routes = new Map<string, MinuteCounts>();
}

export class MinuteLedger {
  private readonly cells = new Map<number, MinuteCell>();
  private readonly toEpochMs: (runClockMs: number) => number;
  private readonly isWafBlock: ((observation: Observation) => boolean) | undefined;
  readonly clockSkewMs: number;
  private firstSentEpochMs = Infinity;
  private lastDoneEpochMs = -Infinity;
  private total = 0;

  constructor(options: MinuteLedgerOptions) {
    this.toEpochMs = options.toEpochMs;
    this.isWafBlock = options.isWafBlock;
    this.clockSkewMs = options.clockSkewMs ?? 1_000;
  }

  /** Files one observation (the HttpClient tap). */
  add(observation: Observation): void {
    // A WebSocket API is another API with its own metrics (ConnectCount, MessageCount): its
    // upgrades and messages are not requests of the API this ledger is reconciled with.
    if (observation.ws !== undefined) return;
    const sentEpochMs = this.toEpochMs(observation.sentAtMs);
    const doneEpochMs = this.toEpochMs(observation.doneAtMs);
    const minuteStartMs = minuteOf(doneEpochMs);
    let cell = this.cells.get(minuteStartMs);
    if (cell === undefined) {
      cell = new MinuteCell();
      this.cells.set(minuteStartMs, cell);
    }
    const routeKey = `${observation.method} ${observation.path.split('?')[0]}`;
    let route = cell.routes.get(routeKey);
    if (route === undefined) {
      route = emptyCounts();
      cell.routes.set(routeKey, route);
    }
    const edgePrev = sentEpochMs - this.clockSkewMs < minuteStartMs;
    const edgeNext = doneEpochMs + this.clockSkewMs >= minuteStartMs + MINUTE_MS;
    const wafBlock = observation.status !== undefined && (this.isWafBlock?.(observation) ?? false);
    for (const counts of [cell.totals, route]) tally(counts, observation.status, edgePrev, edgeNext, wafBlock);
    if (observation.status !== undefined) cell.latency.recordMs(observation.doneAtMs - observation.sentAtMs);

    this.total++;
    if (sentEpochMs < this.firstSentEpochMs) this.firstSentEpochMs = sentEpochMs;
    if (doneEpochMs > this.lastDoneEpochMs) this.lastDoneEpochMs = doneEpochMs;
  }

  /** Observations filed so far (answers and transport errors). */
  get size(): number {
    return this.total;
  }

  /**
   * The minutes to ask CloudWatch about: from the minute of the first request (less the clock
   * skew) to the end of the minute of the last answer (plus the skew). Undefined before any traffic.
   */
  window(): { startMs: number; endMs: number } | undefined {
    if (this.total === 0) return undefined;
    return {
      startMs: minuteOf(this.firstSentEpochMs - this.clockSkewMs),
      endMs: minuteOf(this.lastDoneEpochMs + this.clockSkewMs) + MINUTE_MS,
    };
  }

  /** Every minute of `window()` in order, minutes without traffic included (as zeros). */
  snapshot(): MinuteSnapshot[] {
    const window = this.window();
    if (!window) return [];
    const out: MinuteSnapshot[] = [];
    for (let minuteStartMs = window.startMs; minuteStartMs < window.endMs; minuteStartMs += MINUTE_MS) {
      const cell = this.cells.get(minuteStartMs);
      if (!cell) {
        out.push({ minuteStartMs, ...emptyCounts(), latency: { samples: 0 }, routes: {} });
        continue;
      }
      const latency: MinuteSnapshot['latency'] = { samples: cell.latency.count };
      const p50 = cell.latency.percentileMs(50);
      const p99 = cell.latency.percentileMs(99);
      const max = cell.latency.maxMs();
      if (p50 !== undefined) latency.p50Ms = p50;
      if (p99 !== undefined) latency.p99Ms = p99;
      if (max !== undefined) latency.maxMs = max;
      out.push({
        minuteStartMs,
        ...cell.totals,
        latency,
        routes: Object.fromEntries([...cell.routes.entries()].map(([k, v]) => [k, { ...v }])),
      });
    }
    return out;
  }
}

/** Start of the epoch minute holding `epochMs`. */
export function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
}

function tally(counts: MinuteCounts, status: number | undefined, edgePrev: boolean, edgeNext: boolean, wafBlock: boolean): void {
  if (edgePrev) counts.edgePrev++;
  if (edgeNext) counts.edgeNext++;
  if (status === undefined) {
    counts.transportErrors++;
    return;
  }
  counts.completed++;
  if (status >= 200 && status <= 299) counts.status2xx++;
  else if (status >= 400 && status <= 499) {
    counts.status4xx++;
    if (status === 429) counts.status429++;
  } else if (status >= 500 && status <= 599) counts.status5xx++;
  if (wafBlock) counts.wafBlocks++;
}
