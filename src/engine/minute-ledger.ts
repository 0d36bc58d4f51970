import { MINUTE_MS } from '../util/time.js';
import { LatencyRecorder } from './latency.js';
import type { Observation } from './observation.js';
import { classifyAnswer } from './ws-answer.js';

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
 *
 * WebSocket observations (src/engine/ws-client.ts, on the same stream) belong to another API with
 * its own metrics (ConnectCount, MessageCount, ClientError), so they are filed in a lane of their
 * own, with the same minutes, edges and counters: the upgrade under the route `$connect` with its
 * HTTP status (101 opened, 401/403/429 refused), each message under `$message` with the status
 * API Gateway's WebSocket access log gives it (wsStatus below). A message never sent (its socket
 * had closed) is not filed: it never reached the gateway.
 */

/** Which API's traffic: the HTTP/REST API of the routes, or the WebSocket API of `websockets:`. */
export type LedgerLane = 'http' | 'websocket';

/** Route keys of the WebSocket lane. */
export const WS_CONNECT = '$connect';
export const WS_MESSAGE = '$message';

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

/** One API's minutes: the cells, and the first send and last answer for the window. */
class Lane {
  readonly cells = new Map<number, MinuteCell>();
  firstSentEpochMs = Infinity;
  lastDoneEpochMs = -Infinity;
  total = 0;
}

export class MinuteLedger {
  private readonly lanes: Record<LedgerLane, Lane> = { http: new Lane(), websocket: new Lane() };
  private readonly toEpochMs: (runClockMs: number) => number;
  private readonly isWafBlock: ((observation: Observation) => boolean) | undefined;
  readonly clockSkewMs: number;

  constructor(options: MinuteLedgerOptions) {
    this.toEpochMs = options.toEpochMs;
    this.isWafBlock = options.isWafBlock;
    this.clockSkewMs = options.clockSkewMs ?? 1_000;
  }

  /** Files one observation (the run's stream: HTTP requests, WebSocket upgrades and messages). */
  add(observation: Observation): void {
    if (observation.ws !== undefined) {
      const status = wsStatus(observation);
      if (status === 'not-sent') return;
      const routeKey = observation.ws.event === 'connect' ? WS_CONNECT : WS_MESSAGE;
      this.file(this.lanes.websocket, observation, routeKey, status, false);
      return;
    }
    const routeKey = `${observation.method} ${observation.path.split('?')[0]}`;
    const wafBlock = observation.status !== undefined && (this.isWafBlock?.(observation) ?? false);
    this.file(this.lanes.http, observation, routeKey, observation.status, wafBlock);
  }

  private file(lane: Lane, observation: Observation, routeKey: string, status: number | undefined, wafBlock: boolean): void {
    const sentEpochMs = this.toEpochMs(observation.sentAtMs);
    const doneEpochMs = this.toEpochMs(observation.doneAtMs);
    const minuteStartMs = minuteOf(doneEpochMs);
    let cell = lane.cells.get(minuteStartMs);
    if (cell === undefined) {
      cell = new MinuteCell();
      lane.cells.set(minuteStartMs, cell);
    }
    let route = cell.routes.get(routeKey);
    if (route === undefined) {
      route = emptyCounts();
      cell.routes.set(routeKey, route);
    }
    const edgePrev = sentEpochMs - this.clockSkewMs < minuteStartMs;
    const edgeNext = doneEpochMs + this.clockSkewMs >= minuteStartMs + MINUTE_MS;
    for (const counts of [cell.totals, route]) tally(counts, status, edgePrev, edgeNext, wafBlock);
    if (status !== undefined) cell.latency.recordMs(observation.doneAtMs - observation.sentAtMs);

    lane.total++;
    if (sentEpochMs < lane.firstSentEpochMs) lane.firstSentEpochMs = sentEpochMs;
    if (doneEpochMs > lane.lastDoneEpochMs) lane.lastDoneEpochMs = doneEpochMs;
  }

  /** Observations filed so far (answers and transport errors), both lanes. */
  get size(): number {
    return this.lanes.http.total + this.lanes.websocket.total;
  }

  /**
   * The minutes to ask CloudWatch about: from the minute of the first request (less the clock
   * skew) to the end of the minute of the last answer (plus the skew). Undefined before any traffic.
   */
  window(laneName: LedgerLane = 'http'): { startMs: number; endMs: number } | undefined {
    const lane = this.lanes[laneName];
    if (lane.total === 0) return undefined;
    return {
      startMs: minuteOf(lane.firstSentEpochMs - this.clockSkewMs),
      endMs: minuteOf(lane.lastDoneEpochMs + this.clockSkewMs) + MINUTE_MS,
    };
  }

  /** Every minute of `window()` in order, minutes without traffic included (as zeros). */
  snapshot(laneName: LedgerLane = 'http'): MinuteSnapshot[] {
    const window = this.window(laneName);
    if (!window) return [];
    const cells = this.lanes[laneName].cells;
    const out: MinuteSnapshot[] = [];
    for (let minuteStartMs = window.startMs; minuteStartMs < window.endMs; minuteStartMs += MINUTE_MS) {
      const cell = cells.get(minuteStartMs);
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

/**
 * A WebSocket observation as the status API Gateway's WebSocket access log would give it: the
 * upgrade's own HTTP status; a message answered by the route 200, refused by the throttle 429,
 * answered by another gateway error frame (`Internal server error`) 500 (engine/ws-answer.ts
 * tells them apart). A message that ended the socket (1009: too big) or got no answer is like a
 * transport error: the gateway may have counted it or not. `not-sent`: the socket had closed
 * before the message went out.
 */
export function wsStatus(observation: Observation): number | undefined | 'not-sent' {
  const ws = observation.ws;
  if (!ws || ws.event === 'connect') return observation.status;
  if (ws.answer === 'none' && observation.error === 'socket closed') return 'not-sent';
  const answer = classifyAnswer(observation);
  return answer === 'accepted' ? 200 : answer === 'throttled' ? 429 : answer === 'gateway-error' ? 500 : undefined;
}
