import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckKind, CheckResult } from '../checks/types.js';
import { policyGate, type GateOptions } from '../gate/gate.js';
import { DEFAULT_GATE, DEFAULT_LIMITS, type Policy } from '../policy/types.js';
import { phaseRequestCount } from '../scenarios/scenario.js';
import type { InstanceResult } from './aggregate.js';
import { k6Checks, k6NotSelected, policyThresholds } from './checks.js';
import { K6InputError } from './errors.js';
import { SCRIPT_FILE, type K6Export } from './export.js';
import { mergeInstances, type MergedResult } from './merge.js';
import type { CredentialEnv } from './policy.js';
import { readK6File } from './read.js';
import { buildK6Report, type K6RunReport } from './report.js';
import { runK6 } from './run.js';

/**
 * `import k6` and `run --engine k6` as functions returning data: reading, merging and judging
 * k6 results, and running a local k6. The CLI (src/cli/k6-commands.ts) prints and picks exit codes.
 */
export interface K6File {
  /** Where to read it. */
  path: string;
  /** How the report names it (as the user gave it). */
  label: string;
}

/** Reads every file in order; throws K6InputError naming the file and line it could not read. */
export async function readK6Files(files: K6File[], windowMs = 100, onFile: (file: K6File) => void = () => {}): Promise<InstanceResult[]> {
  const instances: InstanceResult[] = [];
  for (const file of files) {
    onFile(file);
    const instance = await readK6File(file.path, { windowMs });
    instance.file = file.label;
    instances.push(instance);
  }
  return instances;
}

export interface JudgeInput {
  policy?: Policy;
  /** The policy file as the user named it, or `(none)`. */
  policyLabel: string;
  startedAt: Date;
  only?: CheckKind[];
  target?: string;
  version: string;
  /** --fail-on, --accept, --baseline; default: the policy's gate (or the default gate without a policy). */
  gate?: GateOptions;
}

export interface K6Judgement {
  merged: MergedResult;
  checks: CheckResult[];
  report: K6RunReport;
}

/** Merges the instances and judges them: the policy's checks (through their evaluate) and k6's thresholds. */
export function judgeK6(instances: InstanceResult[], input: JudgeInput): K6Judgement {
  const { policy } = input;
  const merged = mergeInstances(instances, { extraThresholds: policy ? policyThresholds(policy) : {} });
  const options = { ...(policy ? { policy } : {}), policyFile: input.policyLabel, ...(input.only ? { only: input.only } : {}) };
  const checks = k6Checks(merged, options);
  const limits = (policy ?? { limits: DEFAULT_LIMITS }).limits;
  const report = buildK6Report({
    merged,
    checks,
    policyFile: input.policyLabel,
    target: input.target ?? policy?.target ?? '(from the k6 results)',
    version: input.version,
    startedAt: input.startedAt,
    finishedAt: new Date(),
    limits: { maxRequests: limits.maxRequests, maxDurationSec: limits.maxDurationSec },
    notSelected: k6NotSelected(input.only),
    gate: input.gate ?? policyGate(policy ?? { gate: { failOn: DEFAULT_GATE } }, input.startedAt),
  });
  return { merged, checks, report };
}

/** Why the exported probes cannot run under the policy's caps, or undefined when they can. */
export function capProblem(built: K6Export, policy: Policy): string | undefined {
  const planned = built.plan.phases.reduce((n, p) => n + phaseRequestCount(p.phase), 0);
  if (planned > policy.limits.maxRequests) {
    const cap = policy.limits.maxRequests;
    return `the k6 probes would send about ${planned} requests, above the cap of ${cap} (raise --max-requests or limits.maxRequests)`;
  }
  const seconds = built.plan.totalMs / 1000;
  const cap = policy.limits.maxDurationSec;
  if (seconds > cap) return `the k6 probes take about ${Math.ceil(seconds)} s, above the cap of ${cap} s (raise --max-duration)`;
  return undefined;
}

export interface LocalK6Run {
  binary: string;
  built: K6Export;
  policy: Policy & { target: string };
  credentialEnv: Record<string, CredentialEnv>;
  /** The run's report directory: the script and k6's output go under `<out>/k6`. */
  out: string;
  /** The caller's environment: k6 gets it, plus GATECHECK_TARGET and derived credential variables. */
  env: Readonly<Record<string, string | undefined>>;
  quiet: boolean;
  /** k6's own output, as it comes (the caller redacts). */
  onOutput: (text: string) => void;
}

/** What a local k6 run came to: its instances, or why there is nothing to judge. */
export type LocalK6Outcome =
  | { ok: true; instances: InstanceResult[]; script: string }
  | { ok: false; problem: 'spawn' | 'k6-exit' | 'no-points' | 'unreadable'; message: string; exitCode?: number; script: string };

/** Writes the script, runs k6 with --out json and a summary export, and reads what it wrote. */
export async function runLocalK6(run: LocalK6Run): Promise<LocalK6Outcome> {
  const work = join(run.out, 'k6');
  await mkdir(work, { recursive: true });
  const script = join(work, SCRIPT_FILE);
  const points = join(work, 'points.ndjson.gz');
  const summary = join(work, 'summary-export.json');
  await writeFile(script, run.built.files[SCRIPT_FILE]!);
  const env: Record<string, string | undefined> = { ...run.env, GATECHECK_TARGET: run.policy.target };
  for (const c of Object.values(run.credentialEnv)) if (c.derived) env[c.envVar] = run.policy.credentials[c.credential]!.value;
  const args = ['run', '--out', `json=${points}`, '--summary-export', summary, ...(run.quiet ? ['--quiet'] : []), script];
  const k6 = await runK6(run.binary, args, env, work, { stdout: run.onOutput, stderr: run.onOutput });
  if (k6.spawnError) return { ok: false, problem: 'spawn', message: k6.spawnError, script };
  // 99: thresholds failed, which is a verdict for the checks, not a failed run.
  if (k6.exitCode !== 0 && k6.exitCode !== 99) {
    return { ok: false, problem: 'k6-exit', exitCode: k6.exitCode, message: `k6 exited with ${k6.exitCode}`, script };
  }
  if (!existsSync(points)) return { ok: false, problem: 'no-points', message: `k6 finished but wrote no points to ${points}`, script };
  // Labelled relative to the report directory, as the report shows them.
  const label = (path: string) => (path.startsWith(run.out) ? path.slice(run.out.length + 1) : path);
  const files = [points, summary].filter((f) => existsSync(f)).map((path) => ({ path, label: label(path) }));
  try {
    return { ok: true, instances: await readK6Files(files), script };
  } catch (error) {
    if (error instanceof K6InputError) return { ok: false, problem: 'unreadable', message: error.message, script };
    throw error;
  }
}
