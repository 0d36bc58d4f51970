/**
 * Which WAF probes a route gets, and what each one puts on the wire. Pure.
 *
 * Attacks are planned by cell: every (category, placement, encoding) the policy selects gets one
 * probe, its payload taken round-robin from the category's corpus, so every cell and every
 * payload is covered while the count stays bounded (9 categories x at most 14 placement-encoding
 * pairs = 126 attacks on a POST route, 81 on a GET route with the default encodings). With
 * `exhaustive`, every payload goes to every cell instead (up to 630 attacks). The benign corpus
 * goes to every placement as an ordinary client writes it (`plain`).
 *
 * The baseline (baseline.ts) comes on top: each of its payloads, plainly written, in each of the
 * query and body placements the route has (8 payloads x at most 3 placements = 24 requests). It is counted apart from
 * the matrix: it gates, the matrix is graded.
 */
import {
  BODY_METHODS,
  type HttpMethod,
  type WafCategory,
  type WafEncoding,
  type WafPlacement,
  type WafPolicy,
} from '../../policy/types.js';
import { payloadsOf, type AttackPayload } from './attacks.js';
import { BASELINE_PLACEMENTS, baselinePayloadsOf } from './baseline.js';
import { BENIGN_SAMPLES, type BenignSample } from './benign.js';
import { encodeJsonBody, encodeText, encodingsFor } from './encodings.js';

/** The parts of a request a probe sets; the runner adds the route's credential. */
export interface WafRequestParts {
  method: HttpMethod;
  /** Path below the target, query string included. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface WafProbe {
  /**
   * The probe's own name, unique in the plan (`waf.sqli.3`, `waf.benign.12`, `waf.control`,
   * `waf.path-control`): the check's evaluate reads each observation back to its payload by it.
   */
  probe: string;
  kind: 'attack' | 'benign' | 'path-control';
  /** A baseline attack (baseline.ts): counted apart from the matrix, and a miss gates. */
  baseline?: true;
  category?: WafCategory;
  /** Payload or sample name. */
  name: string;
  placement: WafPlacement;
  encoding: WafEncoding;
  request: WafRequestParts;
}

export interface WafPlan {
  /** "hello world" as a benign sample, sent alone and first: nothing else is sent unless it gets the normal answer. */
  control: WafProbe;
  /** True when the control's placement is not a selected one (only the path is tested): it is then not counted. */
  controlIsExtra: boolean;
  /** When the path placement is planned: an ordinary segment below the route, whose answer is that placement's "normal answer". */
  pathControl?: WafProbe;
  /** The rest of the benign corpus in every placement. */
  benign: WafProbe[];
  attacks: WafProbe[];
  /** The baseline attacks (plain, query and body placements): they gate by default. */
  baseline: WafProbe[];
  /** Selected placements that no selected encoding applies to (no attack goes there). */
  emptyPlacements: WafPlacement[];
}

/** Parameter, cookie and body field name that carries payloads. */
export const PAYLOAD_FIELD = 'q';
export const PAYLOAD_COOKIE = 'gc_probe';
/** The header placement: User-Agent is inspected by every rule set (CRS: User-Agent and Referer; AWS: User-Agent). */
export const PAYLOAD_HEADER = 'user-agent';
/** Path segment of the path placement's control: ordinary, so its answer is what an unknown path below the route gets. */
export const PATH_CONTROL_SEGMENT = 'gatecheck-path-control';

type Sample = Pick<AttackPayload, 'value' | 'pair' | 'json'> | BenignSample;

