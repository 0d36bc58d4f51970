import { isIPv4, isIPv6 } from 'node:net';
import { basename, extname } from 'node:path';
import type { Policy } from '../policy/types.js';
import type { Scenario } from '../scenarios/scenario.js';
import { renderManifests, RESULTS_DIR } from './manifests.js';
import { shellQuote } from '../util/shell.js';
import { k8sName } from './names.js';
import { phaseCredentials, planK6, type K6Plan } from './plan.js';
import { headerEnvVars, type CredentialEnv } from './policy.js';
import { renderScript } from './script.js';

export const SCRIPT_FILE = 'gatecheck.js';

export interface ExportInput {
  policy: Policy;
  policyFile: string;
  credentialEnv: Record<string, CredentialEnv>;
  /** Each route's policy headers as written (k6/policy.ts headerTemplates). */
  headerTemplates?: Array<Record<string, string> | undefined>;
  gatecheckVersion: string;
  scenario?: Scenario;
  routes?: string[];
  parallelism: number;
  separate?: boolean;
  name?: string;
  namespace?: string;
  secretName?: string;
  image?: string;
  storageClass?: string;
  storageSize?: string;
  expectedLatencyMs?: number;
  /** The command line, as shown in the script's header. */
  command: string;
}

export interface K6Export {
  plan: K6Plan;
  /** File name → content; every file is secret-free (checked). */
  files: Record<string, string>;
  name: string;
  secretName: string;
  warnings: string[];
}

/** Builds the script, the manifests and a README for one policy. Throws when nothing can be exported. */
export function buildK6Export(input: ExportInput): K6Export {
  const plan = planK6(input.policy.routes, {
    requestTimeoutMs: input.policy.limits.requestTimeoutMs,
    ...(input.scenario ? { scenario: input.scenario } : {}),
    ...(input.routes ? { routes: input.routes } : {}),
    ...(input.expectedLatencyMs !== undefined ? { expectedLatencyMs: input.expectedLatencyMs } : {}),
  });
  // The script would send an IAM credential's secret key as a header value: k6 has no SigV4 signer of the SDK's.
  const iam = [...new Set(phaseCredentials(plan))].filter((name) => input.policy.credentials[name]?.kind === 'sigv4');
  if (iam.length)
    throw new ExportError(
      `credential ${iam.join(', ')} is an IAM (SigV4) credential, which the k6 script cannot sign with; ` +
        'leave its routes out (--route) or check them with `gatecheck run`',
    );
  if (plan.phases.length === 0) {
    const why = plan.skipped.map((s) => `${s.route}: ${s.reason}`).join('; ');
    throw new ExportError(`nothing to export${why ? ` (${why})` : ''}${plan.notes.length ? `; ${plan.notes.join('; ')}` : ''}`);
  }
  const name = k8sName(input.name ?? `gatecheck-${basename(input.policyFile, extname(input.policyFile))}`);
  const secretName = input.secretName ?? `${name}-credentials`;
  const script = renderScript({
    plan,
    policy: input.policy,
    policyFile: input.policyFile,
    credentialEnv: input.credentialEnv,
    ...(input.headerTemplates ? { headerTemplates: input.headerTemplates } : {}),
    gatecheckVersion: input.gatecheckVersion,
    command: input.command,
  });
  const usedNames = [...new Set(phaseCredentials(plan))].sort();
  const credentials = usedNames.map((n) => input.credentialEnv[n]!);
  // The Secret holds every variable the script reads: the credentials, then what the exported routes' headers name.
  const exportedRoutes = new Set(plan.phases.map((p) => p.route.index));
  const headerVars = headerEnvVars((input.headerTemplates ?? []).filter((_, i) => exportedRoutes.has(i)));
  const secretVars: SecretVar[] = [
    ...credentials.map((c) => ({ envVar: c.envVar, about: `credential "${c.credential}"` })),
    ...headerVars.map((envVar) => ({ envVar, about: "read by the policy's headers" })),
  ];
  // The manifests carry the target to pods in a cluster: a loopback address there is the pod itself.
  const loopback = input.policy.target !== undefined && isLoopbackUrl(input.policy.target);
  const manifests = renderManifests({
    name,
    parallelism: input.parallelism,
    separate: input.separate ?? false,
    secretName,
    credentials: secretVars,
    storageSize: input.storageSize ?? '1Gi',
    scriptFile: SCRIPT_FILE,
    script,
    ...(input.namespace ? { namespace: input.namespace } : {}),
    ...(input.policy.target ? { target: input.policy.target } : {}),
    ...(loopback ? { targetNote: `${LOOPBACK_NOTE}: set GATECHECK_TARGET to an address the cluster reaches` } : {}),
    ...(input.image ? { image: input.image } : {}),
    ...(input.storageClass ? { storageClass: input.storageClass } : {}),
  });
  const warnings = [
    ...plan.notes,
    ...(loopback ? [`the target ${input.policy.target} is a loopback address: ${LOOPBACK_NOTE} (pass --target URL)`] : []),
    ...plan.skipped.map((s) => `route ${s.route} not exported: ${s.reason}`),
    ...credentials
      .filter((c) => c.derived)
      .map((c) => `credential "${c.credential}" is not written as \${NAME} in the policy: the script reads it from ${c.envVar}`),
  ];
  const files = { [SCRIPT_FILE]: script, ...manifests, 'README.md': readme(input, plan, name, secretName, secretVars) };
  assertNoSecrets(files, input.policy);
  return { plan, files, name, secretName, warnings };
}

