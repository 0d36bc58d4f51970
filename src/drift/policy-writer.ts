import { Document, isCollection, isScalar, visit } from 'yaml';
import type { DeployedConfig, DeployedRoute, RouteUsagePlan } from '../aws/deployed.js';
import { requestsForPrecision } from '../checks/canary/wilson.js';
import { DEFAULT_CANARY_CONFIDENCE, DEFAULT_CANARY_PRECISION } from '../policy/types.js';

/**
 * `gatecheck init --from-aws`: a starting policy from what AWS is configured to enforce. Pure:
 * DeployedConfig in, commented YAML out (the `yaml` package's Document API), every value with the
 * AWS read it came from as a comment, so a reviewer can tell a number read from AWS from one
 * typed by hand. Credentials are `${ENV}` placeholders: key values are never read.
 */

/** The policy schema's own id (policies/schema.json `$id`), for editors. */
export const POLICY_SCHEMA_ID = 'https://gatecheck.dev/schema/policy-v1.json';

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface WriteOptions {
  /** --target, else the stage's invoke URL. */
  target?: string;
}

type Json = Record<string, unknown>;
/** `after`: a trailing comment below a collection (a commented-out block); otherwise on the value's line, or above a collection. */
type Comment = { path: Array<string | number>; text: string; after?: boolean };

export function writePolicy(config: DeployedConfig, options: WriteOptions = {}): string {
  const comments: Comment[] = [];
  const credentials: Record<string, Json> = {};
  const quotaPlaced = new Set<string>();
  const planCredential = (plan: { name: string }): string => {
    const name = `plan-${slug(plan.name)}`;
    credentials[name] ??= { header: 'x-api-key', value: `\${GATECHECK_KEY_${envPart(plan.name)}}` };
    return name;
  };
  const routes = config.routes
    .filter((r) => HTTP_METHODS.has(r.method))
    .map((route, i) => routeEntry(config, route, ['routes', i], comments, credentials, planCredential, quotaPlaced));
  if (credentials[IAM]) {
    comments.push({ path: ['credentials', IAM, 'region'], text: `the API's Region (${config.api.type} API ${config.api.id})` });
    comments.push({
      path: ['credentials', IAM],
      text: 'AWS_IAM methods: signed with SigV4 (service execute-api). Temporary credentials: add sessionToken: "${AWS_SESSION_TOKEN}"',
    });
  }
  const tracing = config.tracing?.value === true;
  if (tracing) {
    comments.push({ path: ['tracing', 'required'], text: `from ${config.tracing!.source}` });
    // docs/canary-tracing.md: AWS promises the header on the requests it passes on, not on answers.
    comments.push({
      path: ['tracing'],
      text: 'the tracing check expects X-Amzn-Trace-Id on answers: set required: false if the backend does not echo it',
    });
  }
  const policy: Json = {
    $schema: POLICY_SCHEMA_ID,
    version: 1,
    target: options.target ?? config.api.invokeUrl,
    vendor: config.api.type === 'REST' ? 'aws-rest' : 'aws-http',
    ...(Object.keys(credentials).length ? { credentials } : {}),
    ...(tracing ? { tracing: { required: true } } : {}),
    routes,
  };
  if (options.target === undefined)
    comments.push({
      path: ['target'],
      text: `the stage's invoke URL (${config.api.type} API ${config.api.id}, stage ${config.api.stage})`,
    });
  const doc = new Document(policy);
  for (const { path, text, after } of comments) {
    const node = doc.getIn(path, true);
    if (after && isCollection(node)) node.comment = node.comment ? `${node.comment}\n${text}` : text;
    else if (isScalar(node)) node.comment = ` ${text}`;
    else if (isCollection(node)) node.commentBefore = node.commentBefore ? `${node.commentBefore}\n ${text}` : ` ${text}`;
  }
  // Lists of plain values on one line ([GET, POST]): a policy reads like the demo's.
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  doc.commentBefore = headerLines(config)
    .map((l) => ` ${l}`)
    .join('\n');
  return doc.toString({ lineWidth: 0 });
}

