import { baselineFlag, gateArgs, gateFlags } from './gate-args.js';
import { diffCommandModule } from './diff.js';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import type { CheckKind } from '../checks/types.js';
import { FAULT_NAMES, type FaultName } from '../gateway/faults.js';
import { PolicyError } from '../policy/errors.js';
import { targetProblem } from '../policy/load.js';
import { ROUTE_FORMS } from '../policy/routes.js';
import { EXIT_CODES } from '../report/model.js';
import { ReportFileError } from '../report/read.js';
import { SELECTABLE_KINDS } from '../run/run-policy.js';
import type { MetricsSettings } from '../checks/metrics/cloudwatch-read.js';
import {
  benchCommand,
  demoCommand,
  faultHelp,
  judgeCommand,
  metricsCommand,
  runCommand,
  serveCommand,
  UsageError,
  validateCommand,
  VERSION,
} from './commands.js';
import type { TlsArgs } from './commands.js';
import { example, humanUsageMessage } from './help.js';
import { apiRefFromFlags, initCommand, type AwsApiFlags } from './aws-commands.js';
import type { AwsConnection } from '../aws/read.js';
import { processIo, type CliIo } from './io.js';
import { exportCommandModule, importCommandModule, runK6EngineCommand } from './k6-commands.js';

/**
 * Parses argv, runs one command, returns the exit code: 0 pass, 1 fail, 2 bad input,
 * 3 could not verify. The only place exit codes and process I/O meet the rest of gatecheck.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT_CODES.pass;
  const usage = (message: string): never => {
    throw new UsageError(message);
  };
  const parser = buildParser(io, argv, (code) => (exitCode = code), usage);
  try {
    // With a callback yargs hands --help and --version text over instead of printing it to the
    // console: it goes to io.stdout like everything else (and in-process tests can read it).
    let output = '';
    await parser.parseAsync(argv, {}, (_error, _argv, text) => {
      output = text;
    });
    if (output) io.stdout.write(`${output}\n`);
    return exitCode;
  } catch (error) {
    if (error instanceof PolicyError) {
      io.stderr.write(
        `gatecheck: invalid policy (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'})` +
          `; no request was sent\n${error.message}\n`,
      );
      return EXIT_CODES.badInput;
    }
    if (error instanceof UsageError || error instanceof ReportFileError) {
      io.stderr.write(`gatecheck: ${error.message}\nRun with --help for usage.\n`);
      return EXIT_CODES.badInput;
    }
    // A bug in gatecheck, not the user's input: one line, the stack only when asked for.
    const message = error instanceof Error ? error.message : String(error);
    const stack = io.env.GATECHECK_DEBUG && error instanceof Error ? `\n${error.stack ?? ''}` : '';
    io.stderr.write(`gatecheck: internal error: ${message} (set GATECHECK_DEBUG=1 for the stack trace)${stack}\n`);
    return EXIT_CODES.error;
  }
}

function buildParser(io: CliIo, argv: string[], setExit: (code: number) => void, usage: (message: string) => never): Argv {
  const commonRun = (y: Argv) =>
    y
      .option('target', { type: 'string', describe: "Base URL of the gateway; overrides the policy's target" })
      .option('out', {
        type: 'string',
        describe: 'Directory for the reports: report.md, report.json, report.sarif, junit.xml [default: reports/<timestamp>/]',
      })
      .option('only', {
        type: 'string',
        describe: `Comma-separated check kinds to run, e.g. auth,cors (of: ${SELECTABLE_KINDS.join(', ')})`,
      })
      .option('max-requests', { type: 'number', describe: 'Request cap for the whole run (overrides limits.maxRequests)' })
      .option('max-duration', { type: 'number', describe: 'Time cap in seconds for the whole run (overrides limits.maxDurationSec)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' });
  // As the AWS CLI spells them; credentials come from the SDK's default chain.
  const cloudWatchFlags = <T>(y: Argv<T>) =>
    y
      .option('region', { type: 'string', describe: "AWS Region of the API's CloudWatch metrics (overrides metrics.cloudwatch.region)" })
      .option('profile', { type: 'string', describe: 'AWS profile for the CloudWatch credentials (like AWS_PROFILE)' })
      .option('endpoint-url', { type: 'string', describe: 'CloudWatch endpoint URL (an emulator; overrides metrics.cloudwatch.endpoint)' })
      .option('metrics-wait', {
        type: 'number',
        describe: 'Longest wait in seconds for late CloudWatch datapoints (overrides metrics.waitSec)',
      });
  // The target's certificate only: CloudWatch is reached through the AWS SDK's own trust.
  const tlsFlags = <T>(y: Argv<T>) =>
    y
      .option('ca', { type: 'string', describe: "PEM file of CA certificates to trust for an https:// target, besides the system's" })
      .option('insecure', { type: 'boolean', describe: "Do not verify the target's TLS certificate (run: the report says so)" });

  // Which API stage's AWS configuration to read (init --from-aws, run --drift); --region, --profile, --endpoint-url reach it.
  const apiFlags = <T>(y: Argv<T>) =>
    y
      .option('rest-api-id', { type: 'string', describe: 'REST API id (API Gateway v1) whose configuration to read' })
      .option('api-id', { type: 'string', describe: 'HTTP API id (API Gateway v2) whose configuration to read' })
      .option('stage', { type: 'string', describe: 'Stage name of that API, e.g. prod or $default' });

  return yargs(argv)
    .scriptName('gatecheck')
    .usage(
      '$0 <command> [options]\n\nVerifies from outside that an API gateway enforces its throttling, CORS, auth, WAF and latency policy.',
    )
    .command(
      'run',
      'Run every check the policy asks for and write the reports',
      (y) =>
        apiFlags(baselineFlag(gateFlags(tlsFlags(cloudWatchFlags(commonRun(y))))))
          .option('policy', { type: 'string', demandOption: true, describe: 'Policy file (YAML or JSON)' })
          .option('drift', {
            type: 'boolean',
            describe:
              'Also read what AWS is configured to enforce (--rest-api-id or --api-id, --stage; --region, --profile, ' +
              '--endpoint-url) and report where it differs from the policy and the measurement',
          })
          .option('engine', {
            choices: ['paced', 'k6'] as const,
            default: 'paced' as const,
            describe: "Load engine: gatecheck's own paced engine, or k6 from PATH (throttle and slo checks only)",
          })
          .option('record', {
            type: 'string',
            describe: "Also write every observation and each check's notes to FILE (NDJSON, credentials redacted) for `gatecheck judge`",
          })
          .example(
            ...example('$0 run --policy policies/examples/nginx-modsecurity.yaml --target http://127.0.0.1:8080', 'check a local nginx'),
          )
          .example(...example('GATECHECK_API_KEY=... $0 run --policy api.yaml --only auth,cors', 'only the auth and CORS checks'))
          .example(...example('$0 run --policy api.yaml --target https://127.0.0.1:8443 --ca dev-ca.pem', 'a gateway with a private CA'))
          .example(...example('$0 run --policy api.yaml --record run.ndjson', "keep the run's observations to judge them again (`judge`)"))
          .example(
            ...example('$0 run --policy api.yaml --baseline reports/main/report.json', 'only findings the main branch did not have fail'),
          )
          .example(
            ...example(
              '$0 run --policy api.yaml --drift --rest-api-id a1b2c3d4e5 --stage prod',
              'policy, AWS configuration and measurement side by side',
            ),
          ),
      async (args) => {
        const only = parseOnly(args.only, usage);
        checkRunFlags(args, usage);
        const tls = tlsArgs(io, args, usage);
        const drift = driftArgs(args, usage);
        if (args.engine === 'k6') {
          if (drift) usage('--drift applies to the paced engine; --engine k6 does not take it');
          if (tls) usage('--ca and --insecure apply to the paced engine; --engine k6 does not take them');
          if (args.record !== undefined) usage('--record applies to the paced engine; --engine k6 does not take it');
          setExit(
            await runK6EngineCommand(io, {
              policy: args.policy,
              quiet: args.quiet,
              ...opt('target', args.target),
              ...opt('out', args.out),
              ...opt('only', only),
              ...opt('maxRequests', args['max-requests']),
              ...opt('maxDuration', args['max-duration']),
              gate: gateArgs(args),
            }),
          );
          return;
        }
        const metrics = metricsSettings(args, usage);
        const flags = {
          ...opt('target', args.target),
          ...opt('out', args.out),
          ...opt('only', only),
          ...opt('tls', tls),
          ...opt('record', args.record),
          ...opt('drift', drift),
          gate: gateArgs(args),
        };
        const caps = { ...opt('maxRequests', args['max-requests']), ...opt('maxDuration', args['max-duration']) };
        setExit(await runCommand(io, { policy: args.policy, quiet: args.quiet, metrics, ...flags, ...caps }));
      },
    )
    .command(
      'judge',
      'Judge a recorded run (run --record) against a policy again, offline: sends nothing; writes the reports and exits like run',
      (y) =>
        baselineFlag(gateFlags(y))
          .option('policy', { type: 'string', demandOption: true, describe: 'Policy file whose checks judge the recording' })
          .option('observations', { type: 'string', demandOption: true, describe: 'The recording: the file `run --record FILE` wrote' })
          .option('out', {
            type: 'string',
            describe: 'Directory for the reports: report.md, report.json, report.sarif, junit.xml [default: reports/<timestamp>/]',
          })
          .example(...example('$0 run --policy api.yaml --record run.ndjson', 'record a run (its verdicts as usual)'))
          .example(
            ...example('$0 judge --policy strict.yaml --observations run.ndjson --out reports/strict', 'the same traffic, stricter limits'),
          ),
      async (args) => {
        const gate = gateArgs(args);
        setExit(await judgeCommand(io, { policy: args.policy, observations: args.observations, ...opt('out', args.out), gate }));
      },
    )
    .command(
      'init',
      'Write a starting policy from what a deployed API is configured to enforce (--from-aws); sends no traffic',
      (y) =>
        apiFlags(y.option('from-aws', { type: 'boolean', describe: 'Read the policy from AWS API Gateway (the only source today)' }))
          .option('region', { type: 'string', describe: 'AWS Region of the API [default: AWS_REGION, the profile]' })
          .option('profile', { type: 'string', describe: 'AWS profile (like AWS_PROFILE); credentials from the default chain' })
          .option('endpoint-url', { type: 'string', describe: 'AWS endpoint URL for every call (an emulator such as moto)' })
          .option('out', { type: 'string', describe: 'Policy file to write [default: standard output]' })
          .option('target', { type: 'string', describe: "Base URL to write as target [default: the stage's invoke URL]" })
          .example(...example('$0 init --from-aws --rest-api-id a1b2c3d4e5 --stage prod --out api.yaml', 'a REST API stage'))
          .example(
            ...example("$0 init --from-aws --api-id a1b2c3d4e5 --stage '$default' --profile prod", 'an HTTP API, to standard output'),
          ),
      async (args) => {
        if (!args['from-aws']) usage('init: say where the policy comes from: --from-aws (the only source today)');
        const ref = apiRefFromFlags(args, 'init --from-aws');
        if (args.target !== undefined) {
          const problem = targetProblem(args.target);
          if (problem) usage(`--target: ${problem}`);
        }
        const connection = awsConnection(metricsSettings(args, usage));
        setExit(await initCommand(io, { ref, connection, ...opt('out', args.out), ...opt('target', args.target?.replace(/\/+$/, '')) }));
      },
    )
    .command(
      'validate',
      'Check a policy file without sending any traffic',
      (y) =>
        y
          .option('policy', { type: 'string', demandOption: true, describe: 'Policy file (YAML or JSON)' })
          .example(...example('$0 validate --policy policies/demo.yaml', 'exit 0 when valid, 2 with every problem listed')),
      (args) => {
        setExit(validateCommand(io, { policy: args.policy }));
      },
    )
    .command(
      'demo',
      'Start the reference gateway on a free loopback port and check policies/demo.yaml against it',
      (y) =>
        cloudWatchFlags(y)
          .option('out', { type: 'string', describe: 'Report directory [default: reports/<timestamp>/]' })
          .option('fault', {
            type: 'string',
            array: true,
            // No default: yargs would show "[default: []]"; none given is no fault.
            describe: `Break the reference gateway on purpose (repeatable, or comma-separated):\n${faultHelp()}`,
          })
          .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
          .option('canary', { type: 'number', describe: CANARY_HELP })
          .example(...example('$0 demo', 'all checks pass, exit 0'))
          .example(...example('$0 demo --fault cors-reflect', 'the CORS check fails, exit 1')),
      async (args) => {
        setExit(
          await demoCommand(io, {
            fault: parseFaults(args.fault ?? [], usage),
            quiet: args.quiet,
            metrics: metricsSettings(args, usage),
            ...opt('out', args.out),
            ...opt('canaryPercent', parseCanary(args.canary, usage)),
          }),
        );
      },
    )
    .command(
      'metrics',
      "Pull the API's CloudWatch metrics (the policy's metrics block) for a recent window and write a report; sends no traffic",
      (y) =>
        cloudWatchFlags(y)
          .option('policy', { type: 'string', demandOption: true, describe: 'Policy file with a metrics block' })
          .option('since', {
            type: 'string',
            default: '15m',
            describe: "How far back: 90s, 15m, 2h, 1d (at most 15d, CloudWatch's one-minute retention)",
          })
          .option('out', {
            type: 'string',
            describe: 'Directory for the reports: report.md, report.json, report.sarif, junit.xml [default: reports/<timestamp>/]',
          })
          .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
          .example(
            ...example(
              '$0 metrics --policy api.yaml --since 15m --profile prod',
              'Count, 4XX, 5XX and Latency per minute of the last 15 minutes',
            ),
          )
          .example(
            ...example(
              '$0 metrics --policy api.yaml --endpoint-url http://127.0.0.1:4566 --region us-east-1',
              'read an emulator (moto, `gatecheck serve`)',
            ),
          ),
      async (args) => {
        const sinceMs = parseSince(args.since, usage);
        setExit(
          await metricsCommand(io, {
            policy: args.policy,
            sinceMs,
            quiet: args.quiet,
            metrics: metricsSettings(args, usage),
            ...opt('out', args.out),
          }),
        );
      },
    )
    .command(
      'serve',
      'Run the reference gateway alone, enforcing a policy',
      (y) =>
        y
          .option('policy', { type: 'string', demandOption: true, describe: 'Policy file the gateway enforces' })
          .option('port', { type: 'number', default: 8080, describe: 'Port (0 = any free port)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
          .option('fault', {
            type: 'string',
            array: true,
            describe: 'Misconfiguration to switch on, repeatable (the list: `gatecheck demo --help`)',
          })
          .option('canary', { type: 'number', describe: CANARY_HELP })
          .example(
            ...example(
              'GATECHECK_DEMO_API_KEY=k $0 serve --policy policies/demo.yaml --fault no-throttle',
              'a gateway that forgot its rate limit',
            ),
          ),
      async (args) => {
        if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
          usage(`--port: must be an integer from 0 to 65535, got ${args.port}`);
        setExit(
          await serveCommand(io, {
            policy: args.policy,
            port: args.port,
            host: args.host,
            fault: parseFaults(args.fault ?? [], usage),
            ...opt('canaryPercent', parseCanary(args.canary, usage)),
          }),
        );
      },
    )
    .command(
      'bench',
      'Benchmark a route: a rate ladder on the paced open-model engine, or closed-model saturation; exit 3 when the answers were refusals',
      (y) =>
        tlsFlags(y)
          .option('target', { type: 'string', describe: "Base URL of the gateway [default: --policy's target]" })
          .option('path', { type: 'string', default: '/', describe: "Path to load (with --policy: the route's)" })
          .option('method', { type: 'string', default: 'GET', describe: "HTTP method (with --policy: the route's)" })
          .option('policy', { type: 'string', describe: "Policy file: the route's path, method, credential and limits, the target" })
          .option('route', {
            type: 'string',
            describe: `Route of --policy: ${ROUTE_FORMS} [default: the first]`,
          })
          .option('credential', {
            type: 'string',
            describe: "Credential of --policy to send (its value from the environment) [default: the route's auth credential]",
          })
          .option('header', {
            type: 'string',
            array: true,
            describe: 'Header to send, "Name: value"; repeatable. Secrets: prefer --credential (values from the environment)',
          })
          .option('rates', { type: 'string', describe: 'Comma-separated rates (requests/s) for a step ladder, e.g. 100,500,1000' })
          .option('scenario', { type: 'string', describe: 'Scenario name (scenarios/*.yaml) or file [default: step-ladder]' })
          .option('saturate-engine', {
            choices: ['raw', 'autocannon'] as const,
            default: 'raw' as const,
            describe: "--saturate: gatecheck's raw-socket loop (faster here) or autocannon",
          })
          .option('saturate', { type: 'boolean', describe: 'Find the maximum throughput (closed model), on --saturate-engine' })
          .option('duration', { type: 'number', default: 5, describe: 'Seconds per step (or of the saturation run)' })
          .option('connections', { type: 'number', default: 50, describe: '--saturate: concurrent connections' })
          .option('workers', {
            type: 'number',
            default: Math.min(4, availableParallelism()),
            // Said in words: the number itself differs from machine to machine.
            defaultDescription: 'cores, at most 4',
            describe: '--saturate: worker threads (0 = this thread; with the target on the same small machine, 1 can be faster)',
          })
          .option('pipelining', { type: 'number', default: 1, describe: '--saturate: requests in flight per connection' })
          .option('out', { type: 'string', describe: 'Directory for bench.md and bench.json [default: reports/<timestamp>/]' })
          .option('max-requests', { type: 'number', default: 2_000_000, describe: 'Request cap (raw --saturate: across threads)' })
          .option('max-duration', { type: 'number', default: 600, describe: 'Time cap in seconds for the run' })
          .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
          .conflicts('rates', ['saturate', 'scenario'])
          .conflicts('saturate', 'scenario')
          .example(
            ...example(
              '$0 bench --target http://127.0.0.1:8080 --path /health --rates 100,500,1000 --duration 5',
              'latency and accepted rate per step',
            ),
          )
          .example(...example('$0 bench --target http://127.0.0.1:8080 --path /health --saturate --duration 10', 'maximum throughput'))
          .example(
            ...example(
              '$0 bench --policy api.yaml --route "GET /api/items" --credential main --rates 20,50',
              "a keyed route of the policy, at its target, with the policy's credential",
            ),
          ),
      async (args) => {
        checkRunFlags({ target: args.target, 'max-requests': args['max-requests'], 'max-duration': args['max-duration'] }, usage);
        const headers = parseHeaders(args.header ?? [], usage);
        const rates = args.rates === undefined ? undefined : args.rates.split(',').map((r) => Number(r.trim()));
        if (rates && (rates.length === 0 || rates.some((r) => !(r > 0) || !Number.isFinite(r))))
          usage(`--rates: every rate must be a number > 0, got "${args.rates}"`);
        if (!(args.duration > 0)) usage(`--duration: must be > 0, got ${args.duration}`);
        for (const flag of ['connections', 'pipelining'] as const)
          if (!Number.isInteger(args[flag]) || args[flag] < 1) usage(`--${flag}: must be a whole number ≥ 1, got ${args[flag]}`);
        if (!Number.isInteger(args.workers) || args.workers < 0) usage(`--workers: must be a whole number ≥ 0, got ${args.workers}`);
        if (!args.path.startsWith('/')) usage(`--path: must start with /, got "${args.path}"`);
        const tls = tlsArgs(io, args, usage);
        setExit(
          await benchCommand(io, {
            path: args.path,
            method: args.method.toUpperCase(),
            saturate: args.saturate ?? false,
            saturateEngine: args['saturate-engine'],
            durationSec: args.duration,
            connections: args.connections,
            workers: args.workers,
            pipelining: args.pipelining,
            maxRequests: args['max-requests'],
            maxDuration: args['max-duration'],
            quiet: args.quiet,
            ...opt('target', args.target),
            ...opt('policy', args.policy),
            ...opt('route', args.route),
            ...opt('credential', args.credential),
            ...opt('headers', headers),
            ...opt('rates', rates),
            ...opt('scenario', args.scenario),
            ...opt('out', args.out),
            ...opt('tls', tls),
          }),
        );
      },
    )
    .command(diffCommandModule(io, setExit))
    .command(exportCommandModule(io, argv, setExit, usage))
    .command(importCommandModule(io, setExit, usage, (value) => parseOnly(value, usage)))
    .demandCommand(1, 'Name a command: run, judge, diff, validate, init, demo, serve, metrics, bench, export or import.')
    .strict()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, (io.stdout as NodeJS.WriteStream).columns ?? 100))
    .epilogue(
      'Exit codes: 0 pass, 1 fail, 2 bad input (nothing sent), 3 could not verify (unreachable, error, inconclusive).' +
        '\nSecrets come from environment variables (${NAME} in the policy) and never appear in reports or logs.',
    )
    .exitProcess(false)
    .recommendCommands()
    .fail((message, error) => {
      if (error) throw error;
      throw new UsageError(humanUsageMessage(message, argv));
    })
    .showHelpOnFail(false);
}

function parseOnly(value: string | undefined, usage: (m: string) => never): CheckKind[] | undefined {
  if (value === undefined) return undefined;
  const kinds = value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(SELECTABLE_KINDS as string[]).includes(k));
  if (kinds.length === 0 || unknown.length)
    usage(`--only: unknown check kind ${unknown.map((k) => `"${k}"`).join(', ') || '(empty)'}; choose from ${SELECTABLE_KINDS.join(', ')}`);
  return kinds as CheckKind[];
}

/** `--header "x-tenant: acme"` → `{ "x-tenant": "acme" }`. A value is never echoed: it may be a secret. */
function parseHeaders(values: string[], usage: (m: string) => never): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const [i, value] of values.entries()) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$/.exec(value);
    if (!match) usage(`--header: the ${ordinal(i + 1)} is not "Name: value" (e.g. --header "x-tenant: acme")`);
    headers[match[1]!.toLowerCase()] = match[2]!.trim();
  }
  return headers;
}

