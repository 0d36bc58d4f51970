import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { formatPath } from '../policy/errors.js';

/**
 * Load scenarios: engine-neutral descriptions of load shapes (scenarios/*.yaml). The paced
 * engine runs them; `export k6` translates the same resolved phases into k6 executors.
 */
export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export interface RateSpec {
  ratePerSec?: number;
  rateFactor?: number;
  rateOffset?: number;
}

export type ScenarioPhase =
  | { shape: 'volley'; name?: string; requests?: number; burstFactor?: number; burstOffset?: number }
  | ({ shape: 'constant' | 'soak'; name?: string; durationSec: number } & RateSpec)
  | { shape: 'ramp'; name?: string; from: RateSpec; to: RateSpec; durationSec: number }
  | { shape: 'step'; name?: string; steps: RateSpec[]; stepSec: number };

export interface Scenario {
  name: string;
  description?: string;
  arrivals: 'constant' | 'poisson';
  phases: ScenarioPhase[];
}

/** A phase with every relative value turned into a number for one route. */
export type ResolvedPhase =
  | { kind: 'volley'; name: string; requests: number }
  | { kind: 'rate'; name: string; fromRatePerSec: number; toRatePerSec: number; durationSec: number; arrivals: 'constant' | 'poisson' };

export interface RouteLimits {
  rateLimit?: number;
  burstLimit?: number;
}

export class ScenarioError extends Error {}

let validate: ReturnType<Ajv['compile']> | undefined;

export function parseScenario(text: string, source: string): Scenario {
  validate ??= new Ajv({ allErrors: true, strict: false }).compile(
    JSON.parse(readFileSync(join(SCENARIO_DIR, 'schema.json'), 'utf8')) as object,
  );
  const raw: unknown = parse(text);
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map(
      (e) => `${formatPath(e.instancePath.split('/').slice(1)) || '(top level)'}: ${e.message ?? e.keyword}`,
    );
    throw new ScenarioError(`${source}: invalid scenario\n${[...new Set(problems)].join('\n')}`);
  }
  const scenario = raw as Omit<Scenario, 'arrivals'> & { arrivals?: Scenario['arrivals'] };
  return { ...scenario, arrivals: scenario.arrivals ?? 'constant' };
}

/** A built-in scenario by name (scenarios/NAME.yaml) or a scenario file by path. */
export function loadScenario(nameOrFile: string): Scenario {
  const file = /[/\\]|\.ya?ml$|\.json$/.test(nameOrFile) ? nameOrFile : join(SCENARIO_DIR, `${nameOrFile}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ScenarioError(`scenario "${nameOrFile}" not found (built-in: ${builtInScenarios().join(', ')})`);
  }
  return parseScenario(text, file);
}

export function builtInScenarios(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

/** Turns relative rates and volley sizes into numbers for a route's limits. */
export function resolveScenario(scenario: Scenario, limits: RouteLimits): ResolvedPhase[] {
  const rate = (spec: RateSpec, where: string): number => {
    if (spec.ratePerSec !== undefined) return spec.ratePerSec;
    if (spec.rateFactor === undefined) throw new ScenarioError(`${scenario.name}: ${where} needs ratePerSec or rateFactor`);
    if (limits.rateLimit === undefined)
      throw new ScenarioError(
        `${scenario.name}: ${where} is relative to rateLimit, but the route has no throttle.rateLimit (give --rates or a ratePerSec)`,
      );
    return Math.max(0.001, spec.rateFactor * limits.rateLimit + (spec.rateOffset ?? 0));
  };
  const out: ResolvedPhase[] = [];
  scenario.phases.forEach((phase, i) => {
    const name = phase.name ?? `${phase.shape}-${i + 1}`;
    switch (phase.shape) {
      case 'volley': {
        let requests = phase.requests;
        if (requests === undefined) {
          if (phase.burstFactor === undefined || limits.burstLimit === undefined)
            throw new ScenarioError(`${scenario.name}: phase ${name} needs requests, or burstFactor and a route burstLimit`);
          requests = Math.ceil(phase.burstFactor * limits.burstLimit + (phase.burstOffset ?? 0));
        }
        out.push({ kind: 'volley', name, requests });
        break;
      }
      case 'constant':
      case 'soak': {
        const r = rate(phase, `phase ${name}`);
        out.push({ kind: 'rate', name, fromRatePerSec: r, toRatePerSec: r, durationSec: phase.durationSec, arrivals: scenario.arrivals });
        break;
      }
      case 'ramp':
        out.push({
          kind: 'rate',
          name,
          fromRatePerSec: rate(phase.from, `phase ${name}.from`),
          toRatePerSec: rate(phase.to, `phase ${name}.to`),
          durationSec: phase.durationSec,
          arrivals: scenario.arrivals,
        });
        break;
      case 'step':
        phase.steps.forEach((step, j) => {
          const r = rate(step, `phase ${name} step ${j + 1}`);
          out.push({
            kind: 'rate',
            name: `${name}-${j + 1}`,
            fromRatePerSec: r,
            toRatePerSec: r,
            durationSec: phase.stepSec,
            arrivals: scenario.arrivals,
          });
        });
        break;
    }
  });
  return out;
}

/** Requests a resolved phase schedules: the mean rate times the duration. */
export function phaseRequestCount(phase: ResolvedPhase): number {
  return phase.kind === 'volley'
    ? phase.requests
    : Math.max(1, Math.round(((phase.fromRatePerSec + phase.toRatePerSec) / 2) * phase.durationSec));
}
