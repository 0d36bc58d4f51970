import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable } from 'markdown-table';
import type { MetricsSettings } from '../checks/metrics/cloudwatch-read.js';
import { runMetricsPull } from '../checks/metrics/pull.js';
import type { CheckKind } from '../checks/types.js';
import { FAULTS, type FaultName } from '../gateway/faults.js';
import { startGateway } from '../gateway/server.js';
import { PolicyError } from '../policy/errors.js';
import { loadPolicyFile, type Environment } from '../policy/load.js';
import { routeCredential, type Policy } from '../policy/types.js';
import { policyGate } from '../gate/gate.js';
import { UsageError } from './errors.js';
import { acceptLines, gateOptions, type GateArgs } from './gate-args.js';
import { EXIT_CODES, exitCodeFor, REPORT_SCHEMA_VERSION, withGate, type RunReport } from '../report/model.js';
import { renderFirstScreen } from '../report/markdown.js';
import { throttleK6Hint } from '../report/render/throttle.js';
import { routeLabel, severityCountsText, statusText, summaryWithoutCounts } from '../report/status.js';
import { defaultReportDir, prepareReportDir, writeReports } from '../report/write.js';
import { judgeRecording } from '../run/judge.js';
import { FileRunRecorder, readRecordingFile, RecordingError, type Recording } from '../run/record.js';
import { kindsInPolicy, runPolicy } from '../run/run-policy.js';
import { scheduleChecks } from '../run/schedule.js';
import { CHECK_KINDS } from '../checks/registry.js';
import { renderBenchMarkdown, shortRunLine, writeBenchReport } from '../bench/report.js';
import { benchPlanProblem, runBench, type BenchMode } from '../bench/run-bench.js';
import { benchAnswers, misleadingBench } from '../bench/answers.js';
import { findRoute } from '../policy/routes.js';
import { nearMiss } from '../policy/near-miss.js';
import { credentialHeaders } from '../checks/context.js';
import { GATECHECK_VERSION } from '../engine/client-headers.js';
import type { TlsTrust } from '../engine/http-client.js';
import { loadScenario, resolveScenario, type ResolvedPhase } from '../scenarios/scenario.js';
import { wrapWords } from '../util/format.js';
import { policyRedactor, Redactor } from '../util/redact.js';
import { appendStepSummary, sarifSource, writtenFiles } from './ci.js';
import { baselineLines } from './diff.js';
import { progressPrinter, type CliIo } from './io.js';
import { readDeployedOrUsageError, unreadableLines } from './aws-commands.js';
import { AwsReadError, type ApiRef, type AwsConnection, type DeployedConfig } from '../aws/read.js';

export const VERSION = GATECHECK_VERSION;
export const DEMO_POLICY = fileURLToPath(new URL('../../policies/demo.yaml', import.meta.url));

// Bad input (exit 2, nothing sent): its own module, so the flag parsers (gate-args.ts) can throw it too.
export { UsageError };

export interface RunArgs {
  policy: string;
  target?: string;
  out?: string;
  only?: CheckKind[];
  maxRequests?: number;
  maxDuration?: number;
  quiet: boolean;
  /** --region, --profile, --endpoint-url, --metrics-wait (and the demo's emulator settings). */
  metrics?: MetricsSettings;
  /** --ca (its PEM, read before any traffic) or --insecure. */
  tls?: TlsArgs;
  /** --record FILE: every observation and each check's notes, for `gatecheck judge`. */
  record?: string;
  /** --fail-on and the other gate flags. */
  gate?: GateArgs;
  /** --drift: the API stage whose AWS configuration is read before the run. */
  drift?: { ref: ApiRef; connection: AwsConnection };
}

/** --ca or --insecure as the CLI read them: the trust the engine uses, and the file name for the report. */
export interface TlsArgs extends TlsTrust {
  caFile?: string;
}

/** Loads a policy; PolicyError is turned into exit 2 by the caller. Caps from flags override the file. */
export function loadPolicy(
  io: CliIo,
  args: Pick<RunArgs, 'policy' | 'target' | 'maxRequests' | 'maxDuration'>,
  env: Environment = io.env,
): Policy {
  const policy = loadPolicyFile(resolve(io.cwd, args.policy), {
    env,
    ...(args.target !== undefined ? { targetOverride: args.target } : {}),
  });
  if (args.maxRequests !== undefined) policy.limits.maxRequests = args.maxRequests;
  if (args.maxDuration !== undefined) policy.limits.maxDurationSec = args.maxDuration;
  return policy;
}

