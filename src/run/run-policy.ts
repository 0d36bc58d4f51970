import type { CheckContext } from '../checks/context.js';
import type { AnyCheckDefinition, CheckInstance } from '../checks/contract.js';
import { withMetricsFlags, type MetricsSettings } from '../checks/metrics/cloudwatch-read.js';
import { CHECK_KINDS, type CheckKind } from '../checks/registry.js';
import type { CheckResult, CheckStatus } from '../checks/types.js';
import { isWafBlock } from '../checks/waf/check.js';
import { RunBudget } from '../engine/budget.js';
import { HttpClient, type TlsTrust } from '../engine/http-client.js';
import { MinuteLedger } from '../engine/minute-ledger.js';
import type { Observation } from '../engine/observation.js';
import { ObservationStream } from '../engine/stream.js';
import type { Policy, RoutePolicy } from '../policy/types.js';
import { qualifyFindings } from '../checks/findings.js';
import { policyGate, type GateOptions } from '../gate/gate.js';
import { REPORT_SCHEMA_VERSION, withGate, type RunReport } from '../report/model.js';
import type { Redactor } from '../util/redact.js';
import type { DeployedConfig } from '../aws/deployed.js';
import { applyDrift } from '../drift/compare.js';
import { reachRoute, type RouteReach } from './reachability.js';
import { scheduleChecks, type ScheduledCheck } from './schedule.js';

export { kindsInPolicy } from './schedule.js';

/** Every kind --only may name. */
export const SELECTABLE_KINDS: CheckKind[] = CHECK_KINDS;

/** What a recording of the run is told besides the observations (`run --record`). */
export interface RunRecorder {
  /** The run starts (before any traffic): observation times count from `epochAtOriginMs`. */
  start(run: { startedAt: string; epochAtOriginMs: number }): void;
  observation(observation: Observation): void;
  check(record: { id: string; kind: string; route: string; idSuffix: string; notes: unknown }): void;
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
  /** `run --record FILE`: every observation and every check's notes, for `gatecheck judge`. */
  recorder?: RunRecorder;
  /** --fail-on, --accept, --baseline; default: the policy's gate. */
  gate?: GateOptions;
  /** `run --drift`: what AWS is configured to enforce, read before the run: an input beside the policy. */
  deployed?: DeployedConfig;
}

const INTERRUPTED = 'interrupted';

