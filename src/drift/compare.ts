import type { DeployedConfig, DeployedRoute, DeployedThrottle, Sourced, Unreadable } from '../aws/deployed.js';
import type { FindingDraft } from '../checks/contract.js';
import { finding } from '../checks/findings.js';
import type { CheckResult, ConfiguredRow, Severity } from '../checks/types.js';
import type { Policy, RoutePolicy } from '../policy/types.js';

/**
 * `run --drift`: the third side of a check. Pure: a check's result, the policy and what AWS is
 * configured to enforce (read once before the run, an input beside the policy like the
 * observations) give the "configured" column and the findings where two sides disagree:
 *
 * - `drift:configured-vs-policy:<field>`: AWS is set to something else than the policy says
 *   (someone changed AWS, or the policy is stale). High for auth (the API key or IAM
 *   requirement) and throttle (a client gets refused, or an abuser let through, by a setting
 *   nobody reviewed), medium otherwise (quota, CORS, WAF, tracing, canary percent).
 * - `drift:measured-vs-configured:<field>`: the gateway does not do what AWS is set to do. Only
 *   where configured ≠ policy (where they agree the check's own findings already say it), and for
 *   throttles only when the whole measured interval lies outside the configured value ± the
 *   throttle check's tolerance (AWS calls its limits best-effort).
 * - `drift:unreadable:<setting>` (info): the setting could not be read; nothing is compared.
 *
 * The check's own status and findings are left as they are; the gate then settles the drift
 * findings like any other (docs/findings.md).
 */

export function applyDrift(checks: readonly CheckResult[], policy: Policy, deployed: DeployedConfig): CheckResult[] {
  return checks.map((check) => {
    const drift = driftFor(check, policy, deployed);
    if (!drift) return check;
    const findings = drift.findings.map((f) => ({ ...f, id: `${check.id}#${f.id}` }));
    return { ...check, configured: drift.configured, findings: [...check.findings, ...findings] };
  });
}

export interface Drift {
  configured: ConfiguredRow[];
  findings: FindingDraft[];
}

/** The configured column and drift findings of one check; undefined for kinds drift does not touch or checks that did not run. */
export function driftFor(check: CheckResult, policy: Policy, deployed: DeployedConfig): Drift | undefined {
  if (check.status === 'skip') return undefined;
  const route = policy.routes.find((r) => r.id === check.route);
  if (!route) return undefined;
  const compare = COMPARERS[check.kind];
  if (!compare) return undefined;
  const deployedRoute = findRoute(deployed, route);
  const out: Drift = { configured: [], findings: [] };
  if (!deployedRoute) {
    out.configured.push({ field: 'route', policy: route.id, configured: null, source: `${sourceName(deployed)} resources` });
    out.findings.push(
      finding(
        'drift:configured-vs-policy:route',
        'medium',
        `${route.id} is not a method of ${sourceName(deployed)}`,
        `The policy checks ${route.id}, but the ${deployed.api.type} API's configuration has no such method` +
          ': nothing else of this check was compared.',
      ),
    );
    return out;
  }
  compare({ check, policy, route, deployedRoute, deployed, out });
  return out.configured.length || out.findings.length ? out : undefined;
}

interface Compare {
  check: CheckResult;
  policy: Policy;
  route: RoutePolicy;
  deployedRoute: DeployedRoute;
  deployed: DeployedConfig;
  out: Drift;
}

const COMPARERS: Partial<Record<string, (c: Compare) => void>> = {
  throttle: compareThrottle,
  quota: compareQuota,
  auth: compareAuth,
  sigv4: compareSigV4,
  cors: compareCors,
  waf: compareWaf,
  tracing: compareTracing,
  canary: compareCanary,
};