function routeEntry(
  config: DeployedConfig,
  route: DeployedRoute,
  at: Array<string | number>,
  comments: Comment[],
  credentials: Record<string, Json>,
  planCredential: (plan: { name: string }) => string,
  quotaPlaced: Set<string>,
): Json {
  const entry: Json = { method: route.method, path: route.path };
  const note = (path: Array<string | number>, text: string) => comments.push({ path: [...at, ...path], text });
  if (/\{[^}]+\}/.test(route.path)) note(['path'], 'a path parameter: put a value that exists before running');
  const keyed = route.usagePlans.filter((p) => p.throttle);

  const auth = route.auth?.value;
  if (auth?.required) {
    const credential = authCredential(config, route, credentials, planCredential);
    if (credential === IAM) {
      entry.auth = { required: true, credential };
      note(['auth', 'required'], `from ${route.auth!.source}: authorizationType AWS_IAM (requests are signed with SigV4)`);
    } else if (credential) {
      entry.auth = { required: true, credential };
      const extra =
        auth.apiKeyRequired && auth.authorizationType !== 'NONE' ? ` (also ${auth.authorizationType}: only the key is sent)` : '';
      note(
        ['auth', 'required'],
        `from ${route.auth!.source}: apiKeyRequired ${auth.apiKeyRequired}, authorizationType ${auth.authorizationType}${extra}`,
      );
    }
  } else if (route.auth) {
    note(['method'], `no auth: apiKeyRequired false, authorizationType NONE (from ${route.auth.source})`);
  }

  if (route.throttle) {
    entry.throttle = { rateLimit: route.throttle.value.rateLimit, burstLimit: route.throttle.value.burstLimit };
    note(['throttle', 'rateLimit'], `from ${route.throttle.source}`);
    note(['throttle', 'burstLimit'], `from ${route.throttle.source}`);
    if (keyed.length) note(['throttle'], "measured with the auth key: that key's plan limits apply too, and the strictest level answers");
  } else if (config.accountThrottle) {
    note(['path'], `no stage or method throttle: only the account's (${throttleText(config.accountThrottle.value)})`);
  }

  if (keyed.length) {
    entry.usagePlans = keyed.map((plan) => ({
      name: plan.name,
      credential: planCredential(plan),
      rateLimit: plan.throttle!.value.rateLimit,
      burstLimit: plan.throttle!.value.burstLimit,
    }));
    keyed.forEach((plan, j) => {
      note(['usagePlans', j, 'rateLimit'], `from ${plan.throttle!.source}`);
      note(['usagePlans', j, 'burstLimit'], `from ${plan.throttle!.source}`);
    });
  }

  // A quota belongs to a key across every method of its plan: checked once, on the first route of the plan.
  const quotaPlan = route.usagePlans.find(
    (p): p is RouteUsagePlan & { quota: NonNullable<RouteUsagePlan['quota']> } => p.quota !== undefined && !quotaPlaced.has(p.planId),
  );
  if (quotaPlan) {
    quotaPlaced.add(quotaPlan.planId);
    entry.quota = { limit: quotaPlan.quota.value.limit, period: quotaPlan.quota.value.period, credential: planCredential(quotaPlan) };
    note(['quota', 'limit'], `from ${quotaPlan.quota.source}`);
    note(['quota'], `verifying a quota uses the key up for the period: give ${planCredential(quotaPlan)} a dedicated test key`);
  }

  const cors = corsFor(config, route);
  if (cors) {
    entry.cors = cors;
    note(
      ['cors'],
      `from ${config.cors!.source}${config.api.type === 'REST' ? ' (a hint: an integration may answer preflights otherwise)' : ''}`,
    );
  }

  if (config.waf?.value) {
    entry.waf = { blockStatus: [403] };
    note(['waf'], `web ACL ${config.waf.value.name} (from ${config.waf.source})`);
  }

  // The schema requires canary.marker, and AWS cannot say it: the backend marks canary answers
  // (a stageVariableOverrides variable it echoes back). So the block is written commented out.
  const percent = config.canary?.value?.percentTraffic;
  if (percent !== undefined && percent > 0 && percent < 100)
    comments.push({
      path: at,
      after: true,
      text: [
        ` The stage has a canary. Put in marker what your backend adds to canary answers (AWS adds nothing; e.g. a`,
        ` stageVariableOverrides variable echoed as a header), then uncomment: ~${canaryRequests(percent)} requests per route.`,
        ` canary:`,
        `   percent: ${percent} # from ${config.canary!.source} percentTraffic`,
        `   marker: { header: x-canary, value: "true" } # yours: { header: NAME, value: V } or { bodyField: NAME, value: V }`,
      ].join('\n'),
    });
  return entry;
}

/** The name of the IAM (SigV4) credential `init` writes for AWS_IAM methods. */
const IAM = 'iam';

