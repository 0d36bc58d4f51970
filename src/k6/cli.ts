import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { markdownTable } from 'markdown-table';
import type { CheckKind } from '../checks/types.js';
import { loadPolicy, UsageError, VERSION, type RunArgs } from '../cli/commands.js';
import { progressPrinter, type CliIo } from '../cli/io.js';
import { DEFAULT_LIMITS, type Policy } from '../policy/types.js';
import { EXIT_CODES, exitCodeFor } from '../report/model.js';
import { defaultReportDir } from '../report/write.js';
import { loadScenario, phaseRequestCount, ScenarioError } from '../scenarios/scenario.js';
import { Redactor } from '../util/redact.js';
import type { InstanceResult } from './aggregate.js';
import { K6_SUPPORTED_KINDS, k6Checks } from './checks.js';
import { K6InputError } from './errors.js';
import { buildK6Export, ExportError, SCRIPT_FILE } from './export.js';
import { mergeInstances } from './merge.js';
import { shellQuote } from './names.js';
import { planK6 } from './plan.js';
import { credentialEnvVars, loadPolicyForK6 } from './policy.js';
import { readK6File } from './read.js';
import { buildK6Report, writeK6Report, type K6RunReport } from './report.js';
import { findK6, K6_EXIT_CODES, runK6 } from './run.js';

/**
 * The CLI layer of the k6 engine: `export k6`, `import k6` and `run --engine k6`. Like
 * cli/commands.ts, it is the only k6 code that sees the process (through CliIo) and exit codes.
 */
export interface ExportArgs {
  policy: string;
  out: string;
  scenario?: string;
  route?: string[];
  parallelism: number;
  separate?: boolean;
  target?: string;
  name?: string;
  namespace?: string;
  secret?: string;
  image?: string;
  storageClass?: string;
  expectedLatencyMs?: number;
}

export async function exportK6Command(io: CliIo, args: ExportArgs, argv: string[] = []): Promise<number> {
  const { policy, credentialEnv } = loadPolicyForK6(resolve(io.cwd, args.policy), io.env, args.target);
  const scenario = args.scenario !== undefined ? loadScenarioOrUsage(args.scenario) : undefined;
  let built;
  try {
    built = buildK6Export({
      policy,
      policyFile: args.policy,
      credentialEnv,
      gatecheckVersion: VERSION,
      parallelism: args.parallelism,
      command: ['gatecheck', ...argv].map(shellQuote).join(' '),
      ...opt('scenario', scenario),
      ...opt('routes', args.route),
      ...opt('separate', args.separate),
      ...opt('name', args.name),
      ...opt('namespace', args.namespace),
      ...opt('secretName', args.secret),
      ...opt('image', args.image),
      ...opt('storageClass', args.storageClass),
      ...opt('expectedLatencyMs', args.expectedLatencyMs),
    });
  } catch (error) {
    if (error instanceof ExportError) throw new UsageError(`export k6: ${error.message}`);
    throw error;
  }
  const dir = resolve(io.cwd, args.out);
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(built.files)) await writeFile(join(dir, name), content);
  for (const warning of built.warnings) io.stderr.write(`gatecheck: warning: ${warning}\n`);
  const rows = built.plan.phases.map((p) => [p.scenario, p.route.id, p.probe, p.phase.kind === 'volley' ? `volley of ${p.phase.requests}` : `${p.phase.fromRatePerSec}${p.phase.toRatePerSec !== p.phase.fromRatePerSec ? `→${p.phase.toRatePerSec}` : ''}/s for ${p.phase.durationSec} s`, `${(p.startMs / 1000).toFixed(1)} s`]);
  io.stdout.write(`${markdownTable([['k6 scenario', 'route', 'probe', 'load', 'start'], ...rows])}\n\n`);
  io.stdout.write(`Wrote ${Object.keys(built.files).sort().map((f) => join(args.out, f)).join(', ')}\n`);
  io.stdout.write(`Kubernetes (k6-operator, ${args.parallelism} pod(s)): create the Secret ${built.secretName} then \`kubectl apply -f ${args.out}\`; see ${join(args.out, 'README.md')}.\n`);
  return EXIT_CODES.pass;
}

export interface ImportArgs {
  files: string[];
  policy?: string;
  out?: string;
  target?: string;
  only?: CheckKind[];
  windowMs?: number;
  quiet: boolean;
}