/** The deployed method the policy's route calls: same method, and the path matches the resource path (`{id}` any segment). */
export function findRoute(deployed: DeployedConfig, route: RoutePolicy): DeployedRoute | undefined {
  const path = route.path.split('?')[0]!.replace(/\/+$/, '') || '/';
  const candidates = deployed.routes.filter((r) => r.method === route.method);
  return (
    candidates.find((r) => r.path === path) ??
    candidates.find((r) => {
      const pattern = r.path
        .split('/')
        .map((seg) => (/^\{[^}]+\+\}$/.test(seg) ? '.+' : /^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      return new RegExp(`^${pattern}$`).test(path);
    })
  );
}

function compareThrottle({ check, route, deployedRoute, deployed, out }: Compare): void {
  const planName = /\[plan (.+)\]$/.exec(check.id)?.[1];
  const policyPlan = planName === undefined ? undefined : route.usagePlans?.find((p) => p.name === planName);
  const limits = planName === undefined ? route.throttle : policyPlan;
  if (!limits) return;
  let configured: Sourced<DeployedThrottle> | undefined;
  let absent: string;
  if (planName === undefined) {
    configured = deployedRoute.throttle;
    absent = 'no stage or method throttle (only the account limit)';
  } else {
    const unreadable = find(deployed.unreadable, 'usage plans');
    if (unreadable)
      return noteUnreadable(out, ['rateLimit', 'burstLimit'], { rateLimit: limits.rateLimit, burstLimit: limits.burstLimit }, unreadable);
    const plan = deployedRoute.usagePlans.find((p) => p.name === planName);
    configured = plan?.throttle;
    absent = plan ? `usage plan ${planName} sets no throttle` : `no usage plan ${planName} applies to this method`;
  }
  const severity: Severity = 'high';
  const measured = measuredThrottle(check);
  for (const field of ['rateLimit', 'burstLimit'] as const) {
    const policyValue = limits[field];
    const value = configured?.value[field];
    const m = field === 'rateLimit' ? measured.rate : measured.burst;
    out.configured.push({
      field,
      policy: policyValue,
      configured: value ?? null,
      ...(m ? { measured: m.text } : {}),
      source: configured?.source ?? absent,
    });
    if (value === undefined) {
      out.findings.push(
        configuredVsPolicy(field, severity, `${field} is not configured in AWS`, `The policy says ${policyValue}; AWS: ${absent}.`),
      );
      continue;
    }
    if (!sameNumber(value, policyValue)) {
      out.findings.push(
        configuredVsPolicy(
          field,
          severity,
          `${field} configured ${value}, policy ${policyValue}`,
          `${configured!.source} is ${value}; the policy says ${policyValue}.`,
        ),
      );
      // Only here does measured-vs-configured add anything: where configured = policy the check judged it.
      if (m && outside(m, value, limits.tolerance))
        out.findings.push(
          finding(
            `drift:measured-vs-configured:${field}`,
            severity,
            `${field} measured ${m.text}, configured ${value}`,
            `The gateway's measured ${field} (${m.text}) is outside ${value} ± ${Math.round(limits.tolerance * 100)}%` +
              ` (the throttle check's tolerance): AWS does not enforce what ${configured!.source} says.`,
          ),
        );
    }
  }
}

interface Measured {
  value: number;
  low: number;
  high: number;
  text: string;
}

/** The throttle check's measured rate and burst as intervals (value ± uncertainty; a lower bound reaches up). */
function measuredThrottle(check: CheckResult): { rate?: Measured; burst?: Measured } {
  if (check.status === 'error') return {};
  const o = check.observed;
  const interval = (value: unknown, uncertainty: unknown, lowerBound: unknown, unit: string): Measured | undefined => {
    if (typeof value !== 'number') return undefined;
    const u = typeof uncertainty === 'number' ? uncertainty : 0;
    const isLower = lowerBound === true;
    return {
      value,
      low: value - u,
      high: isLower ? Infinity : value + u,
      text: isLower ? `≥ ${value}${unit}` : u ? `${value} ± ${u}${unit}` : `${value}${unit}`,
    };
  };
  const rate = interval(o.ratePerSec, o.rateUncertaintyPerSec, o.rateIsLowerBound, '/s');
  const burst = interval(o.burst, o.burstUncertainty, o.burstIsLowerBound, '');
  return { ...(rate ? { rate } : {}), ...(burst ? { burst } : {}) };
}

/** The whole measured interval lies outside configured ± tolerance. */
function outside(m: Measured, configured: number, tolerance: number): boolean {
  return m.high < configured * (1 - tolerance) || m.low > configured * (1 + tolerance);
}

function compareQuota({ route, deployedRoute, deployed, out }: Compare): void {
  const quota = route.quota;
  if (!quota) return;
  const unreadable = find(deployed.unreadable, 'usage plans');
  if (unreadable) return noteUnreadable(out, ['limit', 'period'], { limit: quota.limit, period: quota.period }, unreadable);
  // The plan whose key the quota check uses: named by the policy's usagePlans entry for that credential, else the only plan with a quota.
  const planName = route.usagePlans?.find((p) => p.credential === quota.credential)?.name;
  const withQuota = deployedRoute.usagePlans.filter((p) => p.quota);
  const plan = withQuota.find((p) => p.name === planName) ?? (withQuota.length === 1 ? withQuota[0] : undefined);
  for (const field of ['limit', 'period'] as const) {
    const value = plan?.quota?.value[field];
    out.configured.push({
      field,
      policy: quota[field],
      configured: value ?? null,
      source:
        plan?.quota?.source ??
        (withQuota.length > 1 ? 'several plans with quotas: name the plan in usagePlans' : 'no usage plan with a quota applies'),
    });
    if (value === undefined && withQuota.length <= 1)
      out.findings.push(
        configuredVsPolicy(
          field,
          'medium',
          `no quota is configured in AWS for ${route.id}`,
          `The policy says ${quota.limit} per ${quota.period}.`,
        ),
      );
    else if (value !== undefined && value !== quota[field])
      out.findings.push(
        configuredVsPolicy(
          field,
          'medium',
          `quota ${field} configured ${value}, policy ${quota[field]}`,
          `${plan!.quota!.source} has ${value}; the policy says ${quota[field]}.`,
        ),
      );
  }
}

function compareAuth({ check, policy, route, deployedRoute, out }: Compare): void {
  const auth = deployedRoute.auth;
  if (!route.auth || !auth) return;
  const value = auth.value;
  const bypassed = check.findings.some((f) => /#bypass:/.test(f.id));
  const measured = check.status === 'error' || check.status === 'inconclusive' ? undefined : bypassed ? 'bypassed' : 'refused';
  out.configured.push({
    field: 'required',
    policy: route.auth.required,
    configured: value.required,
    ...(measured ? { measured } : {}),
    source: auth.source,
  });
  out.configured.push({
    field: 'mechanism',
    policy: route.auth.credential ?? null,
    configured: [
      value.apiKeyRequired ? 'API key' : 'no API key',
      value.authorizationType,
      ...(value.authorizer ? [value.authorizer.name] : []),
    ].join(', '),
    source: auth.source,
  });
  if (value.required !== route.auth.required) {
    out.findings.push(
      configuredVsPolicy(
        'required',
        'high',
        value.required
          ? `AWS requires auth on ${route.id}; the policy says it is open`
          : `AWS lets ${route.id} through without auth; the policy requires it`,
        `${auth.source}: apiKeyRequired ${value.apiKeyRequired}, authorizationType ${value.authorizationType}.`,
      ),
    );
    if (measured === 'refused' && !value.required)
      out.findings.push(
        finding(
          'drift:measured-vs-configured:required',
          'medium',
          `${route.id} refused bad credentials although AWS requires none`,
          'Something other than API Gateway (the backend, a proxy in front) does the refusing' +
            ': AWS configuration alone does not protect this route.',
        ),
      );
  }
  // The auth check runs for every credential kind but sigv4 (compareSigV4 has those): AWS_IAM here is a mismatch.
  if (route.auth.required && value.authorizationType === 'AWS_IAM') {
    const name = route.auth.credential;
    const credential = name === undefined ? undefined : policy.credentials[name];
    out.configured.push({ field: 'authorizationType', policy: credentialKind(credential), configured: 'AWS_IAM', source: auth.source });
    out.findings.push(
      configuredVsPolicy(
        'authorizationType',
        'high',
        `AWS requires IAM (SigV4) on ${route.id}; the policy's credential is not sigv4`,
        `${auth.source}: authorizationType AWS_IAM; the policy authenticates with ${credentialKind(credential)}` +
          ' (give the route a `kind: sigv4` credential).',
      ),
    );
  }
  if (measured === 'bypassed' && value.required)
    out.findings.push(
      finding(
        'drift:measured-vs-configured:required',
        'high',
        `${route.id} let requests through although AWS requires auth`,
        `${auth.source} says auth is required (API key ${value.apiKeyRequired}, ${value.authorizationType}),` +
          ' yet the auth check got through: is the deployment stale (settings not deployed to the stage)?',
      ),
    );
}

/** The sigv4 check's route: the policy signs with IAM credentials, so AWS must say AWS_IAM. */
function compareSigV4({ check, route, deployedRoute, out }: Compare): void {
  const auth = deployedRoute.auth;
  if (!auth) return;
  const value = auth.value;
  const bypassed = check.findings.some((f) => /#bypass:/.test(f.id));
  const measured = check.status === 'error' || check.status === 'inconclusive' ? undefined : bypassed ? 'bypassed' : 'refused';
  out.configured.push({
    field: 'authorizationType',
    policy: 'AWS_IAM',
    configured: value.authorizationType,
    ...(measured ? { measured } : {}),
    source: auth.source,
  });
  if (value.authorizationType !== 'AWS_IAM')
    out.findings.push(
      configuredVsPolicy(
        'authorizationType',
        'high',
        `AWS authorizes ${route.id} with ${value.authorizationType}; the policy signs with IAM (SigV4)`,
        `${auth.source}: authorizationType ${value.authorizationType}, apiKeyRequired ${value.apiKeyRequired}` +
          `; the policy's credential ${route.auth?.credential ?? '?'} is kind sigv4.`,
      ),
    );
}

function credentialKind(credential: Policy['credentials'][string] | undefined): string {
  if (!credential) return 'no credential';
  return `${credential.kind ?? 'opaque'} credential ${credential.name}`;
}

/** tracing.required (the check runs only when the policy asks for it) beside the stage's tracingEnabled. */
function compareTracing({ check, route, deployed, out }: Compare): void {
  if (!route.tracing?.required) return;
  const tracing = deployed.tracing;
  // The check's verdict on the trace header: measured only when it could judge.
  const measured = check.status === 'pass' ? 'trace header kept' : check.status === 'fail' ? 'trace header missing or lost' : undefined;
  out.configured.push({
    field: 'tracing',
    policy: true,
    configured: tracing?.value ?? null,
    ...(measured ? { measured } : {}),
    source: tracing?.source ?? `${deployed.api.type} API: no X-Ray tracing setting (REST stages only)`,
  });
  if (tracing?.value === true) return;
  out.findings.push(
    configuredVsPolicy(
      'tracing',
      'medium',
      `X-Ray tracing is not enabled on stage ${deployed.api.stage}; the policy requires it`,
      tracing ? `${tracing.source} is false.` : `${deployed.api.type} API stages have no X-Ray tracing setting.`,
    ),
  );
}

/** canary.percent beside the stage's canarySettings.percentTraffic. */
function compareCanary({ check, route, deployed, out }: Compare): void {
  const canary = route.canary;
  if (!canary) return;
  const configured = deployed.canary;
  const percent = configured?.value?.percentTraffic ?? null;
  const o = check.observed as { sharePercent?: unknown; interval?: { lowPercent?: unknown; highPercent?: unknown } };
  const measured =
    check.status !== 'error' && typeof o.sharePercent === 'number' && o.interval
      ? `${o.sharePercent}% (${String(o.interval.lowPercent)}–${String(o.interval.highPercent)}%)`
      : undefined;
  out.configured.push({
    field: 'percent',
    policy: canary.percent,
    configured: percent,
    ...(measured ? { measured } : {}),
    source: configured ? `${configured.source} percentTraffic` : `${deployed.api.type} API: no canary setting (REST stages only)`,
  });
  if (percent === null)
    out.findings.push(
      configuredVsPolicy(
        'percent',
        'medium',
        `no canary is configured on stage ${deployed.api.stage}`,
        `The policy expects ${canary.percent}% canary traffic; ` +
          (configured ? `${configured.source} has none.` : `${deployed.api.type} APIs have no canary.`),
      ),
    );
  else if (!sameNumber(percent, canary.percent))
    out.findings.push(
      configuredVsPolicy(
        'percent',
        'medium',
        `canary percentTraffic configured ${percent}, policy ${canary.percent}`,
        `${configured!.source} percentTraffic is ${percent}; the policy says ${canary.percent}.`,
      ),
    );
}

function compareCors({ route, deployed, out }: Compare): void {
  const policy = route.cors;
  if (!policy) return;
  const cors = deployed.cors;
  const applies =
    cors && (deployed.api.type === 'HTTP' || deployed.preflightPaths.includes(findRoute(deployed, route)?.path ?? route.path));
  if (!cors || !applies) {
    const unreadable = find(deployed.unreadable, 'gateway responses');
    out.configured.push({
      field: 'allowOrigins',
      policy: policy.allowOrigins,
      configured: null,
      source: deployed.api.type === 'HTTP' ? 'GetApi: no CorsConfiguration' : 'no OPTIONS method or gateway response with CORS headers',
      ...(unreadable ? { unreadable: `${unreadable.call}: ${unreadable.code}` } : {}),
    });
    if (!unreadable)
      out.findings.push(
        configuredVsPolicy(
          'allowOrigins',
          'medium',
          'no CORS configured in AWS for this route',
          `The policy allows ${policy.allowOrigins.join(', ')}.`,
        ),
      );
    return;
  }
  const c = cors.value;
  const rows: Array<[string, unknown, unknown, boolean]> = [
    ['allowOrigins', policy.allowOrigins, c.allowOrigins, sameSet(policy.allowOrigins, c.allowOrigins)],
    [
      'allowMethods',
      policy.allowMethods,
      c.allowMethods,
      policy.allowMethods.length === 0 ||
        sameSet(
          policy.allowMethods.filter((m) => m !== 'OPTIONS'),
          c.allowMethods.map((m) => m.toUpperCase()).filter((m) => m !== 'OPTIONS'),
        ),
    ],
    ['allowCredentials', policy.allowCredentials, c.allowCredentials ?? false, policy.allowCredentials === (c.allowCredentials ?? false)],
  ];
  if (policy.maxAge !== undefined || c.maxAge !== undefined)
    rows.push(['maxAge', policy.maxAge ?? null, c.maxAge ?? null, policy.maxAge === c.maxAge]);
  for (const [field, p, v, same] of rows) {
    out.configured.push({ field, policy: p, configured: v, source: cors.source });
    if (!same)
      out.findings.push(
        configuredVsPolicy(
          field,
          'medium',
          `CORS ${field} configured ${JSON.stringify(v)}, policy ${JSON.stringify(p)}`,
          `From ${cors.source}.`,
        ),
      );
  }
}

function compareWaf({ check, route, deployed, out }: Compare): void {
  if (!route.waf) return;
  if (deployed.api.type === 'HTTP') {
    out.configured.push({ field: 'webAcl', policy: 'blocking', configured: null, source: 'HTTP APIs cannot have a WAF web ACL' });
    out.findings.push(
      configuredVsPolicy(
        'webAcl',
        'medium',
        'HTTP APIs have no AWS WAF',
        'The policy expects a WAF; an HTTP API stage cannot be associated with a web ACL (a CloudFront distribution in front can).',
      ),
    );
    return;
  }
  const waf = deployed.waf;
  const notBlocking = check.findings.some((f) => f.id.endsWith('#waf-not-blocking'));
  const measured = check.status === 'error' || check.status === 'inconclusive' ? undefined : notBlocking ? 'not blocking' : 'blocking';
  if (!waf) {
    const unreadable = find(deployed.unreadable, 'WAF association');
    return noteUnreadable(out, ['webAcl'], { webAcl: 'blocking' }, unreadable);
  }
  out.configured.push({
    field: 'webAcl',
    policy: 'blocking',
    configured: waf.value?.name ?? null,
    ...(measured ? { measured } : {}),
    source: waf.source,
  });
  if (!waf.value)
    out.findings.push(
      configuredVsPolicy(
        'webAcl',
        'medium',
        'no web ACL is associated with the stage',
        `${waf.source} names none; the policy expects a WAF to block.`,
      ),
    );
  else if (notBlocking)
    out.findings.push(
      finding(
        'drift:measured-vs-configured:webAcl',
        'medium',
        `web ACL ${waf.value.name} is associated but blocked no baseline attack`,
        'Its rules may be in Count mode, or the rule groups do not cover the baseline: the association alone is no protection.',
      ),
    );
}

function configuredVsPolicy(field: string, severity: Severity, title: string, detail: string): FindingDraft {
  return finding(`drift:configured-vs-policy:${field}`, severity, title, `${detail} Someone changed AWS, or the policy is stale.`);
}

function noteUnreadable(out: Drift, fields: string[], policy: Record<string, unknown>, unreadable: Unreadable | undefined): void {
  for (const field of fields)
    out.configured.push({
      field,
      policy: policy[field] ?? null,
      configured: null,
      source: unreadable?.call ?? '?',
      unreadable: unreadable ? `${unreadable.code}: ${unreadable.reason}` : 'not read',
    });
  const setting = unreadable?.setting ?? fields.join(',');
  out.findings.push(
    finding(
      `drift:unreadable:${setting
        .replace(/[^a-zA-Z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .toLowerCase()}`,
      'info',
      `${setting} could not be read from AWS: not compared`,
      unreadable ? `${unreadable.call} failed (${unreadable.code}): ${unreadable.reason}` : 'The setting was not read.',
    ),
  );
}

function find(unreadable: Unreadable[], prefix: string): Unreadable | undefined {
  return unreadable.find((u) => u.setting.startsWith(prefix));
}

function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const norm = (xs: readonly string[]) => [...new Set(xs.map((x) => x.toLowerCase()))].sort().join('\n');
  return norm(a) === norm(b);
}

function sourceName(deployed: DeployedConfig): string {
  return `${deployed.api.type} API ${deployed.api.id} stage ${deployed.api.stage}`;
}
