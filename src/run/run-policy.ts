import { runAuthCheck } from '../checks/auth.js';
import type { CheckContext } from '../checks/context.js';
import { runCorsCheck } from '../checks/cors.js';
import { metricsRouteId, runMetricsCheck, wafBlockStatusFor, type MetricsSettings } from '../checks/metrics.js';
import { runQuotaCheck } from '../checks/quota.js';
import { runSloCheck } from '../checks/slo.js';
import { runThrottleCheck, runUsagePlanChecks } from '../checks/throttle.js';
import type { CheckKind, CheckResult, CheckStatus } from '../checks/types.js';
import { runWafCheck } from '../checks/waf.js';
import { RunBudget } from '../engine/budget.js';
import { HttpClient, type TlsTrust } from '../engine/http-client.js';
import { MinuteLedger } from '../engine/minute-ledger.js';
import type { Policy, RoutePolicy } from '../policy/types.js';
import { overallVerdict, type RunReport } from '../report/model.js';
import type { Redactor } from '../util/redact.js';
import { reachRoute, type RouteReach } from './reachability.js';

/** A check kind: when it applies to a route, and how it runs. */
interface CheckRunner {
  kind: CheckKind;
  appliesTo: (route: RoutePolicy) => boolean;
  run: (ctx: CheckContext, route: RoutePolicy) => Promise<CheckResult | CheckResult[]>;
  /** Runs after every other check of every route: it uses something up (a key's quota). */
  last?: boolean;
  /** The ids this runner's results will have, so a check that never ran can still be listed. */
  idSuffixes?: (route: RoutePolicy) => string[];
}

/**
 * Per route, in this order: the few-request probes first (auth, cors, waf: 429-aware), then the
 * throttle probe (which waits for an idle bucket and leaves it empty), then the SLO measurement
 * (which waits for the refill). So no check reads another's side effects as its own result.
 */
export const CHECK_RUNNERS: CheckRunner[] = [
  { kind: 'auth', appliesTo: (r) => r.auth?.required === true, run: runAuthCheck },
  { kind: 'cors', appliesTo: (r) => r.cors !== undefined, run: runCorsCheck },
  { kind: 'waf', appliesTo: (r) => r.waf !== undefined, run: runWafCheck },
  { kind: 'throttle', appliesTo: (r) => r.throttle !== undefined, run: runThrottleCheck },
  {
    kind: 'throttle',
    appliesTo: (r) => r.usagePlans !== undefined,
    run: runUsagePlanChecks,
    idSuffixes: (r) => (r.usagePlans ?? []).map((plan) => ` [plan ${plan.name}]`),
  },
  { kind: 'slo', appliesTo: (r) => r.slo !== undefined, run: runSloCheck },
  // Verifying a quota uses the key up for the period: nothing else may run after it.
  { kind: 'quota', appliesTo: (r) => r.quota !== undefined, run: runQuotaCheck, last: true },
];

/** `metrics` is not per route: it runs once, after every other check (see runPolicy). */
export const SELECTABLE_KINDS: CheckKind[] = [...new Set([...CHECK_RUNNERS.map((r) => r.kind), 'metrics' as const])];

/** The check kinds a policy asks for, in run order: what --only may choose from. */
export function kindsInPolicy(policy: Policy): CheckKind[] {
  const kinds = CHECK_RUNNERS.filter((runner) => policy.routes.some(runner.appliesTo)).map((runner) => runner.kind);
  return [...new Set([...kinds, ...(policy.metrics ? ['metrics' as const] : [])])];
}

export interface RunOptions {
  policy: Policy & { target: string };
  policyFile: string;
  redactor: Redactor;
  /** Kinds to run; undefined = all. */
  only?: CheckKind[];
  progress: (line: string) => void;
  version: string;
  /** CloudWatch flags (--region, --profile, --endpoint-url, --metrics-wait) for the metrics check. */
  metrics?: MetricsSettings;
  /** Aborted when the user interrupts the run (Ctrl-C): stop sending, report what was checked. */
  stop?: AbortSignal;
  /** --ca or --insecure: how to trust the target's certificate. */
  tls?: TlsTrust;
}

const INTERRUPTED = 'interrupted';