export async function importK6Command(io: CliIo, args: ImportArgs): Promise<number> {
  const loaded = args.policy !== undefined ? loadPolicyForK6(resolve(io.cwd, args.policy), io.env, args.target) : undefined;
  const startedAt = new Date();
  const progress = progressPrinter(io, args.quiet);
  const instances: InstanceResult[] = [];
  try {
    for (const file of args.files) {
      progress.line(`reading ${file}`);
      instances.push(await readK6File(resolve(io.cwd, file), { windowMs: args.windowMs ?? 100 }));
    }
  } catch (error) {
    progress.done();
    if (error instanceof K6InputError) {
      io.stderr.write(`gatecheck: cannot read k6 results: ${error.message}\n`);
      return EXIT_CODES.badInput;
    }
    throw error;
  }
  progress.done();
  // Paths in the report as the user gave them.
  instances.forEach((instance, i) => (instance.file = args.files[i]!));
  return judgeAndReport(io, instances, { ...opt('policy', loaded?.policy), policyLabel: args.policy ?? '(none)', startedAt, ...opt('out', args.out), ...opt('only', args.only), ...opt('target', args.target) });
}

interface JudgeOptions {
  policy?: Policy;
  policyLabel: string;
  startedAt: Date;
  out?: string;
  only?: CheckKind[];
  target?: string;
}

async function judgeAndReport(io: CliIo, instances: InstanceResult[], o: JudgeOptions): Promise<number> {
  const extraThresholds = o.policy ? planK6(o.policy.routes, { requestTimeoutMs: o.policy.limits.requestTimeoutMs }).thresholds : {};
  const merged = mergeInstances(instances, { extraThresholds });
  const checks = k6Checks(merged, { ...opt('policy', o.policy), policyFile: o.policyLabel, ...opt('only', o.only) });
  const policy = o.policy;
  const report: K6RunReport = buildK6Report({
    merged,
    checks,
    policyFile: o.policyLabel,
    target: o.target ?? policy?.target ?? '(from the k6 results)',
    version: VERSION,
    startedAt: o.startedAt,
    finishedAt: new Date(),
    limits: { maxRequests: (policy ?? { limits: DEFAULT_LIMITS }).limits.maxRequests, maxDurationSec: (policy ?? { limits: DEFAULT_LIMITS }).limits.maxDurationSec },
    ...(o.only ? { notSelected: ['auth', 'cors', 'waf', 'throttle', 'slo'].filter((k) => !o.only!.includes(k as CheckKind)) } : {}),
  });
  const redactor = new Redactor(policy ? Object.values(policy.credentials) : []);
  const dir = resolve(io.cwd, o.out ?? defaultReportDir(o.startedAt));
  const written = await writeK6Report(report, merged, dir, redactor);
  const rows = checks.map((c) => [c.kind, c.route, c.status.toUpperCase(), c.summary.length > 90 ? `${c.summary.slice(0, 89)}…` : c.summary]);
  io.stdout.write(redactor.redact(rows.length ? `${markdownTable([['check', 'route', 'status', 'summary'], ...rows])}\n` : 'No checks: the files hold no thresholds and no --policy was given, so there is nothing to judge (exit 3).\n'));
  io.stdout.write(`\nk6: ${report.k6.instances.length} file(s), ${report.k6.requests} requests${merged.source === 'summaries' && instances.length > 1 ? ' (percentiles approximate: summaries only)' : ''}. Verdict: ${report.verdict.toUpperCase()}\n`);
  io.stdout.write(`Report: ${written.files.markdown}\n        ${written.files.json}\n        ${written.files.junit}\n`);
  return exitCodeFor(report.verdict);
}