/** Set, unless the user has set it, to keep the AWS SDK's Node version advice off stderr (see below). */
const SDK_VERSION_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * On Node < 22 the AWS SDK prints a multi-line NodeVersionSupportWarning (its releases after
 * January 2027 need Node 22) through process.emitWarning, --quiet or not: advice about the
 * machine, not about this run. @aws-sdk/core skips it when the variable is exactly `true` as a
 * client is built, so it is set before the metrics check opens one. A value the user gave is
 * kept (`false` shows the advice); every other warning still prints.
 */
function quietSdkVersionWarning(io: CliIo): void {
  if (io.env[SDK_VERSION_WARNING_ENV] !== undefined || process.env[SDK_VERSION_WARNING_ENV] !== undefined) return;
  process.env[SDK_VERSION_WARNING_ENV] = 'true';
}

export async function runCommand(io: CliIo, args: RunArgs, env: Environment = io.env, label = args.policy): Promise<number> {
  const policy = loadPolicy(io, args, env);
  if (policy.target === undefined) throw new UsageError('no target: set `target` in the policy or pass --target URL');
  checkOnlyAgainstPolicy(args.only, policy);
  // Before any traffic: a report that cannot be written would lose every result.
  const dir = resolve(io.cwd, args.out ?? defaultReportDir(new Date()));
  await reportDirOrUsageError(dir, args.out === undefined ? 'the report directory' : '--out');
  const gate = gateOptions(io, args.gate, policy, new Date());
  if (policy.metrics || args.drift) quietSdkVersionWarning(io);
  // --drift: AWS's side is read once, before any traffic, and goes into the run beside the policy.
  let deployed: DeployedConfig | undefined;
  if (args.drift) {
    try {
      // Like the metrics block's reads: --region, else the policy's CloudWatch Region, else the SDK's default.
      const region = args.drift.connection.region ?? policy.metrics?.cloudwatch.region;
      deployed = await readDeployedOrUsageError({ ...args.drift.connection, ...(region ? { region } : {}) }, args.drift.ref);
    } catch (error) {
      if (!(error instanceof AwsReadError)) throw error;
      io.stderr.write(`gatecheck: --drift: cannot read the API's configuration: ${error.message}; nothing was sent\n`);
      return EXIT_CODES.error;
    }
    io.stderr.write(unreadableLines(deployed));
  }
  const redactor = policyRedactor(policy);
  const run = { policyFile: label, target: policy.target };
  const recorder = args.record === undefined ? undefined : await recorderOrUsageError(io, args.record, redactor, run);
  const progress = progressPrinter(io, args.quiet);
  const stop = new AbortController();
  const removeHandlers = io.onInterrupt?.(() => {
    progress.line('interrupted: stopping, writing the report for what was checked (Ctrl-C again to quit at once)');
    stop.abort();
  });
  let report: RunReport;
  try {
    report = await runPolicy({
      policy: { ...policy, target: policy.target },
      policyFile: label,
      redactor,
      ...(args.only ? { only: args.only } : {}),
      progress: (line) => progress.line(redactor.redact(line)),
      version: VERSION,
      ...(args.metrics ? { metrics: args.metrics } : {}),
      stop: stop.signal,
      ...(args.tls ? { tls: args.tls } : {}),
      ...(recorder ? { recorder } : {}),
      ...(deployed ? { deployed } : {}),
      gate,
    });
  } finally {
    // Once interrupted, a second Ctrl-C must still find the handler (exit 130 at once) while the
    // reports are written; the process ends right after.
    if (!stop.signal.aborted) removeHandlers?.();
    await closeRecorder(io, recorder, args.record);
  }
  if (args.tls) report.tls = tlsNote(args.tls);
  progress.done();
  const written = await writeReports(report, dir, redactor, sarifSource(io, args.policy, policy));
  await printSummary(io, report, redactor);
  io.stdout.write(redactor.redact(baselineLines(gate, report)));
  io.stdout.write(`\n${writtenFiles(written)}`);
  return report.interrupted ? EXIT_CODES.interrupted : exitCodeFor(report.verdict);
}

