import type { RoutePolicy } from '../policy/types.js';

/**
 * Names shared by the exporter and the importer: the exporter writes them into scripts and
 * manifests, the importer reads them back from k6's points, so both sides derive them here.
 */

/**
 * The `route` tag of a route's requests. k6 parses submetric selectors
 * (`http_req_duration{route:GET /api/items}`) by splitting on `,` and the first `:`, and trims
 * quotes and spaces, so those characters are replaced; a normal route id passes unchanged.
 */
export function routeTag(route: Pick<RoutePolicy, 'id'>): string {
  return route.id.replace(/[,{}"']/g, '_');
}

/** The probe tags of gatecheck's own throttle probe: the importer fits the bucket on these. */
export const THROTTLE_PROBES = { volley: 'throttle.volley', paced: 'throttle.paced' } as const;
export const SLO_PROBE = 'slo';

/** k6 scenario names must match `^[0-9A-Za-z_-]+$`: `r0_throttle_volley`. */
export function scenarioName(routeIndex: number, probe: string): string {
  return `r${routeIndex}_${probe.replace(/[^0-9A-Za-z_-]+/g, '_')}`;
}

/** A throttle probe's scenario: `r0_throttle_paced`, or `r0_p1_throttle_paced` for the route's second usage plan. */
export function throttleScenarioName(routeIndex: number, probe: string, planIndex?: number): string {
  return scenarioName(routeIndex, planIndex === undefined ? probe : `p${planIndex}.${probe}`);
}

/** A DNS-1123 label for Kubernetes objects, short enough for the operator's suffixes. */
export function k8sName(text: string, maxLength = 40): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, maxLength)
    .replace(/-$/, '');
  return slug || 'gatecheck';
}

/** `2s`, `1500ms`: the duration strings k6 options take. */
export function k6Duration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms));
  return rounded % 1000 === 0 ? `${rounded / 1000}s` : `${rounded}ms`;
}
