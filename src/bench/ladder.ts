import type { RunBudget } from '../engine/budget.js';
import type { HttpClient, ProbeRequest } from '../engine/http-client.js';
import { LatencyRecorder } from '../engine/latency.js';
import { constantPacer, poissonPacer, rampPacer, type Pacer } from '../engine/pacer.js';
import { runPaced } from '../engine/paced-run.js';
import { Timeline } from '../engine/timeline.js';
import { phaseRequestCount, type ResolvedPhase } from '../scenarios/scenario.js';

/** One step of a rate ladder, measured with gatecheck's paced open-model engine. */
export interface StepResult {
  name: string;
  targetRatePerSec: number;
  scheduled: number;
  sent: number;
  dropped: number;
  /** Sends per second over the scheduled duration. */
  achievedRatePerSec: number;
  /** 2xx/3xx per second over the scheduled duration. */
  acceptedRatePerSec: number;
  throttledShare: number;
  otherShare: number;
  transportErrors: number;
  /** Answers by HTTP status ("200": 480, "403": 20): what came back, so a run that measured refusals says so. */
  statusCounts: Record<string, number>;
  /** Latency from the intended send time (coordinated-omission corrected), ms. */
  latencyMs: { p50?: number; p90?: number; p99?: number; p999?: number; max?: number };
  /** Per 100 ms window of sends: the worst relative deviation from rate·0.1 s over full windows. */
  worstWindowDeviation: number;
  maxSendLagMs: number;
}

export const WINDOW_MS = 100;

function pacerFor(phase: Extract<ResolvedPhase, { kind: 'rate' }>): Pacer {
  if (phase.fromRatePerSec !== phase.toRatePerSec) return rampPacer(phase.fromRatePerSec, phase.toRatePerSec, phase.durationSec);
  return phase.arrivals === 'poisson' ? poissonPacer(phase.fromRatePerSec) : constantPacer(phase.fromRatePerSec);
}

/**
 * Runs rate phases one after another. Memory stays flat however long the run: each response
 * goes into counters, 100 ms windows and an HDR histogram, and is then dropped.
 */
export async function runLadder(
  client: HttpClient,
  budget: RunBudget,
  phases: ResolvedPhase[],
  request: ProbeRequest,
  progress: (line: string) => void,
  maxInFlight = 4096,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const phase of phases) {
    if (phase.kind !== 'rate') throw new Error(`bench runs rate phases only; "${phase.name}" is a volley`);
    const count = phaseRequestCount(phase);
    const latency = new LatencyRecorder();
    let accepted = 0;
    let throttled = 0;
    let other = 0;
    let transportErrors = 0;
    const statusCounts: Record<string, number> = {};
    const phaseStartMs = client.now();
    // Sends per 100 ms window (by actual send time): the pacing-accuracy figure.
    const sends = new Timeline(phaseStartMs, WINDOW_MS);
    progress(
      `bench: ${phase.name} at ${phase.fromRatePerSec}` +
        `${phase.toRatePerSec !== phase.fromRatePerSec ? `→${phase.toRatePerSec}` : ''}/s for ${phase.durationSec} s`,
    );
    const summary = await runPaced({
      client,
      budget,
      pacer: pacerFor(phase),
      count,
      request: () => request,
      maxInFlight,
      onObservation: (o) => {
        sends.add(o.sentAtMs, 'accepted');
        if (o.status === undefined) transportErrors++;
        else if (o.status === 429) throttled++;
        else if (o.status < 400) accepted++;
        else other++;
        if (o.status !== undefined) {
          latency.add(o);
          statusCounts[o.status] = (statusCounts[o.status] ?? 0) + 1;
        }
      },
    });
    const durationSec = phase.durationSec;
    const completed = accepted + throttled + other + transportErrors;
    const fullWindows = sends
      .counts()
      .slice(0, Math.floor((durationSec * 1000) / WINDOW_MS))
      .map((w) => w.accepted);
    const expectedPerWindow = (phase.fromRatePerSec * WINDOW_MS) / 1000;
    const worstWindowDeviation =
      phase.fromRatePerSec === phase.toRatePerSec && fullWindows.length > 0
        ? Math.max(...fullWindows.map((n) => Math.abs(n - expectedPerWindow) / expectedPerWindow))
        : NaN;
    results.push({
      name: phase.name,
      targetRatePerSec: (phase.fromRatePerSec + phase.toRatePerSec) / 2,
      scheduled: count,
      sent: summary.sent,
      dropped: summary.dropped,
      achievedRatePerSec: summary.sent / durationSec,
      acceptedRatePerSec: accepted / durationSec,
      throttledShare: completed ? throttled / completed : 0,
      otherShare: completed ? other / completed : 0,
      transportErrors,
      statusCounts,
      latencyMs: {
        p50: latency.percentileMs(50),
        p90: latency.percentileMs(90),
        p99: latency.percentileMs(99),
        p999: latency.percentileMs(99.9),
        max: latency.maxMs(),
      },
      worstWindowDeviation,
      maxSendLagMs: summary.maxSendLagMs,
    });
  }
  return results;
}