function ordinal(n: number): string {
  return n === 1 ? 'first' : n === 2 ? 'second' : n === 3 ? 'third' : `${n}th`;
}

const CANARY_HELP = "Percent of the canary routes' answers sent to the canary, instead of the policy's";

/** --canary PERCENT: a share the gateway can deal (0 to 100). */
function parseCanary(value: number | undefined, usage: (m: string) => never): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || value > 100) usage(`--canary: must be a percent from 0 to 100, got ${value}`);
  return value;
}

function parseFaults(values: string[], usage: (m: string) => never): FaultName[] {
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(FAULT_NAMES as string[]).includes(n));
  if (unknown.length) usage(`--fault: unknown fault ${unknown.map((n) => `"${n}"`).join(', ')}; choose from ${FAULT_NAMES.join(', ')}`);
  return names as FaultName[];
}

function checkRunFlags(
  args: { target?: string | undefined; 'max-requests'?: number | undefined; 'max-duration'?: number | undefined },
  usage: (m: string) => never,
): void {
  if (args.target !== undefined) {
    const problem = targetProblem(args.target);
    if (problem) usage(`--target: ${problem}`);
  }
  const maxRequests = args['max-requests'];
  if (maxRequests !== undefined && (!Number.isInteger(maxRequests) || maxRequests < 1))
    usage(`--max-requests: must be a whole number ≥ 1, got ${maxRequests}`);
  const maxDuration = args['max-duration'];
  if (maxDuration !== undefined && !(maxDuration > 0 && maxDuration <= 86400))
    usage(`--max-duration: must be > 0 and ≤ 86400 seconds, got ${maxDuration}`);
}