/** Creates the --record file before any traffic: a path that cannot be written is bad input (exit 2). */
async function recorderOrUsageError(
  io: CliIo,
  file: string,
  redactor: Redactor,
  run: { policyFile: string; target: string },
): Promise<FileRunRecorder> {
  try {
    return await FileRunRecorder.create(resolve(io.cwd, file), redactor, { version: VERSION, ...run });
  } catch (error) {
    throw new UsageError(`--record: cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); nothing was sent`);
  }
}

/** The run's verdicts stand when the recording could not be finished: said, not fatal. */
async function closeRecorder(io: CliIo, recorder: FileRunRecorder | undefined, file: string | undefined): Promise<void> {
  try {
    await recorder?.close();
  } catch (error) {
    io.stderr.write(`gatecheck: warning: --record: ${file} is incomplete (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
  }
}

export interface JudgeArgs {
  policy: string;
  /** The recording (`run --record FILE`). */
  observations: string;
  out?: string;
  gate?: GateArgs;
}

/**
 * `gatecheck judge`: the checks of a policy evaluated on a recorded run, offline; writes the
 * reports like `run` and exits like it (0 pass, 1 fail, 3 not verified; 2 bad input).
 */
export async function judgeCommand(io: CliIo, args: JudgeArgs): Promise<number> {
  const policy = loadPolicy(io, args);
  const recording = await recordingOrUsageError(io, args.observations);
  const dir = resolve(io.cwd, args.out ?? defaultReportDir(new Date()));
  await reportDirOrUsageError(dir, args.out === undefined ? 'the report directory' : '--out');
  const gate = gateOptions(io, args.gate, policy, new Date());
  const report = judgeRecording({ recording, recordingFile: args.observations, policy, policyFile: args.policy, version: VERSION, gate });
  const redactor = policyRedactor(policy);
  const written = await writeReports(report, dir, redactor, sarifSource(io, args.policy, policy));
  await printSummary(io, report, redactor);
  io.stdout.write(redactor.redact(baselineLines(gate, report)));
  io.stdout.write(`\n${writtenFiles(written)}`);
  return exitCodeFor(report.verdict);
}

async function recordingOrUsageError(io: CliIo, file: string): Promise<Recording> {
  try {
    return await readRecordingFile(resolve(io.cwd, file));
  } catch (error) {
    const why = error instanceof RecordingError ? error.message : ((error as NodeJS.ErrnoException).code ?? String(error));
    throw new UsageError(`--observations: cannot read ${file} as a recording (${why})`);
  }
}

/** --only naming a kind the policy does not ask for would silently check nothing of it: bad input. */
function checkOnlyAgainstPolicy(only: CheckKind[] | undefined, policy: Policy): void {
  if (!only) return;
  const present = kindsInPolicy(policy);
  const absent = only.filter((kind) => !present.includes(kind));
  if (absent.length === 0) return;
  const names = absent.map((kind) => `"${kind}"`).join(', ');
  throw new UsageError(`--only: the policy has no ${names} check${absent.length > 1 ? 's' : ''}; it has ${present.join(', ') || 'none'}`);
}

/** Creates the report directory and proves it writable, or says which flag to fix (exit 2). */
export async function reportDirOrUsageError(dir: string, what: string): Promise<void> {
  try {
    await prepareReportDir(dir);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file is in the way'
        : code === 'EACCES' || code === 'EROFS'
          ? 'not writable'
          : (code ?? String(error));
    throw new UsageError(`${what}: cannot write reports to ${dir} (${why}); nothing was sent`);
  }
}

/** What report.json says about --ca or --insecure (never the PEM itself). */
function tlsNote(tls: TlsArgs): NonNullable<RunReport['tls']> {
  return { insecure: tls.insecure === true, ...(tls.caFile !== undefined ? { caFile: tls.caFile } : {}) };
}

export function validateCommand(io: CliIo, args: { policy: string }): number {
  const policy = loadPolicy(io, args);
  // What the run would do, from the registry: each check's kind and plan (requests, time).
  const scheduled = scheduleChecks(policy);
  const plans = scheduled.map((s) => s.definition.plan(s.instance.spec, policy));
  const counts = CHECK_KINDS.filter((kind) => kind !== 'metrics').map(
    (kind) => `${scheduled.filter((s) => s.definition.kind === kind).length} ${kind}`,
  );
  const requests = plans.reduce((n, p) => n + p.requests, 0);
  const seconds = plans.reduce((n, p) => n + p.durationMs, 0) / 1000;
  const extra = 'plus a control request per route, retries after 429s and answer times';
  const needs = `plans ${requests} requests and ${seconds.toFixed(1)} s of waits and load (${extra})`;
  const caps = `caps: ${policy.limits.maxRequests} requests, ${policy.limits.maxDurationSec} s`;
  const api = policy.metrics?.cloudwatch.api;
  const metrics = api ? `; metrics: CloudWatch ${api.type} ${api.name ?? api.id}/${api.stage}` : '';
  const wsApi = policy.metrics?.cloudwatch.websocketApi;
  const wsMetrics = wsApi ? ` and WEBSOCKET ${wsApi.id}/${wsApi.stage}` : '';
  io.stdout.write(
    `${args.policy}: valid. ${policy.routes.length} route(s); checks: ${counts.join(', ')}${metrics}${wsMetrics}` +
      `; target: ${policy.target ?? '(none: pass --target)'}\n`,
  );
  io.stdout.write(`the run ${needs} (${caps})\n`);
  if (requests > policy.limits.maxRequests || seconds > policy.limits.maxDurationSec) {
    io.stderr.write(`gatecheck: warning: the checks need more than the run's caps (${caps}): the ones that do not fit are skipped\n`);
  }
  if (kindsInPolicy(policy).length === 0) {
    io.stderr.write(
      `gatecheck: warning: ${args.policy} asks for no checks` +
        `: add auth, cors, waf, throttle, usagePlans, quota, slo, canary or tracing to a route` +
        ` (a run would verify nothing and exit 3)\n`,
    );
  }
  return EXIT_CODES.pass;
}

export interface DemoArgs {
  out?: string;
  fault: FaultName[];
  quiet: boolean;
  /** --region, --profile, --endpoint-url, --metrics-wait: with --endpoint-url the demo reads that CloudWatch instead of the gateway's. */
  metrics?: MetricsSettings;
  /** --canary: the gateway's canary share instead of the policy's. */
  canaryPercent?: number;
}

/** The demo's CloudWatch emulator takes any SigV4 signature: static dummy credentials, never real ones. */
const DEMO_CREDENTIALS = { accessKeyId: 'AKIDGATECHECKDEMO', secretAccessKey: 'gatecheck-demo-not-a-secret' };

/**
 * The README's one-command job: the reference gateway on a free loopback port, enforcing
 * policies/demo.yaml, checked by `run` with the same file. A demo key is generated when
 * GATECHECK_DEMO_API_KEY is not set, so this works on a fresh machine.
 */
export async function demoCommand(io: CliIo, args: DemoArgs): Promise<number> {
  const env = { ...io.env, GATECHECK_DEMO_API_KEY: io.env.GATECHECK_DEMO_API_KEY || `demo-${randomBytes(16).toString('hex')}` };
  const policy = loadPolicy(io, { policy: DEMO_POLICY }, env);
  const gateway = await startGateway({
    policy,
    faults: args.fault,
    cloudwatch: policy.metrics !== undefined,
    ...(args.canaryPercent !== undefined ? { canaryPercent: args.canaryPercent } : {}),
  });
  io.stderr.write(
    `gatecheck demo: reference gateway on ${gateway.url}` +
      `${gateway.cloudwatch ? `, its CloudWatch GetMetricData on ${gateway.cloudwatch.url}` : ''}` +
      `${args.fault.length ? ` with fault(s) ${args.fault.join(', ')}` : ''}\n`,
  );
  const given = args.metrics ?? {};
  // The emulator's datapoints are complete as soon as the gateway has answered: a short wait is plenty.
  const metrics: MetricsSettings =
    given.endpoint !== undefined || !gateway.cloudwatch
      ? given
      : {
          waitSec: 5,
          poll: { firstDelayMs: 250, maxDelayMs: 1_000 },
          ...given,
          endpoint: gateway.cloudwatch.url,
          credentials: DEMO_CREDENTIALS,
        };
  try {
    return await runCommand(
      io,
      { policy: DEMO_POLICY, target: gateway.url, ...(args.out ? { out: args.out } : {}), quiet: args.quiet, metrics },
      env,
      'policies/demo.yaml (built in)',
    );
  } finally {
    await gateway.close();
  }
}

export interface ServeArgs {
  policy: string;
  port: number;
  host: string;
  fault: FaultName[];
  /** --canary: the gateway's canary share instead of the policy's. */
  canaryPercent?: number;
}

export async function serveCommand(io: CliIo, args: ServeArgs): Promise<number> {
  const policy = loadPolicy(io, args);
  const gateway = await startGateway({
    policy,
    faults: args.fault,
    host: args.host,
    port: args.port,
    cloudwatch: policy.metrics !== undefined,
    ...(args.canaryPercent !== undefined ? { canaryPercent: args.canaryPercent } : {}),
  });
  io.stdout.write(
    `gatecheck reference gateway listening on ${gateway.url}` +
      `${args.fault.length ? ` (faults: ${args.fault.join(', ')})` : ''}; Ctrl-C to stop\n`,
  );
  if (gateway.cloudwatch)
    io.stdout.write(
      `its CloudWatch GetMetricData answers on ${gateway.cloudwatch.url}` +
        ` (check with --endpoint-url ${gateway.cloudwatch.url} and any AWS credentials)\n`,
    );
  await io.stopSignal();
  await gateway.close();
  return EXIT_CODES.pass;
}

export interface MetricsArgs {
  policy: string;
  /** How far back, ms. */
  sinceMs: number;
  out?: string;
  quiet: boolean;
  metrics: MetricsSettings;
}

/**
 * `gatecheck metrics`: pulls the policy's CloudWatch metrics for the last `--since` and writes a
 * report like `run`, without sending any traffic. Exit 0 when CloudWatch has datapoints for the
 * API, 3 when it has none or the call failed, 2 on bad input.
 */
export async function metricsCommand(io: CliIo, args: MetricsArgs, now = Date.now()): Promise<number> {
  const policy = loadPolicy(io, args);
  const metrics = policy.metrics;
  if (!metrics) throw new UsageError(`${args.policy} has no \`metrics\` block: say which API's metrics to read (see docs/cloudwatch.md)`);
  const startedAt = new Date(now);
  const dir = resolve(io.cwd, args.out ?? defaultReportDir(startedAt));
  await reportDirOrUsageError(dir, args.out === undefined ? 'the report directory' : '--out');
  const redactor = policyRedactor(policy);
  const progress = progressPrinter(io, args.quiet);
  quietSdkVersionWarning(io);
  const check = await runMetricsPull({
    policy: { ...policy, metrics },
    fromMs: now - args.sinceMs,
    toMs: now,
    settings: args.metrics,
    progress: (line) => progress.line(redactor.redact(line)),
  });
  progress.done();
  const finishedAt = new Date();
  const report = withGate(
    {
      schemaVersion: REPORT_SCHEMA_VERSION,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      target: policy.target ?? '(none)',
      policyFile: args.policy,
      gatecheckVersion: VERSION,
      requestsSent: 0,
      limits: { maxRequests: policy.limits.maxRequests, maxDurationSec: policy.limits.maxDurationSec },
      notSelected: [],
      checks: [check],
    },
    policyGate(policy, startedAt),
  );
  const written = await writeReports(report, dir, redactor, sarifSource(io, args.policy, policy));
  await printSummary(io, report, redactor);
  io.stdout.write(`\n${writtenFiles(written)}`);
  return exitCodeFor(report.verdict);
}

export function faultHelp(): string {
  return Object.entries(FAULTS)
    .map(([name, text]) => `  ${name}: ${text}`)
    .join('\n');
}

/**
 * The summary table on stdout; the CI job's summary ($GITHUB_STEP_SUMMARY) gets report.md's first
 * screen: the verdict, the gate, the findings by severity and the checks.
 */
async function printSummary(io: CliIo, report: RunReport, redactor: Redactor): Promise<void> {
  io.stdout.write(redactor.redact(summaryTable(report)));
  const firstScreen = redactor.redact(renderFirstScreen(report, { links: false }));
  await appendStepSummary(io, `### gatecheck: ${report.verdict.toUpperCase()} (\`${report.policyFile}\`)\n\n${firstScreen}`);
}

/** The console table, the gate line and the verdict line (exported for its test). */
export function summaryTable(report: RunReport): string {
  // A long summary wraps onto continuation rows (at words, three at most) rather than losing its key figure.
  const rows = report.checks.flatMap((c) => {
    const [first = '', ...more] = wrapWords(summaryWithoutCounts(c), SUMMARY_WIDTH, 3);
    const status = statusText(c).replace(/^\w+/, (word) => word.toUpperCase());
    return [[c.kind, routeLabel(c), status, first], ...more.map((line) => ['', '', '', line])];
  });
  const table = rows.length ? markdownTable([['check', 'route', 'status', 'summary'], ...rows]) : '(no checks ran)';
  const aborted = report.abortReason ? ` (${report.abortReason})` : '';
  const took = `${report.requestsSent} requests in ${(report.durationMs / 1000).toFixed(1)} s`;
  const verdict = `Verdict: ${report.verdict.toUpperCase()}${aborted}  ${took}`;
  // A client-bound throttle check ends with how to get past one machine: the `export k6` command.
  const hints = report.checks.flatMap((c) => throttleK6Hint(c, report.policyFile) ?? []).map((hint) => `\n${hint}`);
  const accepted = acceptLines(report.gate).map((line) => `${line}\n`);
  return `${table}\n\n${gateLine(report.gate)}\n${verdict}\n${accepted.join('')}${hints.join('\n')}${hints.length ? '\n' : ''}`;
}

/** Characters of the summary column per console line. */
const SUMMARY_WIDTH = 90;

/** "Gate: fail on high · findings: 0 critical, 1 high, … (1 fails the gate, 1 accepted)"; acceptLines names the entries. */
function gateLine(gate: RunReport['gate']): string {
  const extra = [
    ...(gate.gating ? [`${gate.gating} fail${gate.gating === 1 ? 's' : ''} the gate`] : []),
    ...(gate.accepted.length ? [`${gate.accepted.length} accepted`] : []),
  ];
  const counts = `${severityCountsText(gate.counts)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
  return `Gate: fail on ${gate.failOn} · findings: ${counts}`;
}

export { PolicyError };

export interface BenchArgs {
  /** --target; without it, the policy's target. */
  target?: string;
  path: string;
  method: string;
  policy?: string;
  route?: string;
  /** --credential NAME: a credential of --policy, sent instead of the route's own. */
  credential?: string;
  /** --header "Name: value", parsed; sent on every request, after the credential's header. */
  headers?: Record<string, string>;
  rates?: number[];
  scenario?: string;
  saturate: boolean;
  saturateEngine: 'raw' | 'autocannon';
  durationSec: number;
  connections: number;
  workers: number;
  pipelining: number;
  out?: string;
  maxRequests: number;
  maxDuration: number;
  quiet: boolean;
  /** --ca or --insecure. */
  tls?: TlsArgs;
}

/** What bench loads, from flags or from --policy's route: where, how, with which headers. */
interface BenchRequest {
  target: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  limits: { rateLimit?: number; burstLimit?: number };
  redactor: Redactor;
  /** The next step to offer when the answers are refusals, when there is one. */
  credentialHint?: string;
}

function benchRequest(io: CliIo, args: BenchArgs): BenchRequest {
  if (!args.policy) {
    if (args.route !== undefined) throw new UsageError('--route names a route of --policy: pass --policy FILE');
    if (args.credential !== undefined) throw new UsageError('--credential names a credential of --policy: pass --policy FILE');
    if (args.target === undefined) throw new UsageError('bench needs a target: --target URL, or --policy FILE whose `target` is set');
    const redactor = new Redactor();
    for (const [name, value] of Object.entries(args.headers ?? {})) redactor.add(value, `<header ${name}>`);
    const hint = 'pass --policy FILE --credential NAME, or --header "x-api-key: …"';
    const { path, method } = args;
    return { target: args.target, path, method, headers: args.headers ?? {}, limits: {}, redactor, credentialHint: hint };
  }
  const policy = loadPolicy(io, { policy: args.policy, ...(args.target !== undefined ? { target: args.target } : {}) });
  if (policy.target === undefined) throw new UsageError(`bench needs a target: ${args.policy} has no \`target\`; pass --target URL`);
  const found = args.route !== undefined ? findRoute(policy, args.route) : { route: policy.routes[0]! };
  if ('problem' in found) throw new UsageError(`--route: ${found.problem}`);
  const route = found.route;
  const names = Object.keys(policy.credentials);
  let credential = routeCredential(policy, route);
  if (args.credential !== undefined) {
    credential = policy.credentials[args.credential];
    if (!credential) {
      const meant = nearMiss(args.credential, names);
      const known = names.length ? `(defined: ${names.join(', ')})` : '(it defines none)';
      throw new UsageError(
        `--credential: ${args.policy} has no credential "${args.credential}"${meant ? `; did you mean ${meant}?` : ''} ${known}`,
      );
    }
  }
  const redactor = policyRedactor(policy);
  for (const [name, value] of Object.entries(args.headers ?? {})) redactor.add(value, `<header ${name}>`);
  const hint = credential === undefined && names.length ? `try --credential ${names[0]}` : undefined;
  return {
    target: policy.target,
    path: route.path,
    method: route.method,
    headers: { ...route.headers, ...credentialHeaders(credential), ...args.headers },
    limits: route.throttle ?? {},
    redactor,
    ...(hint ? { credentialHint: hint } : {}),
  };
}

