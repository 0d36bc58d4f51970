import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulateBucket } from '../../src/checks/throttle/estimate.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = join(REPO, 'test', 'fixtures', 'k6');
export const fixture = (name: string) => join(FIXTURES, name);

export function tempDir(prefix = 'gatecheck-k6-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A directory inside the repository (gitignored), where tsc finds node_modules/@types/k6. */
export function repoTempDir(name: string): string {
  const dir = join(REPO, '.vitest-tmp', `${name}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Type-checks JavaScript files against @types/k6 (tsc --noEmit, checkJs, strict). Returns tsc's output; throws on errors. */
export function typecheckK6(dir: string, files: string[]): string {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        allowJs: true,
        checkJs: true,
        noEmit: true,
        strict: true,
        target: 'ES2020',
        lib: ['ES2020'],
        module: 'ESNext',
        moduleResolution: 'node10',
        types: ['k6'],
        allowSyntheticDefaultImports: true,
        skipLibCheck: true,
      },
      files,
    }),
  );
  try {
    return execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc found errors:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Go's RFC 3339 with nanoseconds, as k6 writes point times. */
export function k6Time(ms: number): string {
  const whole = Math.floor(ms / 1000) * 1000;
  const nanos = Math.round((ms - whole) * 1e6);
  return `${new Date(whole).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}+00:00`;
}

export interface SyntheticRequest {
  route: string;
  probe: string;
  scenario: string;
  sentAtMs: number;
  latencyMs: number;
  status: number;
  expected: boolean;
  /** The export's `plan` tag: a usage plan's probe. */
  plan?: string;
  /** k6's `error` tag of a request that got no response (status 0). */
  error?: string;
}

/**
 * What a gatecheck-exported script run against a token bucket would record: a volley of
 * `volley` requests at t=0 (within 2 ms) and a paced run at `pacedRate`/s for `pacedSeconds`,
 * then optional slo requests, answered by an exact bucket.
 */
export function bucketRun(o: {
  route: string;
  routeIndex: number;
  rate: number;
  burst: number;
  volley: number;
  pacedRate: number;
  pacedSeconds: number;
  startMs: number;
  slo?: { rate: number; seconds: number; latencyMs: number; errorEvery?: number };
  /** A usage plan's probe: tagged with its name, in its own scenarios (`r0_p1_throttle_volley`). */
  plan?: { name: string; index: number };
}): SyntheticRequest[] {
  const volley = Array.from({ length: o.volley }, (_, i) => ({
    probe: 'throttle.volley',
    at: o.startMs + (i * 2) / Math.max(1, o.volley - 1),
  }));
  const paced = Array.from({ length: Math.round(o.pacedRate * o.pacedSeconds) }, (_, i) => ({
    probe: 'throttle.paced',
    at: o.startMs + (i * 1000) / o.pacedRate,
  }));
  const all = [...volley, ...paced].sort((a, b) => a.at - b.at);
  const accepted = simulateBucket(
    all.map((r) => r.at),
    o.rate,
    o.burst,
  );
  const requests: SyntheticRequest[] = all.map((r, i) => ({
    route: o.route,
    probe: r.probe,
    scenario: `r${o.routeIndex}_${o.plan ? `p${o.plan.index}_` : ''}${r.probe.replace('.', '_')}`,
    sentAtMs: r.at,
    latencyMs: 20 + (i % 7),
    status: accepted[i] ? 200 : 429,
    expected: true,
    ...(o.plan ? { plan: o.plan.name } : {}),
  }));
  if (o.slo) {
    const start = o.startMs + o.pacedSeconds * 1000 + 1000;
    for (let i = 0; i < Math.round(o.slo.rate * o.slo.seconds); i++) {
      const failed = o.slo.errorEvery !== undefined && i % o.slo.errorEvery === o.slo.errorEvery - 1;
      requests.push({
        route: o.route,
        probe: 'slo',
        scenario: `r${o.routeIndex}_slo`,
        sentAtMs: start + (i * 1000) / o.slo.rate,
        latencyMs: o.slo.latencyMs + (i % 10),
        status: failed ? 503 : 200,
        expected: !failed,
      });
    }
  }
  return requests;
}

/**
 * k6 `--out json` NDJSON for these requests, spread over `instances` files the way execution
 * segments interleave iterations (round robin). Each file starts each metric with its Metric
 * line, as every k6 process does; points carry k6-operator's instance_id tag.
 */
export function toNdjson(
  requests: SyntheticRequest[],
  instances = 1,
  extra: { thresholds?: Record<string, string[]>; dropped?: Record<string, number> } = {},
): string[] {
  const files: string[][] = Array.from({ length: instances }, () => []);
  const seen: Array<Set<string>> = Array.from({ length: instances }, () => new Set());
  const metric = (i: number, name: string, type: string, contains: string) => {
    if (seen[i]!.has(name)) return;
    seen[i]!.add(name);
    // As k6 writes them: thresholds of the metric itself; threshold selectors on tags become submetrics.
    const submetrics = Object.keys(extra.thresholds ?? {})
      .filter((key) => key.startsWith(`${name}{`))
      .map((key) => {
        const suffix = key.slice(name.length + 1, -1);
        return {
          name: key,
          suffix,
          tags: Object.fromEntries(
            suffix.split(',').map((kv) => [kv.slice(0, kv.indexOf(':')).trim(), kv.slice(kv.indexOf(':') + 1).trim()]),
          ),
        };
      });
    files[i]!.push(
      JSON.stringify({
        type: 'Metric',
        data: { name, type, contains, thresholds: extra.thresholds?.[name] ?? [], submetrics: submetrics.length ? submetrics : null },
        metric: name,
      }),
    );
  };
  const sorted = [...requests].sort((a, b) => a.sentAtMs + a.latencyMs - (b.sentAtMs + b.latencyMs));
  sorted.forEach((r, n) => {
    const i = n % instances;
    const url = `https://api.example.com${r.route.split(' ')[1] ?? ''}`;
    const tags: Record<string, string> = {
      expected_response: String(r.expected),
      group: '',
      instance_id: String(i),
      method: 'GET',
      name: url,
      probe: r.probe,
      proto: 'HTTP/1.1',
      route: r.route,
      scenario: r.scenario,
      status: String(r.status),
      url,
    };
    if (r.plan !== undefined) tags.plan = r.plan;
    // As k6 tags a request that got no response: status 0, no proto, the error and its code.
    if (r.status === 0) {
      delete tags.proto;
      tags.error = r.error ?? 'dial tcp 203.0.113.7:443: connect: connection refused';
      tags.error_code = '1212';
    }
    const time = k6Time(r.sentAtMs + r.latencyMs);
    const point = (name: string, value: number) =>
      files[i]!.push(JSON.stringify({ metric: name, type: 'Point', data: { time, value, tags } }));
    metric(i, 'http_reqs', 'counter', 'default');
    point('http_reqs', 1);
    metric(i, 'http_req_duration', 'trend', 'time');
    point('http_req_duration', r.latencyMs);
    metric(i, 'http_req_failed', 'rate', 'default');
    point('http_req_failed', r.expected ? 0 : 1);
  });
  for (const [scenario, count] of Object.entries(extra.dropped ?? {})) {
    metric(0, 'dropped_iterations', 'counter', 'default');
    for (let k = 0; k < count; k++)
      files[0]!.push(
        JSON.stringify({
          metric: 'dropped_iterations',
          type: 'Point',
          data: { time: k6Time(requests[0]!.sentAtMs + k), value: 1, tags: { scenario } },
        }),
      );
  }
  return files.map((lines) => `${lines.join('\n')}\n`);
}
