import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { AcceptFileError, loadAcceptFile } from '../gate/accept.js';
import { GATE_LEVELS, policyGate, type AcceptEntry, type GateLevel, type GateOptions, type GateSummary } from '../gate/gate.js';
import type { Policy } from '../policy/types.js';
import { baselineGate } from './diff.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';

/** The release gate's flags as the CLI read them (run, judge, import take the same ones). */
export interface GateArgs {
  /** --fail-on: overrides the policy's gate.failOn. */
  failOn?: GateLevel;
  /** --baseline: a report.json whose findings do not gate (run, judge, import k6). */
  baseline?: string;
  /** --accept FILE: accepted findings (schemas/accept.schema.json). */
  accept?: string;
}

/** --fail-on, --accept (and, as they come, the other gate flags) on a command. */
export function gateFlags<T>(y: Argv<T>) {
  return y
    .option('fail-on', {
      choices: GATE_LEVELS,
      describe: "Lowest finding severity that fails a check; overrides the policy's gate.failOn (default high; see docs/findings.md)",
    })
    .option('accept', {
      type: 'string',
      describe: 'YAML file of accepted findings (accepted: [{ id, reason, expires }]): listed with their reason, not gating until expires',
    });
}

/** --baseline FILE on the commands that judge a run (not on export). */
export function baselineFlag<T>(y: Argv<T>) {
  return y.option('baseline', {
    type: 'string',
    describe: 'A report.json of an earlier run: its findings do not gate, only new ones do (see `gatecheck diff`)',
  });
}

export function gateArgs(args: {
  'fail-on'?: GateLevel | undefined;
  baseline?: string | undefined;
  accept?: string | undefined;
}): GateArgs {
  return {
    ...(args['fail-on'] === undefined ? {} : { failOn: args['fail-on'] }),
    ...(args.baseline === undefined ? {} : { baseline: args.baseline }),
    ...(args.accept === undefined ? {} : { accept: args.accept }),
  };
}

/** The gate of this run: the policy's, with the flags over it. Bad gate input is a UsageError (exit 2), before any traffic. */
export function gateOptions(io: CliIo, gate: GateArgs | undefined, policy: Pick<Policy, 'gate'>, now: Date): GateOptions {
  const options = policyGate(policy, now);
  if (gate?.failOn) options.failOn = gate.failOn;
  if (gate?.baseline !== undefined) Object.assign(options, baselineGate(io, gate.baseline));
  if (gate?.accept !== undefined) options.accepted = acceptedOrUsageError(io, gate.accept);
  return options;
}

function acceptedOrUsageError(io: CliIo, file: string): AcceptEntry[] {
  try {
    return loadAcceptFile(resolve(io.cwd, file), file);
  } catch (error) {
    if (!(error instanceof AcceptFileError)) throw error;
    const problems = `${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}`;
    throw new UsageError(`--accept: invalid accept file (${problems}; see schemas/accept.schema.json); nothing was sent\n${error.message}`);
  }
}

/** One line each for what --accept did, for the console summary; none when it was not given or changed nothing. */
export function acceptLines(gate: GateSummary): string[] {
  const lines: string[] = [];
  if (gate.accepted.length > 0) {
    const entries = gate.accepted.map((entry) => `${entry.id} (until ${entry.expires}: ${entry.reason})`);
    lines.push(`Accepted (--accept, not gating): ${entries.join('; ')}`);
  }
  if (gate.acceptProblems.length > 0) {
    const problems = gate.acceptProblems.map((p) =>
      p.problem === 'expired'
        ? `${p.id} expired (its last day was ${p.expires}: it gates again)`
        : `${p.id} matches no finding of this run`,
    );
    lines.push(`--accept problems: ${problems.join('; ')}`);
  }
  return lines;
}