/** Runs every check the policy asks for and returns the report model. Never throws for gateway faults. */
export async function runPolicy(options: RunOptions): Promise<RunReport> {
  const { policy } = options;
  const startedAt = new Date();
  // Every observation of the run, per wall-clock minute, for the CloudWatch reconciliation.
  const ledger = new MinuteLedger({
    toEpochMs: (ms) => client.epochAtOriginMs + ms,
    wafBlockStatus: wafBlockStatusFor(policy),
    clockSkewMs: policy.metrics?.tolerance.clockSkewMs ?? 1_000,
  });
  const interrupt = new AbortController();
  const client = new HttpClient({
    baseUrl: policy.target,
    requestTimeoutMs: policy.limits.requestTimeoutMs,
    tap: (o) => ledger.add(o),
    signal: interrupt.signal,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const deadlineMs = client.now() + policy.limits.maxDurationSec * 1000;
  const budget = new RunBudget(policy.limits.maxRequests, deadlineMs, () => client.now(), interrupt);
  if (options.stop?.aborted) budget.interrupt();
  options.stop?.addEventListener('abort', () => budget.interrupt(), { once: true });
  const ctx: CheckContext = { policy, client, budget, redactor: options.redactor, progress: options.progress, policyFile: options.policyFile };
  const selected = CHECK_RUNNERS.filter((r) => !options.only || options.only.includes(r.kind));
  const checks: CheckResult[] = [];
  const reached = new Map<RoutePolicy, RouteReach>();
  let abortReason: string | undefined;
  try {
    // Route by route, in CHECK_RUNNERS order; the `last` kinds after all routes are done.
    const schedule = [false, true].flatMap((last) =>
      policy.routes.flatMap((route) =>
        selected.filter((r) => Boolean(r.last) === last && r.appliesTo(route)).map((runner) => ({ route, runner })),
      ),
    );
    for (const { route, runner } of schedule) {
      if (budget.interrupted) abortReason ??= INTERRUPTED;
      if (abortReason) {
        checks.push(...notRun(runner, route, abortReason === INTERRUPTED ? 'skip' : 'error', abortReason));
        continue;
      }
      let reach = reached.get(route);
      if (!reach) {
        reach = await reachRoute(ctx, route);
        reached.set(route, reach);
        options.progress(`${route.id}: ${reach.problem ?? `reached (${reach.url} → ${reach.answer})`}`);
      }
      if (reach.problem !== undefined) {
        const interrupted = reach.problem === INTERRUPTED;
        checks.push(...notRun(runner, route, interrupted ? 'skip' : 'error', reach.problem));
        continue;
      }
      options.progress(`${runner.kind} ${route.id}: start`);
      const results = [await runner.run(ctx, route)].flat();
      // A check cut short by Ctrl-C judged half its data: it did not run, it was interrupted.
      checks.push(...(budget.interrupted ? notRun(runner, route, 'skip', INTERRUPTED) : results));
      if (!budget.interrupted && budget.msLeft === 0) abortReason = `the run's time cap of ${policy.limits.maxDurationSec} s was reached`;
    }
  } finally {
    await client.close();
  }
  if (budget.interrupted) abortReason ??= INTERRUPTED;
  if (policy.metrics && (!options.only || options.only.includes('metrics'))) {
    checks.push(await metricsCheck(options, { ...policy, metrics: policy.metrics }, ledger, budget, abortReason));
  }
  if (budget.interrupted) abortReason ??= INTERRUPTED;
  const finishedAt = new Date();
  return {
    verdict: overallVerdict(checks),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    target: policy.target,
    policyFile: options.policyFile,
    gatecheckVersion: options.version,
    requestsSent: budget.requestsSent,
    limits: { maxRequests: policy.limits.maxRequests, maxDurationSec: policy.limits.maxDurationSec },
    notSelected: SELECTABLE_KINDS.filter((kind) => options.only && !options.only.includes(kind)),
    interrupted: budget.interrupted,
    ...(abortReason ? { abortReason } : checks.length === 0 ? { abortReason: 'no check ran: the policy (with --only) asks for none' } : {}),
    checks,
  };
}

/** The CloudWatch reconciliation, after every other check; Ctrl-C while it waits for datapoints ends it. */
async function metricsCheck(
  options: RunOptions,
  policy: Policy & Required<Pick<Policy, 'metrics'>>,
  ledger: MinuteLedger,
  budget: RunBudget,
  abortReason: string | undefined,
): Promise<CheckResult> {
  const route = { id: metricsRouteId(policy.metrics) };
  if (budget.interrupted) return notRunResult('metrics', route.id, '', 'skip', INTERRUPTED);
  // After a time-cap abort the traffic that did happen is still worth reconciling.
  if (abortReason && ledger.snapshot().every((m) => m.completed === 0)) return notRunResult('metrics', route.id, '', 'error', abortReason);
  const interrupted = new Promise<CheckResult>((resolve) => {
    const skip = () => resolve(notRunResult('metrics', route.id, '', 'skip', INTERRUPTED));
    if (budget.signal.aborted) skip();
    else budget.signal.addEventListener('abort', skip, { once: true });
  });
  const run = runMetricsCheck({ policy, ledger, settings: options.metrics ?? {}, progress: options.progress });
  return Promise.race([run, interrupted]);
}

function notRun(runner: CheckRunner, route: RoutePolicy, status: CheckStatus, reason: string): CheckResult[] {
  const suffixes = runner.idSuffixes?.(route) ?? [''];
  return suffixes.map((suffix) => notRunResult(runner.kind, route.id, suffix, status, reason));
}

function notRunResult(kind: CheckKind, routeId: string, suffix: string, status: CheckStatus, reason: string): CheckResult {
  const summary = reason === INTERRUPTED ? 'not verified: the run was interrupted before this check finished' : `not verified: ${reason}`;
  return { id: `${kind}:${routeId}${suffix}`, kind, route: routeId, status, summary, expected: {}, observed: {}, evidence: [], durationMs: 0, requestsSent: 0 };
}
