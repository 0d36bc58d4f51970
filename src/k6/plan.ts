import { sloRatePerSec } from '../checks/slo/check.js';
import { planThrottle } from '../checks/throttle/plan.js';
import { idleBucketWaitMs } from '../engine/throttle-model.js';
import type { RoutePolicy, ThrottlePolicy } from '../policy/types.js';
import { resolveScenario, ScenarioError, type ResolvedPhase, type Scenario } from '../scenarios/scenario.js';
import { routeTag, scenarioName, SLO_PROBE, THROTTLE_PROBES, throttleScenarioName } from './names.js';

/**
 * The engine-neutral half of `export k6`: which requests go to which route, when, at what
 * rate, and which thresholds mirror the policy. script.ts only prints this plan as k6 code.
 *
 * Timing. Probes run one after another on one schedule (k6 `startTime`). A volley takes no
 * schedule time: the phase after it starts at once, as the paced engine starts its paced phase
 * as soon as the volley has left. After each probe of a throttled route the schedule waits for
 * the bucket to refill (1.5·burst/rate + 200 ms, as the throttle check does), so the next probe
 * starts from a full bucket; after other routes it waits a second.
 */
export interface PlannedPhase {
  /** k6 scenario name, unique in the script. */
  scenario: string;
  route: RoutePolicy;
  routeTag: string;
  /** The `probe` tag: `throttle.volley`, `throttle.paced`, `slo`, or `<scenario>.<phase>`. */
  probe: string;
  phase: ResolvedPhase;
  startMs: number;
  /** 429 is an expected answer (the probe pushes past the limit on purpose). */
  expect429: boolean;
  /** The credential its requests carry: the throttle's own, a usage plan's key, or the route's auth. */
  credential?: string;
  /** The usage plan it measures (its `plan` tag): each plan is probed with its own key. */
  plan?: string;
  /** Arrival-rate executors: VUs ready at start (rate × expected latency, ×1.5) and the cap (rate × timeout). */
  preAllocatedVUs?: number;
  maxVUs?: number;
}

export interface K6Plan {
  phases: PlannedPhase[];
  /** k6 thresholds, keyed by metric selector, mirroring each route's slo. */
  thresholds: Record<string, string[]>;
  /** End of the last phase, ms from the start. */
  totalMs: number;
  skipped: Array<{ route: string; reason: string }>;
  notes: string[];
}

export interface PlanOptions {
  /** Translate this scenario for every selected route instead of the policy's own probes. */
  scenario?: Scenario;
  /** Route ids to export (default: all). */
  routes?: string[];
  /** Expected response time for sizing preAllocatedVUs; default the route's slo.p99Ms, else 250 ms. */
  expectedLatencyMs?: number;
  requestTimeoutMs: number;
}

export function planK6(routes: RoutePolicy[], options: PlanOptions): K6Plan {
  const plan: K6Plan = { phases: [], thresholds: {}, totalMs: 0, skipped: [], notes: [] };
  let cursorMs = 0;
  for (const route of routes) {
    if (options.routes && !options.routes.includes(route.id)) continue;
    const groups = options.scenario ? scenarioGroups(route, options.scenario, plan) : policyGroups(route, plan);
    for (const group of groups) {
      for (const phase of group.phases) {
        plan.phases.push(sized({ ...phase, startMs: cursorMs }, route, options));
        if (phase.phase.kind === 'rate') cursorMs += phase.phase.durationSec * 1000;
      }
      plan.totalMs = cursorMs;
      cursorMs += group.refillMs;
    }
    if (groups.length > 0) addThresholds(route, plan, options.scenario === undefined);
  }
  if (options.routes) {
    const unknown = options.routes.filter((id) => !routes.some((r) => r.id === id));
    if (unknown.length) plan.notes.push(`unknown route(s) ignored: ${unknown.join(', ')} (routes: ${routes.map((r) => r.id).join(', ')})`);
  }
  if (plan.phases.some((p) => p.phase.kind === 'rate' && p.phase.arrivals === 'poisson')) {
    plan.notes.push('k6 arrival-rate executors space arrivals evenly; the scenario asks for Poisson arrivals, exported as even spacing');
  }
  return plan;
}

type Unplaced = Omit<PlannedPhase, 'startMs'>;

/** Phases that run back to back, then the wait for the bucket they emptied to refill. */
interface Group {
  phases: Unplaced[];
  refillMs: number;
}

/**
 * The policy's own load probes: the throttle probe (volley + paced), once for the route's
 * throttle and once per usage plan (with that plan's key, tagged with its name), one after
 * another as the paced engine runs them; then the slo measurement.
 */
function policyGroups(route: RoutePolicy, plan: K6Plan): Group[] {
  const groups: Group[] = [];
  const authCredential = route.auth?.required ? route.auth.credential : undefined;
  const withCredential = (credential: string | undefined) => (credential !== undefined ? { credential } : {});
  if (route.throttle) groups.push(throttleGroup(route, route.throttle, withCredential(route.throttle.credential ?? authCredential)));
  (route.usagePlans ?? []).forEach((usagePlan, i) => {
    groups.push(throttleGroup(route, usagePlan, { credential: usagePlan.credential, plan: usagePlan.name }, i));
  });
  if (route.slo) {
    const rate = sloRatePerSec(route, route.slo);
    const phase = constantPhase('slo', rate, route.slo.durationSec);
    const scenario = scenarioName(route.index, SLO_PROBE);
    const tags = { routeTag: routeTag(route), probe: SLO_PROBE };
    const slo: Unplaced = { scenario, route, ...tags, expect429: false, ...withCredential(authCredential), phase };
    groups.push({ phases: [slo], refillMs: refillMs(route) });
  }
  if (groups.length === 0)
    plan.skipped.push({
      route: route.id,
      reason: 'no throttle, usagePlans or slo: nothing to load (auth, cors and waf need few requests: `gatecheck run`)',
    });
  return groups;
}