/**
 * `gatecheck bench`: a rate ladder on the paced engine, or saturation (raw sockets or autocannon).
 * Exit 0, or 3 when the answers were refusals (nothing accepted, or most 4xx/5xx): figures of
 * a gateway saying no must not pass for a benchmark.
 */
export async function benchCommand(io: CliIo, args: BenchArgs): Promise<number> {
  const { target, path, method, headers, limits, redactor, credentialHint } = benchRequest(io, args);
  let mode: BenchMode;
  if (args.saturate) {
    mode = {
      kind: 'saturate',
      engine: args.saturateEngine,
      connections: args.connections,
      workers: args.workers,
      pipelining: args.pipelining,
      durationSec: args.durationSec,
    };
  } else if (args.rates) {
    mode = {
      kind: 'ladder',
      phases: args.rates.map((r, i) => ({
        kind: 'rate',
        name: `step-${i + 1}`,
        fromRatePerSec: r,
        toRatePerSec: r,
        durationSec: args.durationSec,
        arrivals: 'constant',
      })),
    };
  } else {
    const name = args.scenario ?? 'step-ladder';
    let phases: ResolvedPhase[];
    try {
      phases = resolveScenario(loadScenario(name), limits);
    } catch (error) {
      throw new UsageError(`--scenario: ${(error as Error).message}`);
    }
    mode = { kind: 'ladder', phases, scenario: name };
  }
  const problem = benchPlanProblem({ mode, maxRequests: args.maxRequests, maxDurationSec: args.maxDuration });
  if (problem) throw new UsageError(problem);
  const dir = resolve(io.cwd, args.out ?? defaultReportDir(new Date()));
  await reportDirOrUsageError(dir, args.out === undefined ? 'the report directory' : '--out');
  const progress = progressPrinter(io, args.quiet);
  const caps = { maxRequests: args.maxRequests, maxDurationSec: args.maxDuration, requestTimeoutMs: 5_000, tls: args.tls };
  const report = await runBench({ target, path, method, headers, mode, ...caps, progress: progress.line, version: VERSION });
  progress.done();
  // Said even with --quiet: a figure from a cut-short run must not pass for the duration asked.
  const short = report.saturation?.shortRun;
  if (short) io.stderr.write(`gatecheck: warning: ${redactor.redact(shortRunLine(short))}\n`);
  const files = await writeBenchReport(report, dir, redactor);
  // The console gets the tables; charts are for bench.md, and the refusals warning comes once, last, on stderr.
  const tables = renderBenchMarkdown(report)
    .replace(/```mermaid[\s\S]*?```\n\n_[^\n]*_\n?/g, '')
    .replace(/^\*\*Warning: .*\*\*\n\n/m, '');
  io.stdout.write(redactor.redact(tables));
  io.stdout.write(`\nReport: ${files.markdown}\n        ${files.json}\n`);
  // Last, after the tables, where it cannot scroll away.
  const misleading = misleadingBench(benchAnswers(report), credentialHint);
  if (misleading) {
    io.stderr.write(`\ngatecheck: WARNING: ${redactor.redact(misleading)} (exit 3)\n`);
    return EXIT_CODES.error;
  }
  return EXIT_CODES.pass;
}
