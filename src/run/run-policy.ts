import { runAuthCheck } from '../checks/auth.js';
import type { CheckContext } from '../checks/context.js';
import { routeRequest } from '../checks/context.js';
import { runCorsCheck } from '../checks/cors.js';
import { metricsRouteId, runMetricsCheck, wafBlockStatusFor, type MetricsSettings } from '../checks/metrics.js';
import { runQuotaCheck } from '../checks/quota.js';
import { runSloCheck } from '../checks/slo.js';
import { runThrottleCheck, runUsagePlanChecks } from '../checks/throttle.js';
import type { CheckKind, CheckResult } from '../checks/types.js';
import { runWafCheck } from '../checks/waf.js';
import { RunBudget } from '../engine/budget.js';
import { HttpClient, type TlsTrust } from '../engine/http-client.js';
import { MinuteLedger } from '../engine/minute-ledger.js';
import type { Policy, RoutePolicy } from '../policy/types.js';
import { overallVerdict, type RunReport } from '../report/model.js';
import type { Redactor } from '../util/redact.js';

/** A check kind: when it applies to a route, and how it runs. */
interface CheckRunner {
  kind: CheckKind;
  appliesTo: (route: RoutePolicy) => boolean;
  run: (ctx: CheckContext, route: RoutePolicy) => Promise<CheckResult | CheckResult[]>;
  /** Runs after every other check of every route: it uses something up (a key's quota). */
  last?: boolean;
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
  { kind: 'throttle', appliesTo: (r) => r.usagePlans !== undefined, run: runUsagePlanChecks },
  { kind: 'slo', appliesTo: (r) => r.slo !== undefined, run: runSloCheck },
  // Verifying a quota uses the key up for the period: nothing else may run after it.
  { kind: 'quota', appliesTo: (r) => r.quota !== undefined, run: runQuotaCheck, last: true },
];

/** `metrics` is not per route: it runs once, after every other check (see runPolicy). */
export const SELECTABLE_KINDS: CheckKind[] = [...new Set([...CHECK_RUNNERS.map((r) => r.kind), 'metrics' as const])];

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
  /** --ca or --insecure: how to trust the target's certificate. */
  tls?: TlsTrust;
}

/** Runs every check the policy asks for and returns the report model. Never throws for gateway faults. */
export async function runPolicy(options: RunOptions): Promise<RunReport> {
  const { policy } = options;
  const startedAt = new Date();
  // Every observation of the run, per wall-clock minute, for the CloudWatch reconciliation.
  const ledger = new MinuteLedger({ toEpochMs: (ms) => client.epochAtOriginMs + ms, wafBlockStatus: wafBlockStatusFor(policy), clockSkewMs: policy.metrics?.tolerance.clockSkewMs ?? 1_000 });
  const connection = { baseUrl: policy.target, requestTimeoutMs: policy.limits.requestTimeoutMs, tls: options.tls };
  const client = new HttpClient({ ...connection, tap: (o) => ledger.add(o) });
  const budget = new RunBudget(policy.limits.maxRequests, client.now() + policy.limits.maxDurationSec * 1000, () => client.now());
  const ctx: CheckContext = { policy, client, budget, redactor: options.redactor, progress: options.progress, policyFile: options.policyFile };
  const selected = CHECK_RUNNERS.filter((r) => !options.only || options.only.includes(r.kind));
  const checks: CheckResult[] = [];
  let abortReason: string | undefined;
  try {
    abortReason = await reachability(ctx);
    // Route by route, in CHECK_RUNNERS order; the `last` kinds after all routes are done.
    const schedule = [false, true].flatMap((last) => policy.routes.flatMap((route) => selected.filter((r) => Boolean(r.last) === last && r.appliesTo(route)).map((runner) => ({ route, runner }))));
    for (const { route, runner } of schedule) {
      if (abortReason) {
        checks.push(notRun(runner.kind, route, abortReason));
        continue;
      }
      options.progress(`${runner.kind} ${route.id}: start`);
      checks.push(...[await runner.run(ctx, route)].flat());
      if (budget.msLeft === 0) abortReason = `the run's time cap of ${policy.limits.maxDurationSec} s was reached`;
    }
  } finally {
    await client.close();
  }
  if (policy.metrics && (!options.only || options.only.includes('metrics'))) {
    const metricsPolicy = { ...policy, metrics: policy.metrics };
    // After a time-cap abort the traffic that did happen is still worth reconciling.
    if (abortReason && ledger.snapshot().every((m) => m.completed === 0)) checks.push(notRun('metrics', { id: metricsRouteId(policy.metrics) }, abortReason));
    else checks.push(await runMetricsCheck({ policy: metricsPolicy, ledger, settings: options.metrics ?? {}, progress: options.progress }));
  }
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
    ...(abortReason ? { abortReason } : {}),
    checks,
  };
}

/**
 * One request to the first route before anything else: if the target cannot be reached at
 * all (refused, TLS failure, DNS), every check is an error with that reason, not a pile of
 * confusing per-check failures. Any HTTP answer, even 403 or 500, counts as reachable.
 */
async function reachability(ctx: CheckContext): Promise<string | undefined> {
  const route = ctx.policy.routes[0]!;
  if (!ctx.budget.take()) return 'the request cap allows no request';
  const observation = await ctx.client.send(routeRequest(ctx.policy, route, 'reachability'));
  if (observation.status !== undefined) return undefined;
  return `target ${ctx.client.baseUrl} unreachable: ${observation.error}`;
}

function notRun(kind: CheckKind, route: Pick<RoutePolicy, 'id'>, reason: string): CheckResult {
  return { id: `${kind}:${route.id}`, kind, route: route.id, status: 'error', summary: `not verified: ${reason}`, expected: {}, observed: {}, evidence: [], durationMs: 0, requestsSent: 0 };
}
