import type { Argv } from 'yargs';
import { GATE_LEVELS, policyGate, type GateLevel, type GateOptions } from '../gate/gate.js';
import type { Policy } from '../policy/types.js';
import { baselineGate } from './diff.js';
import type { CliIo } from './io.js';

/** The release gate's flags as the CLI read them (run, judge, import take the same ones). */
export interface GateArgs {
  /** --fail-on: overrides the policy's gate.failOn. */
  failOn?: GateLevel;
  /** --baseline: a report.json whose findings do not gate (run, judge, import k6). */
  baseline?: string;
}

/** --fail-on (and, as they come, the other gate flags) on a command. */
export function gateFlags<T>(y: Argv<T>) {
  return y.option('fail-on', {
    choices: GATE_LEVELS,
    describe: "Lowest finding severity that fails a check (overrides the policy's gate.failOn; default high). See docs/findings.md",
  });
}

/** --baseline FILE on the commands that judge a run (not on export). */
export function baselineFlag<T>(y: Argv<T>) {
  return y.option('baseline', {
    type: 'string',
    describe: 'A report.json of an earlier run: its findings do not gate, only new ones do (see `gatecheck diff`)',
  });
}

export function gateArgs(args: { 'fail-on'?: GateLevel | undefined; baseline?: string | undefined }): GateArgs {
  return {
    ...(args['fail-on'] === undefined ? {} : { failOn: args['fail-on'] }),
    ...(args.baseline === undefined ? {} : { baseline: args.baseline }),
  };
}

/** The gate of this run: the policy's, with the flags over it. Bad gate input is a UsageError (exit 2), before any traffic. */
export function gateOptions(_io: CliIo, gate: GateArgs | undefined, policy: Pick<Policy, 'gate'>, now: Date): GateOptions {
  const options = policyGate(policy, now);
  if (gate?.failOn) options.failOn = gate.failOn;
  if (gate?.baseline !== undefined) Object.assign(options, baselineGate(_io, gate.baseline));
  return options;
}
