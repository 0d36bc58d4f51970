import type { Observation } from '../engine/observation.js';
import type { Policy } from '../policy/types.js';
import type { CheckContext } from './context.js';
import type { CheckStatus, EvidenceItem, Finding } from './types.js';

/**
 * The contract every check kind implements (k6's executor idea: one interface, a registry).
 * A check never formats: it collects observations, then judges them with a pure `evaluate`, and
 * a renderer under src/report/ turns its typed Observed into Markdown. Because evaluate sees only
 * the spec, the observations and the check's notes, a recorded run can be judged again offline
 * (`gatecheck judge`) with the same verdicts.
 */

/** One check a policy asks for: which route, its id suffix (usage plans), and its typed spec. */
export interface CheckInstance<Spec> {
  /** Route id (`GET /api/items`), or the API for the metrics check. */
  route: string;
  /** Appended to `<kind>:<route>` when a route has several checks of a kind (` [plan gold]`). */
  idSuffix: string;
  spec: Spec;
}

/** When a check runs: per route in registry order, after every route (it uses something up), or after the run. */
export type CheckPhase = 'route' | 'last' | 'after-run';

/** What a check costs before it runs: `validate`, the run budget and `export k6` read it. */
export interface CheckPlan {
  /** The most requests it sends. */
  requests: number;
  /** The longest it takes, ms. */
  durationMs: number;
  /** It measures a bucket from idle (the throttle probe) or waits for one to refill. */
  needsIdleBucket: boolean;
}

/** A finding as evaluate states it: `id` is a slug unique within the check; the runner prefixes the check id. */
export type FindingDraft = Omit<Finding, 'disposition' | 'accepted'>;

/**
 * The verdict of one check: data only. `status` is evaluate's own reading (error and inconclusive
 * stand); pass/fail is then settled by the gate from `findings`, so every problem a fail rests on
 * must be a finding (the gate still keeps a fail with none failing, as an explicit `#fail` finding).
 */
export interface Verdict<Observed> {
  status: CheckStatus;
  summary: string;
  observed: Observed;
  evidence: EvidenceItem[];
  findings: FindingDraft[];
}

/** What a check saw: its observations in arrival order, and what its run noted beyond them (JSON). */
export interface Collected<Notes> {
  observations: Observation[];
  notes: Notes;
}

export interface CheckDefinition<Kind extends string, Spec, Observed, Notes> {
  kind: Kind;
  phase: CheckPhase;
  /** The checks this policy asks for of this kind: typed specs, none when it asks for none. */
  select(policy: Policy): Array<CheckInstance<Spec>>;
  /** What the policy demands, as data for the report's "expected" column. */
  expected(spec: Spec, policy: Policy): Record<string, unknown>;
  plan(spec: Spec, policy: Policy): CheckPlan;
  /**
   * Sends the probes. Every request goes through ctx.client, so every observation reaches the
   * run's stream tagged with this check's id; what the stream cannot see (pacing summaries, the
   * probe matrix) is returned as notes, which must be JSON.
   */
  collect(ctx: CheckContext, spec: Spec): Promise<Notes>;
  /** Pure: the verdict from the spec, what was collected, and the policy. */
  evaluate(spec: Spec, collected: Collected<Notes>, policy: Policy): Verdict<Observed>;
}

/** A definition with its types erased, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheckDefinition = CheckDefinition<string, any, any, any>;