export class ExportError extends Error {}

/**
 * Fail closed: if any credential value the policy resolved to (a real value, not an unset
 * `${NAME}`) appears in any output file, in any common encoding, refuse to write anything.
 */
export function assertNoSecrets(files: Record<string, string>, policy: Policy): void {
  const secrets = [
    ...Object.values(policy.credentials).map((c) => ({ value: c.value, what: `credential "${c.name}"` })),
    ...(policy.headerSecrets ?? []).map((h) => ({ value: h.value, what: `header ${h.name}` })),
  ];
  for (const { value, what } of secrets) {
    if (value.length < 4 || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) continue;
    const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), Buffer.from(value).toString('base64')]);
    for (const [file, content] of Object.entries(files)) {
      if ([...forms].some((form) => content.includes(form)))
        throw new ExportError(`refusing to write ${file}: it would contain the value of ${what}`);
    }
  }
}

/** Why a loopback target cannot go into the manifests as it is. */
export const LOOPBACK_NOTE = 'a pod cannot reach 127.0.0.1 on your laptop';

/** localhost, *.localhost, 127.0.0.0/8, ::1 (and the unspecified 0.0.0.0 / ::): addresses only this machine answers. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIPv4(host)) return host.startsWith('127.') || host === '0.0.0.0';
  if (isIPv6(host)) return host === '::1' || host === '::' || /^::ffff:127\./.test(host);
  return false;
}

/** An environment variable the script reads, and what for (README). */
interface SecretVar {
  envVar: string;
  about: string;
}

function readme(input: ExportInput, plan: K6Plan, name: string, secretName: string, credentials: SecretVar[]): string {
  const ns = input.namespace ? ` -n ${input.namespace}` : '';
  const secretArgs = credentials.map((c) => `--from-literal=${c.envVar}="$${c.envVar}"`).join(' ');
  const policyArg = shellQuote(input.policyFile);
  return [
    `# k6 export of ${basename(input.policyFile)}`,
    '',
    `Generated by \`${input.command}\`. ${plan.phases.length} k6 scenario(s), about ${Math.ceil(plan.totalMs / 1000)} s of load:`,
    '',
    '| scenario | route | probe | load | start |',
    '| --- | --- | --- | --- | --- |',
    ...plan.phases.map((p) => {
      const load =
        p.phase.kind === 'volley'
          ? `volley of ${p.phase.requests}`
          : p.phase.fromRatePerSec === p.phase.toRatePerSec
            ? `${p.phase.fromRatePerSec}/s for ${p.phase.durationSec} s`
            : `${p.phase.fromRatePerSec}→${p.phase.toRatePerSec}/s over ${p.phase.durationSec} s`;
      return `| \`${p.scenario}\` | \`${p.route.id}\` | ${p.probe} | ${load} | ${(p.startMs / 1000).toFixed(1)} s |`;
    }),
    '',
    '## One machine',
    '',
    '```sh',
    ...credentials.map((c) => `export ${c.envVar}=...   # ${c.about}`),
    `k6 run --out json=points.ndjson.gz --summary-export=summary-export.json ${SCRIPT_FILE}`,
    `gatecheck import k6 points.ndjson.gz summary-export.json --policy ${policyArg}`,
    '```',
    '',
    `## Kubernetes (k6-operator), ${input.parallelism} pod(s)`,
    '',
    '```sh',
    ...(credentials.length ? [`kubectl${ns} create secret generic ${secretName} ${secretArgs}`] : []),
    'kubectl apply -f .',
    `kubectl${ns} wait --for=jsonpath='{.status.stage}'=finished testrun/${name} --timeout=30m`,
    `kubectl cp ${input.namespace ? `${input.namespace}/` : ''}${name}-reader:${RESULTS_DIR} ./k6-results`,
    `gatecheck import k6 ./k6-results/*.ndjson.gz ./k6-results/*.summary.json --policy ${policyArg}`,
    `kubectl${ns} delete -f .`,
    '```',
    '',
    'The script reads every credential from the environment (in Kubernetes, from the Secret); no secret is written here.',
    '',
  ].join('\n');
}