/** One throttle probe: a volley, then the paced phase at once; `planIndex` keeps plans' scenario names apart. */
function throttleGroup(
  route: RoutePolicy,
  throttle: ThrottlePolicy,
  who: { credential?: string; plan?: string },
  planIndex?: number,
): Group {
  const sizes = planThrottle(throttle);
  const tag = routeTag(route);
  const name = (probe: string) => throttleScenarioName(route.index, probe, planIndex);
  const volley: ResolvedPhase = { kind: 'volley', name: 'volley', requests: sizes.volleySize };
  const paced = constantPhase('paced', sizes.pacedRatePerSec, throttle.probeSeconds);
  const phase = (probe: string, resolved: ResolvedPhase): Unplaced => ({
    scenario: name(probe),
    route,
    routeTag: tag,
    probe,
    expect429: true,
    ...who,
    phase: resolved,
  });
  return {
    phases: [phase(THROTTLE_PROBES.volley, volley), phase(THROTTLE_PROBES.paced, paced)],
    refillMs: refillMs(route, throttle),
  };
}

/** A scenario file translated for one route; `throttle-probe` keeps the throttle probe's tags. */
function scenarioGroups(route: RoutePolicy, scenario: Scenario, plan: K6Plan): Group[] {
  let phases: ResolvedPhase[];
  try {
    phases = resolveScenario(scenario, {
      ...(route.throttle ? { rateLimit: route.throttle.rateLimit, burstLimit: route.throttle.burstLimit } : {}),
    });
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    plan.skipped.push({ route: route.id, reason: error.message });
    return [];
  }
  const prefix = scenario.name === 'throttle-probe' ? 'throttle' : scenario.name;
  const credential = route.throttle?.credential ?? (route.auth?.required ? route.auth.credential : undefined);
  const unplaced = phases.map((phase): Unplaced => {
    const probe = `${prefix}.${phase.name}`;
    const scenario = scenarioName(route.index, probe);
    const base = { scenario, route, routeTag: routeTag(route), probe, expect429: route.throttle !== undefined, phase };
    return credential !== undefined ? { ...base, credential } : base;
  });
  return [{ phases: unplaced, refillMs: refillMs(route) }];
}

function constantPhase(name: string, ratePerSec: number, durationSec: number): ResolvedPhase {
  return { kind: 'rate', name, fromRatePerSec: ratePerSec, toRatePerSec: ratePerSec, durationSec, arrivals: 'constant' };
}

function sized(phase: PlannedPhase, route: RoutePolicy, options: PlanOptions): PlannedPhase {
  if (phase.phase.kind !== 'rate') return phase;
  const peak = Math.max(phase.phase.fromRatePerSec, phase.phase.toRatePerSec);
  const latencyMs = options.expectedLatencyMs ?? route.slo?.p99Ms ?? 250;
  // Little's law: requests in flight = arrival rate × time in the system.
  const preAllocatedVUs = Math.max(1, Math.ceil(peak * (latencyMs / 1000) * 1.5));
  const maxVUs = Math.max(preAllocatedVUs, Math.ceil(peak * (options.requestTimeoutMs / 1000)));
  return { ...phase, preAllocatedVUs, maxVUs };
}

function refillMs(route: RoutePolicy, throttle: ThrottlePolicy | undefined = route.throttle): number {
  return throttle ? idleBucketWaitMs(throttle) : 1000;
}

/**
 * The slo as k6 thresholds on the route's slo requests. Latency is judged on normal answers
 * only (`expected_response:true`), as the slo check does; a limit is met when the value is at
 * most the limit, hence `<=`.
 */
function addThresholds(route: RoutePolicy, plan: K6Plan, policyProbes: boolean): void {
  const slo = route.slo;
  if (!slo || !policyProbes) return;
  const tag = routeTag(route);
  const latency = [
    ...(slo.p50Ms !== undefined ? [`p(50)<=${slo.p50Ms}`] : []),
    ...(slo.p95Ms !== undefined ? [`p(95)<=${slo.p95Ms}`] : []),
    ...(slo.p99Ms !== undefined ? [`p(99)<=${slo.p99Ms}`] : []),
  ];
  if (latency.length) plan.thresholds[sloDurationSelector(tag)] = latency;
  if (slo.maxErrorRate !== undefined) plan.thresholds[sloFailedSelector(tag)] = [`rate<=${slo.maxErrorRate}`];
}

/** The credentials the plan's requests carry (their values come from the environment at run time). */
export function phaseCredentials(plan: K6Plan): string[] {
  return plan.phases.map((p) => p.credential).filter((n): n is string => n !== undefined);
}

export function sloDurationSelector(tag: string): string {
  return `http_req_duration{route:${tag},probe:${SLO_PROBE},expected_response:true}`;
}

export function sloFailedSelector(tag: string): string {
  return `http_req_failed{route:${tag},probe:${SLO_PROBE}}`;
}