function authCredential(
  config: DeployedConfig,
  route: DeployedRoute,
  credentials: Record<string, Json>,
  planCredential: (plan: { name: string }) => string,
): string {
  const auth = route.auth!.value;
  if (auth.apiKeyRequired) {
    const plan = route.usagePlans[0];
    if (plan) return planCredential(plan);
    credentials.apiKey ??= { header: 'x-api-key', value: '${GATECHECK_API_KEY}' };
    return 'apiKey';
  }
  if (auth.authorizationType === 'AWS_IAM') {
    // The SDK's own variable names: what `aws configure export-credentials --format env` sets. Never key values.
    credentials[IAM] ??= {
      kind: 'sigv4',
      region: config.api.region,
      accessKeyId: '${AWS_ACCESS_KEY_ID}',
      secretAccessKey: '${AWS_SECRET_ACCESS_KEY}',
    };
    return IAM;
  }
  const jwt = auth.authorizationType === 'JWT' || auth.authorizationType === 'COGNITO_USER_POOLS';
  const name = jwt ? 'jwt' : 'token';
  const header = (auth.authorizer?.identitySource?.[0] ?? '$request.header.Authorization')
    .replace(/^\$request\.header\.|^method\.request\.header\./i, '')
    .toLowerCase();
  credentials[name] ??= {
    header: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header) ? header : 'authorization',
    ...(header === 'authorization' ? { scheme: 'Bearer' } : {}),
    value: jwt ? '${GATECHECK_JWT}' : '${GATECHECK_TOKEN}',
    ...(jwt ? { kind: 'jwt' } : {}),
  };
  return name;
}

function corsFor(config: DeployedConfig, route: DeployedRoute): Json | undefined {
  const c = config.cors?.value;
  if (!c || c.allowOrigins.length === 0) return undefined;
  // REST: only resources with an OPTIONS method answer preflights; HTTP APIs answer them for every route.
  if (config.api.type === 'REST' && !config.preflightPaths.includes(route.path)) return undefined;
  const origins = c.allowOrigins.filter((o) => /^(\*|null|https?:\/\/[^/?#\s]+)$/.test(o));
  if (origins.length === 0) return undefined;
  const methods = c.allowMethods.map((m) => m.toUpperCase()).filter((m) => HTTP_METHODS.has(m));
  const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
  return {
    allowOrigins: origins,
    ...(methods.length ? { allowMethods: methods } : {}),
    ...(c.allowHeaders.some((h) => token.test(h))
      ? { allowHeaders: c.allowHeaders.filter((h) => token.test(h)).map((h) => h.toLowerCase()) }
      : {}),
    ...(c.exposeHeaders.some((h) => token.test(h))
      ? { exposeHeaders: c.exposeHeaders.filter((h) => token.test(h)).map((h) => h.toLowerCase()) }
      : {}),
    ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
    ...(c.maxAge !== undefined ? { maxAge: c.maxAge } : {}),
  };
}

/** The document's opening comment: where it came from, and what the schema cannot hold yet. */
function headerLines(config: DeployedConfig): string[] {
  const { api } = config;
  const lines = [
    `Generated by \`gatecheck init --from-aws\` from ${api.type} API ${api.id}${api.name ? ` (${api.name})` : ''},` +
      ` stage ${api.stage}, ${api.region}.`,
    'Each value names the AWS read it came from. Review it, then: gatecheck validate --policy <this file>',
    'Credentials are ${ENV} placeholders: set those variables to the keys (gatecheck never reads key values).',
  ];
  if (config.accountThrottle)
    lines.push(
      `Account throttle (${config.accountThrottle.source}): ${throttleText(config.accountThrottle.value)}` +
        ': the ceiling over every stage in the Region.',
    );
  if (config.tracing && !config.tracing.value) lines.push(`tracing (${config.tracing.source}): disabled, so no \`tracing\` block.`);
  if (config.canary) {
    const c = config.canary.value;
    const usable = c?.percentTraffic !== undefined && c.percentTraffic > 0 && c.percentTraffic < 100;
    lines.push(
      !c
        ? `canary (${config.canary.source}): none.`
        : usable
          ? `canary (${config.canary.source}): ${JSON.stringify(c)}; written commented out on each route (it needs a marker).`
          : `canary (${config.canary.source}): ${JSON.stringify(c)}; no canary block (the schema takes 0 < percent < 100).`,
    );
  }
  if (api.type === 'REST') {
    lines.push(
      config.corsOnErrors.length
        ? `CORS headers on gateway responses: ${config.corsOnErrors.join(', ')}.`
        : 'No gateway response (DEFAULT_4XX/5XX) adds CORS headers: browsers see refusals as network errors.',
    );
    if (config.waf && !config.waf.value) lines.push(`No web ACL is associated with the stage (${config.waf.source}).`);
  }
  for (const u of config.unreadable) lines.push(`NOT READ: ${u.setting} (${u.call}: ${u.code}, ${u.reason}); nothing written for it.`);
  return lines;
}

/** The canary check's sample at its defaults (±2 points, 95 %), without its few unauthenticated probes. */
function canaryRequests(percent: number): number {
  return requestsForPrecision(percent / 100, DEFAULT_CANARY_PRECISION, DEFAULT_CANARY_CONFIDENCE);
}

function throttleText(t: { rateLimit: number; burstLimit: number }): string {
  return `${t.rateLimit}/s, burst ${t.burstLimit}`;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'plan'
  );
}

function envPart(text: string): string {
  return (
    text
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'PLAN'
  );
}