/** Runs every check the policy asks for and returns the report model. Never throws for gateway faults. */
export async function runPolicy(options: RunOptions): Promise<RunReport> {
  // --region, --endpoint-url and --metrics-wait are the metrics block's values for this run.
  const policy = withMetricsFlags(options.policy, options.metrics);
  const startedAt = new Date();
  const stream = new ObservationStream();
  // Every observation of the run, per wall-clock minute, for the CloudWatch reconciliation.
  const ledger = new MinuteLedger({
    toEpochMs: (ms) => client.epochAtOriginMs + ms,
    isWafBlock: (o) => isWafBlock(policy, o),
    clockSkewMs: policy.metrics?.tolerance.clockSkewMs ?? 1_000,
  });
  stream.subscribe((o) => ledger.add(o));
  if (options.recorder) stream.subscribe((o) => options.recorder!.observation(o));
  const interrupt = new AbortController();
  const client = new HttpClient({
    baseUrl: policy.target,
    requestTimeoutMs: policy.limits.requestTimeoutMs,
    stream,
    signal: interrupt.signal,
    ...(policy.headers ? { headers: policy.headers } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  options.recorder?.start({ startedAt: startedAt.toISOString(), epochAtOriginMs: client.epochAtOriginMs });
  const deadlineMs = client.now() + policy.limits.maxDurationSec * 1000;
  const budget = new RunBudget(policy.limits.maxRequests, deadlineMs, () => client.now(), interrupt);
  if (options.stop?.aborted) budget.interrupt();
  options.stop?.addEventListener('abort', () => budget.interrupt(), { once: true });
  const ctx: CheckContext = {
    policy,
    client,
    budget,
    redactor: options.redactor,
    progress: options.progress,
    policyFile: options.policyFile,
    ledger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
  const checks: CheckResult[] = [];
  const reached = new Map<RoutePolicy, RouteReach>();
  let abortReason: string | undefined;
  try {
    for (const scheduled of scheduleChecks(policy, options.only)) {
      if (budget.interrupted) abortReason ??= INTERRUPTED;
      const afterRun = scheduled.definition.phase === 'after-run';
      // After a time-cap abort the traffic that did happen is still worth reconciling.
      const canReconcile =
        afterRun &&
        abortReason !== INTERRUPTED &&
        (['http', 'websocket'] as const).some((lane) => ledger.snapshot(lane).some((m) => m.completed > 0));
      if (abortReason && !canReconcile) {
        checks.push(...notRun(scheduled, abortReason === INTERRUPTED ? 'skip' : 'error', abortReason));
        continue;
      }
      // A route's checks send its policy headers (top-level ones merged under the route's own).
      const routeCtx = scheduled.route ? { ...ctx, client: client.withHeaders(scheduled.route.headers) } : ctx;
      if (scheduled.route) {
        let reach = reached.get(scheduled.route);
        if (!reach) {
          reach = await reachRoute(routeCtx, scheduled.route);
          reached.set(scheduled.route, reach);
          options.progress(`${scheduled.route.id}: ${reach.problem ?? `reached (${reach.url} → ${reach.answer})`}`);
        }
        if (reach.problem !== undefined) {
          checks.push(...notRun(scheduled, reach.problem === INTERRUPTED ? 'skip' : 'error', reach.problem));
          continue;
        }
      }
      options.progress(`${scheduled.definition.kind} ${scheduled.instance.route}: start`);
      const results = await runScheduled(routeCtx, stream, scheduled, options.recorder);
      // A check cut short by Ctrl-C judged half its data: it did not run, it was interrupted.
      checks.push(...(budget.interrupted ? notRun(scheduled, 'skip', INTERRUPTED) : results));
      if (!budget.interrupted && budget.msLeft === 0 && !afterRun)
        abortReason = `the run's time cap of ${policy.limits.maxDurationSec} s was reached`;
    }
  } finally {
    await client.close();
  }
  if (budget.interrupted) abortReason ??= INTERRUPTED;
  const finishedAt = new Date();
  return withGate(
    {
      schemaVersion: REPORT_SCHEMA_VERSION,
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
      ...(options.deployed ? { drift: driftSource(options.deployed) } : {}),
      ...(abortReason
        ? { abortReason }
        : checks.length === 0
          ? { abortReason: 'no check ran: the policy (with --only) asks for none' }
          : {}),
      // The third side, beside the policy and the measurement: a pure comparison, before the gate settles it.
      checks: options.deployed ? applyDrift(checks, policy, options.deployed) : checks,
    },
    options.gate ?? policyGate(policy, startedAt),
  );
}

function driftSource(deployed: DeployedConfig): NonNullable<RunReport['drift']> {
  const { type, id, stage, region } = deployed.api;
  return {
    api: { type, id, stage, region },
    unreadable: deployed.unreadable.map(({ setting, call, code, reason }) => ({ setting, call, code, reason })),
  };
}

/**
 * One check: its plan against the budget (skip when it does not fit), then collect with its
 * observations tagged on the stream, then the pure evaluate. Ctrl-C while it waits (a CloudWatch
 * poll) ends the wait.
 */
async function runScheduled(
  ctx: CheckContext,
  stream: ObservationStream,
  scheduled: ScheduledCheck,
  recorder?: RunRecorder,
): Promise<CheckResult[]> {
  // Its listener leaves with the check: one per check would pile up on the run's signal (Node warns past 10).
  const { signal } = ctx.budget;
  let onAbort = () => {};
  const interrupted = new Promise<'interrupted'>((resolve) => {
    onAbort = () => resolve('interrupted');
    if (signal.aborted) resolve('interrupted');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await runUntil(ctx, stream, scheduled, interrupted, recorder);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function runUntil(
  ctx: CheckContext,
  stream: ObservationStream,
  scheduled: ScheduledCheck,
  interrupted: Promise<'interrupted'>,
  recorder?: RunRecorder,
): Promise<CheckResult[]> {
  const started = ctx.client.now();
  const sentBefore = ctx.budget.requestsSent;
  const { definition, instance } = scheduled;
  const id = scheduled.ids[0]!;
  const base = { id, kind: definition.kind as CheckKind, route: instance.route, expected: definition.expected(instance.spec, ctx.policy) };
  const plan = definition.plan(instance.spec, ctx.policy);
  const shortfall = ctx.budget.shortfall(plan.requests, plan.durationMs);
  if (shortfall) {
    return [
      {
        ...base,
        status: 'skip',
        summary: `not run: the check ${shortfall}`,
        observed: {},
        evidence: [],
        findings: [],
        durationMs: 0,
        requestsSent: 0,
      },
    ];
  }
  const observations: Observation[] = [];
  const unsubscribe = stream.subscribe((o) => {
    if (o.check === id) observations.push(o);
  });
  stream.setCheck(id);
  let notes: unknown;
  try {
    const outcome = await Promise.race([collect(definition, ctx, instance), interrupted]);
    if (outcome === 'interrupted') return notRun(scheduled, 'skip', INTERRUPTED);
    notes = outcome.notes;
  } finally {
    stream.setCheck(undefined);
    unsubscribe();
  }
  recorder?.check({ id, kind: definition.kind, route: instance.route, idSuffix: instance.idSuffix, notes });
  const verdict = definition.evaluate(instance.spec, { observations, notes }, ctx.policy);
  const durationMs = Math.round(ctx.client.now() - started);
  const findings = qualifyFindings(id, verdict);
  return [{ ...base, ...verdict, findings, durationMs, requestsSent: ctx.budget.requestsSent - sentBefore }];
}

async function collect(definition: AnyCheckDefinition, ctx: CheckContext, instance: CheckInstance<unknown>): Promise<{ notes: unknown }> {
  return { notes: await definition.collect(ctx, instance.spec) };
}

function notRun(scheduled: ScheduledCheck, status: CheckStatus, reason: string): CheckResult[] {
  const summary = reason === INTERRUPTED ? 'not verified: the run was interrupted before this check finished' : `not verified: ${reason}`;
  const kind = scheduled.definition.kind as CheckKind;
  return scheduled.ids.map((id) => ({
    id,
    kind,
    route: scheduled.instance.route,
    status,
    summary,
    expected: {},
    observed: {},
    evidence: [],
    findings: [],
    durationMs: 0,
    requestsSent: 0,
  }));
}
