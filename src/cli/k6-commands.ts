import { DEFAULT_GATE } from '../policy/types.js';
import { acceptLines, baselineFlag, gateArgs, gateFlags, gateOptions, type GateArgs } from './gate-args.js';
import { baselineLines } from './diff.js';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { markdownTable } from 'markdown-table';
import type { Argv, CommandModule } from 'yargs';
import type { CheckKind } from '../checks/types.js';
import { K6_SUPPORTED_KINDS } from '../k6/checks.js';
import { K6InputError } from '../k6/errors.js';
import { buildK6Export, ExportError, type K6Export } from '../k6/export.js';
import { capProblem, judgeK6, readK6Files, runLocalK6, type JudgeInput } from '../k6/import.js';
import { credentialEnvVars, headerTemplates, loadPolicyForK6 } from '../k6/policy.js';
import { writeK6Report } from '../k6/report.js';
import { findK6, K6_EXIT_CODES } from '../k6/run.js';
import type { InstanceResult } from '../k6/aggregate.js';
import { EXIT_CODES, exitCodeFor } from '../report/model.js';
import type { SarifSource } from '../report/sarif.js';
import { defaultReportDir } from '../report/write.js';
import { findRoute, ROUTE_FORMS } from '../policy/routes.js';
import { builtInScenarios, loadScenario, ScenarioError } from '../scenarios/scenario.js';
import { routeLabel } from '../report/status.js';
import { wrapWords } from '../util/format.js';
import { policyRedactor } from '../util/redact.js';
import { shellQuote } from '../util/shell.js';
import { loadPolicy, UsageError, VERSION, type RunArgs } from './commands.js';
import { appendStepSummary, sarifSource, writtenFiles } from './ci.js';
import { example } from './help.js';
import { progressPrinter, type CliIo } from './io.js';

/**
 * yargs modules for `gatecheck export k6` and `gatecheck import k6`, so cli/main.ts registers
 * each with one `.command(...)` line. `k6` is a positional so other engines can follow.
 */
type SetExit = (code: number) => void;
type Usage = (message: string) => never;

export function exportCommandModule(io: CliIo, argv: string[], setExit: SetExit, usage: Usage): CommandModule {
  return {
    command: 'export <engine>',
    describe: "Translate the policy's load probes into a k6 script and k6-operator manifests",
    builder: (y: Argv) =>
      y
        .positional('engine', { choices: ['k6'] as const, describe: 'Engine to export for' })
        .option('policy', { type: 'string', demandOption: true, describe: 'Policy file (YAML or JSON)' })
        .option('out', { type: 'string', demandOption: true, describe: 'Directory for the script, the manifests and a README.md' })
        .option('scenario', {
          type: 'string',
          describe:
            `Scenario to translate for each route instead of the policy's own probes` +
            ` (built in: ${builtInScenarios().join(', ')}; or a file)`,
        })
        .option('route', { type: 'string', array: true, describe: `Export only this route: ${ROUTE_FORMS}; repeatable` })
        .option('parallelism', {
          type: 'number',
          default: 1,
          describe: 'k6-operator pods; each runs its execution segment of every scenario',
        })
        .option('separate', { type: 'boolean', default: false, describe: 'One runner pod per node (TestRun spec.separate)' })
        .option('target', {
          type: 'string',
          describe: "Base URL written as the script's default (GATECHECK_TARGET overrides it at run time)",
        })
        .option('name', { type: 'string', describe: 'Name of the TestRun and its objects [default: gatecheck-<policy file name>]' })
        .option('namespace', { type: 'string', describe: 'Kubernetes namespace of the objects' })
        .option('secret', {
          type: 'string',
          describe: 'Secret holding the credentials, one key per environment variable [default: <name>-credentials]',
        })
        .option('image', { type: 'string', describe: "k6 runner image [default: the operator's]" })
        .option('storage-class', { type: 'string', describe: 'Storage class of the results volume (needs ReadWriteMany)' })
        .option('expected-latency-ms', {
          type: 'number',
          describe: "Response time used to size preAllocatedVUs [default: the route's slo.p99Ms, else 250]",
        })
        .example(
          ...example('$0 export k6 --policy api.yaml --parallelism 4 --out k6/', 'script + TestRun for 4 pods; then kubectl apply -f k6/'),
        )
        .example(
          ...example(
            '$0 export k6 --policy api.yaml --scenario step-ladder --route "GET /api/items" --out k6/',
            'a load shape for one route',
          ),
        ),
    handler: async (raw) => {
      const args = raw as unknown as Record<string, unknown>;
      const parallelism = args.parallelism as number;
      if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 1000)
        usage(`--parallelism: must be a whole number from 1 to 1000, got ${parallelism}`);
      const latency = args['expected-latency-ms'] as number | undefined;
      if (latency !== undefined && !(latency > 0)) usage(`--expected-latency-ms: must be > 0, got ${latency}`);
      setExit(
        await exportK6Command(
          io,
          {
            policy: args.policy as string,
            out: args.out as string,
            parallelism,
            separate: args.separate as boolean,
            ...pick(args, {
              scenario: 'scenario',
              route: 'route',
              target: 'target',
              name: 'name',
              namespace: 'namespace',
              secret: 'secret',
              image: 'image',
              storageClass: 'storage-class',
              expectedLatencyMs: 'expected-latency-ms',
            }),
          },
          argv,
        ),
      );
    },
  };
}

