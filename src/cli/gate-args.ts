import type { Argv } from 'yargs';
import { GATE_LEVELS, policyGate, type GateLevel, type GateOptions } from '../gate/gate.js';
import type { Policy } from '../policy/types.js';
import type { CliIo } from './io.js';

/** The release gate's flags as the CLI read them (run, judge, import take the same ones). */
export interface GateArgs {
  /** --fail-on: overrides the policy's gate.failOn. */
  failOn?: GateLevel;
}

/** --fail-on (and, as they come, the other gate flags) on a command. */
export function gateFlags<T>(y: Argv<T>) {
  return y.option('fail-on', {
    choices: GATE_LEVELS,
    describe: "Lowest finding severity that fails a check (overrides the policy's gate.failOn; default high). See docs/findings.md",
  });
}

export function gateArgs(args: { 'fail-on'?: GateLevel | undefined }): GateArgs {
  return args['fail-on'] === undefined ? {} : { failOn: args['fail-on'] };
}

/** The gate of this run: the policy's, with the flags over it. Bad gate input is a UsageError (exit 2), before any traffic. */
export function gateOptions(_io: CliIo, gate: GateArgs | undefined, policy: Pick<Policy, 'gate'>, now: Date): GateOptions {
  const options = policyGate(policy, now);
  if (gate?.failOn) options.failOn = gate.failOn;
  return options;
}