/** `gatecheck run --engine k6`: the same probes through a local k6, judged by the same checks. */
export async function runK6EngineCommand(io: CliIo, args: RunArgs): Promise<number> {
  const binary = await findK6(io.env.PATH);
  if (!binary) {
    io.stderr.write(
      'gatecheck: --engine k6 needs the k6 binary on PATH, and there is none.\n' +
        '  Install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/), or run the default engine (--engine paced),\n' +
        '  or export the probes and run them elsewhere: gatecheck export k6 --policy ' + shellQuote(args.policy) + ' --out k6-export\n',
    );
    return EXIT_CODES.badInput;
  }
  const policy = loadPolicy(io, args);
  if (policy.target === undefined) throw new UsageError('no target: set `target` in the policy or pass --target URL');
  const credentialEnv = credentialEnvVars(readFileSync(resolve(io.cwd, args.policy), 'utf8'), policy);
  let built;
  try {
    built = buildK6Export({ policy, policyFile: args.policy, credentialEnv, gatecheckVersion: VERSION, parallelism: 1, command: `gatecheck run --engine k6 --policy ${shellQuote(args.policy)}` });
  } catch (error) {
    if (error instanceof ExportError) throw new UsageError(`--engine k6: ${error.message}`);
    throw error;
  }
  const planned = built.plan.phases.reduce((n, p) => n + phaseRequestCount(p.phase), 0);
  if (planned > policy.limits.maxRequests) throw new UsageError(`--engine k6: the k6 probes would send about ${planned} requests, above the cap of ${policy.limits.maxRequests} (raise --max-requests or limits.maxRequests)`);
  if (built.plan.totalMs / 1000 > policy.limits.maxDurationSec) throw new UsageError(`--engine k6: the k6 probes take about ${Math.ceil(built.plan.totalMs / 1000)} s, above the cap of ${policy.limits.maxDurationSec} s (raise --max-duration)`);

  const startedAt = new Date();
  const out = resolve(io.cwd, args.out ?? defaultReportDir(startedAt));
  const work = join(out, 'k6');
  await mkdir(work, { recursive: true });
  const script = join(work, SCRIPT_FILE);
  const points = join(work, 'points.ndjson.gz');
  const summary = join(work, 'summary-export.json');
  await writeFile(script, built.files[SCRIPT_FILE]!);

  const redactor = new Redactor(Object.values(policy.credentials));
  const env: Record<string, string | undefined> = { ...io.env, GATECHECK_TARGET: policy.target };
  for (const c of Object.values(credentialEnv)) if (c.derived) env[c.envVar] = policy.credentials[c.credential]!.value;
  const sink = (text: string) => {
    if (!args.quiet) io.stderr.write(redactor.redact(text));
  };
  if (!args.quiet) io.stderr.write(`gatecheck: running ${binary} (${built.plan.phases.length} scenarios, about ${Math.ceil(built.plan.totalMs / 1000)} s)\n`);
  const k6Args = ['run', '--out', `json=${points}`, '--summary-export', summary, ...(args.quiet ? ['--quiet'] : []), script];
  const run = await runK6(binary, k6Args, env, work, { stdout: sink, stderr: sink });
  if (run.spawnError) {
    io.stderr.write(`gatecheck: could not start k6 (${binary}): ${run.spawnError}\n`);
    return EXIT_CODES.badInput;
  }
  if (run.exitCode !== 0 && run.exitCode !== 99) {
    io.stderr.write(`gatecheck: k6 exited with ${run.exitCode} (${K6_EXIT_CODES[run.exitCode] ?? 'unknown'}): nothing verified. Script: ${script}\n`);
    return EXIT_CODES.error;
  }
  const files = [points, summary].filter((f) => existsSync(f));
  if (!files.includes(points)) {
    io.stderr.write(`gatecheck: k6 finished but wrote no points to ${points}: nothing verified\n`);
    return EXIT_CODES.error;
  }
  const instances: InstanceResult[] = [];
  try {
    for (const file of files) instances.push(await readK6File(file));
  } catch (error) {
    if (error instanceof K6InputError) {
      io.stderr.write(`gatecheck: cannot read k6's output: ${error.message}\n`);
      return EXIT_CODES.error;
    }
    throw error;
  }
  instances.forEach((i) => (i.file = i.file.startsWith(out) ? i.file.slice(out.length + 1) : i.file));
  const only = args.only ?? (['auth', 'cors', 'waf', 'throttle', 'slo'] as CheckKind[]);
  if (!args.quiet) io.stderr.write(`gatecheck: the k6 engine checks ${K6_SUPPORTED_KINDS.join(' and ')}; other kinds are reported as skipped\n`);
  return judgeAndReport(io, instances, { policy, policyLabel: args.policy, startedAt, out, only, target: policy.target });
}

function loadScenarioOrUsage(name: string) {
  try {
    return loadScenario(name);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(`--scenario: ${error.message}`);
    throw error;
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