export function importCommandModule(
  io: CliIo,
  setExit: SetExit,
  usage: Usage,
  parseOnly: (value: string | undefined) => CheckKind[] | undefined,
): CommandModule {
  return {
    command: 'import <engine> <files..>',
    describe: 'Read the results of one or more k6 instances (NDJSON points, .gz, or summaries), merge them and write the report',
    builder: (y: Argv) =>
      // The gate flags judge results: import takes them, export (which judges nothing) does not.
      baselineFlag(gateFlags(y))
        .positional('engine', { choices: ['k6'] as const, describe: 'Engine whose results these are' })
        .positional('files', {
          type: 'string',
          array: true,
          describe: 'k6 --out json files (plain or .gz), --summary-export files, handleSummary() JSON or machine-readable summaries',
        })
        // A variadic positional gets a default of [] from yargs, shown as "[required] [default: []]": nonsense.
        .default('files', undefined)
        .option('policy', {
          type: 'string',
          describe: 'Policy to judge the results against (throttle fit, slo); without it only the k6 thresholds are judged',
        })
        .option('out', { type: 'string', describe: 'Directory for report.md, report.json and junit.xml [default: reports/<timestamp>/]' })
        .option('target', { type: 'string', describe: "Target shown in the report [default: the policy's]" })
        .option('only', { type: 'string', describe: 'Comma-separated check kinds to report (throttle,slo)' })
        .option('window-ms', { type: 'number', default: 100, describe: 'Timeline window in ms' })
        .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
        .example(
          ...example('$0 import k6 results/*.ndjson.gz results/*.summary.json --policy api.yaml', 'merge the pods of a k6-operator run'),
        ),
    handler: async (raw) => {
      const args = raw as unknown as Record<string, unknown>;
      const windowMs = args['window-ms'] as number;
      if (!Number.isInteger(windowMs) || windowMs < 1) usage(`--window-ms: must be a whole number ≥ 1, got ${windowMs}`);
      const only = parseOnly(args.only as string | undefined);
      setExit(
        await importK6Command(io, {
          files: (args.files as unknown[]).map(String),
          quiet: args.quiet as boolean,
          windowMs,
          ...(only ? { only } : {}),
          ...pick(args, { policy: 'policy', out: 'out', target: 'target' }),
          gate: gateArgs(args),
        }),
      );
    },
  };
}

function pick<M extends Record<string, string>>(args: Record<string, unknown>, map: M): { [K in keyof M]?: never } {
  const out: Record<string, unknown> = {};
  for (const [key, flag] of Object.entries(map)) if (args[flag] !== undefined) out[key] = args[flag];
  return out as { [K in keyof M]?: never };
}