export function planWaf(
  route: { method: HttpMethod; path: string },
  waf: Pick<WafPolicy, 'categories' | 'placements' | 'encodings'> & { exhaustive?: boolean },
): WafPlan {
  // Body placements need a method that carries a body; the loader refuses them elsewhere, this is the second fence.
  const placements = waf.placements.filter((p) => BODY_METHODS.includes(route.method) || (p !== 'json' && p !== 'form'));
  const attacks: WafProbe[] = [];
  for (const category of waf.categories) {
    const payloads = payloadsOf(category);
    let next = 0;
    let n = 0;
    for (const placement of placements) {
      for (const encoding of encodingsFor(placement, waf.encodings)) {
        for (const payload of waf.exhaustive ? payloads : [payloads[next++ % payloads.length]!]) {
          const request = buildRequest(route, placement, encoding, payload);
          attacks.push({ probe: `waf.${category}.${++n}`, kind: 'attack', category, name: payload.name, placement, encoding, request });
        }
      }
    }
  }
  const baseline = planBaseline(route, waf.categories, placements);
  // The control goes first, in the query when the query is tested (the placement least likely to
  // be special-cased); never in the path, whose normal answer is not the backend's. When only the
  // path is tested the control still goes in the query, and is not counted as a benign sample.
  const controlPlacement = placements.includes('query') ? 'query' : (placements.find((p) => p !== 'path') ?? 'query');
  const first = BENIGN_SAMPLES[0];
  const benign: WafProbe[] = [];
  for (const sample of BENIGN_SAMPLES) {
    for (const placement of placements) {
      if (sample === first && placement === controlPlacement) continue;
      const request = buildRequest(route, placement, 'plain', sample);
      benign.push({ probe: `waf.benign.${benign.length + 1}`, kind: 'benign', name: sample.name, placement, encoding: 'plain', request });
    }
  }
  const plan: WafPlan = {
    control: {
      probe: 'waf.control',
      kind: 'benign',
      name: first!.name,
      placement: controlPlacement,
      encoding: 'plain',
      request: buildRequest(route, controlPlacement, 'plain', first!),
    },
    controlIsExtra: !placements.includes(controlPlacement),
    benign,
    attacks,
    baseline,
    emptyPlacements: placements.filter((p) => encodingsFor(p, waf.encodings).length === 0),
  };
  if (placements.includes('path')) {
    plan.pathControl = {
      probe: 'waf.path-control',
      kind: 'path-control',
      name: 'ordinary path segment (control)',
      placement: 'path',
      encoding: 'plain',
      request: buildRequest(route, 'path', 'plain', { name: 'path control', value: PATH_CONTROL_SEGMENT }),
    };
  }
  return plan;
}

/** Every baseline payload of the selected categories, plainly written, in each selected query or body placement. */
function planBaseline(
  route: { method: HttpMethod; path: string },
  categories: readonly WafCategory[],
  placements: readonly WafPlacement[],
): WafProbe[] {
  const probes: WafProbe[] = [];
  for (const category of categories) {
    let n = 0;
    for (const placement of placements.filter((p) => BASELINE_PLACEMENTS.includes(p))) {
      for (const payload of baselinePayloadsOf(category)) {
        probes.push({
          probe: `waf.baseline.${category}.${++n}`,
          kind: 'attack',
          baseline: true,
          category,
          name: payload.name,
          placement,
          encoding: 'plain',
          request: buildRequest(route, placement, 'plain', payload),
        });
      }
    }
  }
  return probes;
}

/** The request that carries `sample` in `placement`, written in `encoding`. */
export function buildRequest(
  route: { method: HttpMethod; path: string },
  placement: WafPlacement,
  encoding: WafEncoding,
  sample: Sample,
): WafRequestParts {
  const [base, query] = splitQuery(route.path);
  const withQuery = (extra: string): string => `${base}?${query ? `${query}&` : ''}${extra}`;
  // A pair's name is encoded like its value, except in base64: nothing decodes a parameter name from base64.
  const pair = (p: 'query' | 'form'): string =>
    'pair' in sample && sample.pair
      ? `${encodeText(sample.pair.name, p, encoding === 'base64' ? 'plain' : encoding)}=${encodeText(sample.pair.value, p, encoding)}`
      : `${PAYLOAD_FIELD}=${encodeText(sample.value, p, encoding)}`;
  switch (placement) {
    case 'query':
      return { method: route.method, path: withQuery(pair('query')), headers: {} };
    case 'path':
      return {
        method: route.method,
        path: `${base.replace(/\/+$/, '')}/${encodeText(sample.value, 'path', encoding)}${query ? `?${query}` : ''}`,
        headers: {},
      };
    case 'header':
      return { method: route.method, path: route.path, headers: { [PAYLOAD_HEADER]: encodeText(sample.value, 'header', encoding) } };
    case 'cookie':
      return {
        method: route.method,
        path: route.path,
        headers: { cookie: `${PAYLOAD_COOKIE}=${encodeText(sample.value, 'cookie', encoding)}` },
      };
    case 'json':
      return {
        method: route.method,
        path: route.path,
        headers: { 'content-type': 'application/json' },
        body: encodeJsonBody('json' in sample && sample.json !== undefined ? sample.json : sample.value, encoding),
      };
    case 'form':
      return {
        method: route.method,
        path: route.path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: pair('form'),
      };
  }
}

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q === -1 ? [path, ''] : [path.slice(0, q), path.slice(q + 1)];
}

/** `sqli: union select in query (url)`: how reports name an attack probe. */
export function describeProbe(probe: WafProbe): string {
  const what =
    probe.kind === 'attack'
      ? `${probe.baseline ? 'baseline ' : ''}${probe.category}: ${probe.name}`
      : probe.kind === 'benign'
        ? `benign: ${probe.name}`
        : probe.name;
  return `${what} in ${probe.placement} (${probe.encoding})`;
}
