import type { Argv, CommandModule } from 'yargs';
import type { CheckKind } from '../checks/types.js';
import type { CliIo } from '../cli/io.js';
import { builtInScenarios } from '../scenarios/scenario.js';
import { exportK6Command, importK6Command } from './cli.js';

/**
 * yargs modules for `gatecheck export k6` and `gatecheck import k6`, so cli/main.ts registers
 * each with one `.command(...)` line. `k6` is a positional so other engines can follow.
 */
type SetExit = (code: number) => void;
type Usage = (message: string) => never;

export function exportCommandModule(io: CliIo, argv: string[], setExit: SetExit, usage: Usage): CommandModule {
  return {
    command: 'export <engine>',
    describe: 'Translate the policy\'s load probes into a k6 script and k6-operator manifests',
    builder: (y: Argv) =>
      y
        .positional('engine', { choices: ['k6'] as const, describe: 'Engine to export for' })
        .option('policy', { type: 'string', demandOption: true, describe: 'Policy file (YAML or JSON)' })
        .option('out', { type: 'string', demandOption: true, describe: 'Directory for the script, the manifests and a README' })
        .option('scenario', { type: 'string', describe: `Scenario to translate for each route instead of the policy's own probes (built in: ${builtInScenarios().join(', ')}; or a file)` })
        .option('route', { type: 'string', array: true, describe: 'Export only this route id (`GET /api/items`); repeatable' })
        .option('parallelism', { type: 'number', default: 1, describe: 'k6-operator pods; each runs its execution segment of every scenario' })
        .option('separate', { type: 'boolean', default: false, describe: 'One runner pod per node (TestRun spec.separate)' })
        .option('target', { type: 'string', describe: "Base URL written as the script's default (GATECHECK_TARGET overrides it at run time)" })
        .option('name', { type: 'string', describe: 'Name of the TestRun and its objects [default: gatecheck-<policy file name>]' })
        .option('namespace', { type: 'string', describe: 'Kubernetes namespace of the objects' })
        .option('secret', { type: 'string', describe: 'Secret holding the credentials, one key per environment variable [default: <name>-credentials]' })
        .option('image', { type: 'string', describe: 'k6 runner image [default: the operator\'s]' })
        .option('storage-class', { type: 'string', describe: 'Storage class of the results volume (needs ReadWriteMany)' })
        .option('expected-latency-ms', { type: 'number', describe: "Response time used to size preAllocatedVUs [default: the route's slo.p99Ms, else 250]" })
        .example('$0 export k6 --policy api.yaml --parallelism 4 --out k6/', 'script + TestRun for 4 pods; then kubectl apply -f k6/')
        .example('$0 export k6 --policy api.yaml --scenario step-ladder --route "GET /api/items" --out k6/', 'a load shape for one route'),
    handler: async (raw) => {
      const args = raw as unknown as Record<string, unknown>;
      const parallelism = args.parallelism as number;
      if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 1000) usage(`--parallelism: must be a whole number from 1 to 1000, got ${parallelism}`);
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
            ...pick(args, { scenario: 'scenario', route: 'route', target: 'target', name: 'name', namespace: 'namespace', secret: 'secret', image: 'image', storageClass: 'storage-class', expectedLatencyMs: 'expected-latency-ms' }),
          },
          argv,
        ),
      );
    },
  };
}

export function importCommandModule(io: CliIo, setExit: SetExit, usage: Usage, parseOnly: (value: string | undefined) => CheckKind[] | undefined): CommandModule {
  return {
    command: 'import <engine> <files..>',
    describe: 'Read the results of one or more k6 instances (NDJSON points, .gz, or summaries), merge them and write the report',
    builder: (y: Argv) =>
      y
        .positional('engine', { choices: ['k6'] as const, describe: 'Engine whose results these are' })
        .positional('files', { type: 'string', array: true, describe: 'k6 --out json files (plain or .gz), --summary-export files, handleSummary() JSON or machine-readable summaries' })
        .option('policy', { type: 'string', describe: 'Policy to judge the results against (throttle fit, slo); without it only the k6 thresholds are judged' })
        .option('out', { type: 'string', describe: 'Directory for report.md, report.json and junit.xml [default: reports/<timestamp>/]' })
        .option('target', { type: 'string', describe: 'Target shown in the report [default: the policy\'s]' })
        .option('only', { type: 'string', describe: 'Comma-separated check kinds to report (throttle,slo)' })
        .option('window-ms', { type: 'number', default: 100, describe: 'Timeline window in ms' })
        .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
        .example('$0 import k6 results/*.ndjson.gz results/*.summary.json --policy api.yaml', 'merge the pods of a k6-operator run'),
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