/**
 * The CLI side of the k6 engine: `export k6`, `import k6` and `run --engine k6`. src/k6 returns
 * data (an export, a judgement, a run's outcome); here it meets the process (through CliIo),
 * the terminal and exit codes.
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
  const { policy, credentialEnv, headerTemplates } = loadPolicyForK6(resolve(io.cwd, args.policy), io.env, args.target);
  const scenario = args.scenario !== undefined ? loadScenarioOrUsage(args.scenario) : undefined;
  // The same forms as `bench --route`, resolved here so a route that is not there is bad input (exit 2).
  const routes = args.route?.map((given) => {
    const found = findRoute(policy, given);
    if ('problem' in found) throw new UsageError(`--route: ${found.problem}`);
    return found.route.id;
  });
  const built = exportOrUsage('export k6', () =>
    buildK6Export({
      policy,
      policyFile: args.policy,
      credentialEnv,
      headerTemplates,
      gatecheckVersion: VERSION,
      parallelism: args.parallelism,
      command: ['gatecheck', ...argv].map(shellQuote).join(' '),
      ...opt('scenario', scenario),
      ...opt('routes', routes),
      ...opt('separate', args.separate),
      ...opt('name', args.name),
      ...opt('namespace', args.namespace),
      ...opt('secretName', args.secret),
      ...opt('image', args.image),
      ...opt('storageClass', args.storageClass),
      ...opt('expectedLatencyMs', args.expectedLatencyMs),
    }),
  );
  const dir = resolve(io.cwd, args.out);
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(built.files)) await writeFile(join(dir, name), content);
  for (const warning of built.warnings) io.stderr.write(`gatecheck: warning: ${warning}\n`);
  const rows = built.plan.phases.map((p) => {
    const probe = p.plan !== undefined ? `${p.probe} (plan ${p.plan})` : p.probe;
    return [p.scenario, p.route.id, probe, loadText(p.phase), `${(p.startMs / 1000).toFixed(1)} s`];
  });
  io.stdout.write(`${markdownTable([['k6 scenario', 'route', 'probe', 'load', 'start'], ...rows])}\n\n`);
  io.stdout.write(
    `Wrote ${Object.keys(built.files)
      .sort()
      .map((f) => join(args.out, f))
      .join(', ')}\n`,
  );
  const readme = join(args.out, 'README.md');
  const steps = `create the Secret ${built.secretName} then \`kubectl apply -f ${args.out}\`; see ${readme}`;
  io.stdout.write(`Kubernetes (k6-operator, ${args.parallelism} pod(s)): ${steps}.\n`);
  return EXIT_CODES.pass;
}

function loadText(phase: K6Export['plan']['phases'][number]['phase']): string {
  if (phase.kind === 'volley') return `volley of ${phase.requests}`;
  const to = phase.toRatePerSec !== phase.fromRatePerSec ? `→${phase.toRatePerSec}` : '';
  return `${phase.fromRatePerSec}${to}/s for ${phase.durationSec} s`;
}

export interface ImportArgs {
  files: string[];
  policy?: string;
  out?: string;
  target?: string;
  only?: CheckKind[];
  windowMs?: number;
  quiet: boolean;
  gate?: GateArgs;
}

export async function importK6Command(io: CliIo, args: ImportArgs): Promise<number> {
  const loaded = args.policy !== undefined ? loadPolicyForK6(resolve(io.cwd, args.policy), io.env, args.target) : undefined;
  const startedAt = new Date();
  const progress = progressPrinter(io, args.quiet);
  let instances: InstanceResult[];
  try {
    // Paths in the report as the user gave them.
    const files = args.files.map((file) => ({ path: resolve(io.cwd, file), label: file }));
    instances = await readK6Files(files, args.windowMs ?? 100, (file) => progress.line(`reading ${file.label}`));
  } catch (error) {
    progress.done();
    if (error instanceof K6InputError) {
      io.stderr.write(`gatecheck: cannot read k6 results: ${error.message}\n`);
      return EXIT_CODES.badInput;
    }
    throw error;
  }
  progress.done();
  const gatePolicy = loaded?.policy ?? { gate: { failOn: DEFAULT_GATE } };
  const input = {
    gate: gateOptions(io, args.gate, gatePolicy, startedAt),
    ...opt('policy', loaded?.policy),
    policyLabel: args.policy ?? '(none)',
    startedAt,
    ...opt('only', args.only),
    ...opt('target', args.target),
    version: VERSION,
  };
  const sarif = loaded && args.policy !== undefined ? sarifSource(io, args.policy, loaded.policy) : undefined;
  return judgeAndReport(io, instances, input, args.out, sarif);
}

async function judgeAndReport(
  io: CliIo,
  instances: InstanceResult[],
  input: JudgeInput,
  out: string | undefined,
  sarif: SarifSource | undefined,
): Promise<number> {
  const { merged, checks, report } = judgeK6(instances, input);
  const redactor = policyRedactor(input.policy);
  const dir = resolve(io.cwd, out ?? defaultReportDir(input.startedAt));
  const written = await writeK6Report(report, merged, dir, redactor, sarif);
  // A usage plan's check shows its plan after the route; a long summary wraps at words, as `run` prints it.
  const rows = checks.flatMap((c) => {
    const [first = '', ...more] = wrapWords(c.summary, 90, 3);
    return [[c.kind, routeLabel(c), c.status.toUpperCase(), first], ...more.map((line) => ['', '', '', line])];
  });
  const none = 'No checks: the files hold no thresholds and no --policy was given, so there is nothing to judge (exit 3).\n';
  const table = redactor.redact(rows.length ? `${markdownTable([['check', 'route', 'status', 'summary'], ...rows])}\n` : none);
  io.stdout.write(table);
  const approximate = merged.source === 'summaries' && instances.length > 1 ? ' (percentiles approximate: summaries only)' : '';
  const totals = `${report.k6.instances.length} file(s), ${report.k6.requests} requests${approximate}`;
  const accepted = acceptLines(report.gate).map((line) => `${line}\n`);
  const verdict = `k6: ${totals}. Verdict: ${report.verdict.toUpperCase()}\n${accepted.join('')}`;
  io.stdout.write(`\n${verdict}`);
  io.stdout.write(redactor.redact(baselineLines(input.gate ?? {}, report)));
  io.stdout.write(writtenFiles(written));
  await appendStepSummary(io, `### gatecheck (k6): ${report.verdict.toUpperCase()}\n\n${table}\n${verdict}`);
  return exitCodeFor(report.verdict);
}

/** `gatecheck run --engine k6`: the same probes through a local k6, judged by the same checks. */
export async function runK6EngineCommand(io: CliIo, args: RunArgs): Promise<number> {
  const binary = await findK6(io.env.PATH, process.platform);
  if (!binary) {
    io.stderr.write(
      'gatecheck: --engine k6 needs the k6 binary on PATH, and there is none.\n' +
        '  Install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/), or run the default engine (--engine paced),\n' +
        '  or export the probes and run them elsewhere: gatecheck export k6 --policy ' +
        shellQuote(args.policy) +
        ' --out k6-export\n',
    );
    return EXIT_CODES.badInput;
  }
  const policy = loadPolicy(io, args);
  const target = policy.target;
  if (target === undefined) throw new UsageError('no target: set `target` in the policy or pass --target URL');
  const policyText = readFileSync(resolve(io.cwd, args.policy), 'utf8');
  const credentialEnv = credentialEnvVars(policyText, policy);
  const headers = headerTemplates(policyText, policy);
  const command = `gatecheck run --engine k6 --policy ${shellQuote(args.policy)}`;
  const exportInput = {
    policy,
    policyFile: args.policy,
    credentialEnv,
    headerTemplates: headers,
    gatecheckVersion: VERSION,
    parallelism: 1,
    command,
  };
  const built = exportOrUsage('--engine k6', () => buildK6Export(exportInput));
  const tooBig = capProblem(built, policy);
  if (tooBig) throw new UsageError(`--engine k6: ${tooBig}`);

  const startedAt = new Date();
  // Before k6 sends anything: a bad --accept or --baseline file is bad input (exit 2).
  const gate = gateOptions(io, args.gate, policy, startedAt);
  const out = resolve(io.cwd, args.out ?? defaultReportDir(startedAt));
  const redactor = policyRedactor(policy);
  const onOutput = (text: string) => {
    if (!args.quiet) io.stderr.write(redactor.redact(text));
  };
  const about = `${built.plan.phases.length} scenarios, about ${Math.ceil(built.plan.totalMs / 1000)} s`;
  if (!args.quiet) io.stderr.write(`gatecheck: running ${binary} (${about})\n`);
  const local = { binary, built, policy: { ...policy, target }, credentialEnv, out, env: io.env, quiet: args.quiet, onOutput };
  const run = await runLocalK6(local);
  if (!run.ok) {
    const exitMeaning = K6_EXIT_CODES[run.exitCode ?? -1] ?? 'unknown';
    const messages: Record<typeof run.problem, string> = {
      spawn: `could not start k6 (${binary}): ${run.message}`,
      'k6-exit': `k6 exited with ${run.exitCode} (${exitMeaning}): nothing verified. Script: ${run.script}`,
      'no-points': `${run.message}: nothing verified`,
      unreadable: `cannot read k6's output: ${run.message}`,
    };
    io.stderr.write(`gatecheck: ${messages[run.problem]}\n`);
    return run.problem === 'spawn' ? EXIT_CODES.badInput : EXIT_CODES.error;
  }
  const kinds = K6_SUPPORTED_KINDS.join(' and ');
  if (!args.quiet) io.stderr.write(`gatecheck: the k6 engine checks ${kinds}; other kinds are reported as skipped\n`);
  const input = { policy, policyLabel: args.policy, startedAt, ...opt('only', args.only), target, version: VERSION, gate };
  return judgeAndReport(io, run.instances, input, out, sarifSource(io, args.policy, policy));
}

function exportOrUsage(what: string, build: () => K6Export): K6Export {
  try {
    return build();
  } catch (error) {
    if (error instanceof ExportError) throw new UsageError(`${what}: ${error.message}`);
    throw error;
  }
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