type TlsFlags = { ca?: string | undefined; insecure?: boolean | undefined };

/** --ca (read now, before any traffic: a missing or non-PEM file is bad input) and --insecure; undefined when neither is given. */
function tlsArgs(io: CliIo, args: TlsFlags, usage: (m: string) => never): TlsArgs | undefined {
  if (args.ca !== undefined && args.insecure) usage('--ca and --insecure: choose one (--insecure trusts any certificate)');
  if (args.insecure) return { insecure: true };
  if (args.ca === undefined) return undefined;
  let pem = '';
  try {
    pem = readFileSync(resolve(io.cwd, args.ca), 'utf8');
  } catch (error) {
    usage(`--ca: cannot read ${args.ca} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) usage(`--ca: ${args.ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return { ca: pem, caFile: args.ca };
}

/** --region, --profile, --endpoint-url, --metrics-wait, checked. */
function metricsSettings(
  args: {
    region?: string | undefined;
    profile?: string | undefined;
    'endpoint-url'?: string | undefined;
    'metrics-wait'?: number | undefined;
  },
  usage: (m: string) => never,
): MetricsSettings {
  if (args.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-[0-9]+$/.test(args.region))
    usage(`--region: "${args.region}" is not an AWS Region name (e.g. eu-west-1)`);
  if (args.profile !== undefined && args.profile.trim() === '') usage('--profile: must not be empty');
  const endpoint = args['endpoint-url'];
  if (endpoint !== undefined) {
    const problem = targetProblem(endpoint);
    if (problem) usage(`--endpoint-url: ${problem}`);
  }
  const wait = args['metrics-wait'];
  if (wait !== undefined && !(wait >= 0 && wait <= 3600)) usage(`--metrics-wait: must be from 0 to 3600 seconds, got ${wait}`);
  return {
    ...opt('region', args.region),
    ...opt('profile', args.profile),
    ...opt('endpoint', endpoint?.replace(/\/+$/, '')),
    ...opt('waitSec', wait),
  };
}

/** The AWS CLI flags as the configuration reader takes them (metricsSettings checked them). */
function awsConnection(settings: MetricsSettings): AwsConnection {
  return { ...opt('region', settings.region), ...opt('profile', settings.profile), ...opt('endpoint', settings.endpoint) };
}

/** --drift with its API flags; the API flags without --drift are a mistake worth saying. */
function driftArgs(
  args: AwsApiFlags & {
    drift?: boolean | undefined;
    region?: string | undefined;
    profile?: string | undefined;
    'endpoint-url'?: string | undefined;
  },
  usage: (m: string) => never,
): { ref: ReturnType<typeof apiRefFromFlags>; connection: AwsConnection } | undefined {
  const named = args['rest-api-id'] ?? args['api-id'] ?? args.stage;
  if (!args.drift) {
    if (named !== undefined) usage('--rest-api-id, --api-id and --stage go with --drift (read the AWS configuration); add --drift');
    return undefined;
  }
  return { ref: apiRefFromFlags(args, '--drift'), connection: awsConnection(metricsSettings(args, usage)) };
}

/** `90s`, `15m`, `2h`, `1d` → ms; at most 15 days (CloudWatch keeps one-minute datapoints that long). */
export function parseSince(value: string, usage: (m: string) => never): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value.trim());
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = match ? Number(match[1]) * unitMs[match[2] as keyof typeof unitMs] : NaN;
  if (!(ms >= 60_000 && ms <= 15 * 86_400_000)) usage(`--since: give a duration from 1m to 15d such as 90s, 15m, 2h or 1d, got "${value}"`);
  return ms;
}

/** `{ key: value }` when value is defined, `{}` otherwise (exactOptionalPropertyTypes-friendly spreads). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
