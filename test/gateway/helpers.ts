import type { Policy, RoutePolicy } from '../../src/policy/types.js';
import { DEFAULT_LIMITS } from '../../src/policy/types.js';
import { startGateway, type GatewayHandle } from '../../src/gateway/server.js';
import type { FaultName } from '../../src/gateway/faults.js';

export const API_KEY = 'key-123';
export const ALT_KEY = 'key-alt';
export const TOKEN = 'tok-456';
export const APP_ORIGIN = 'https://app.example.com';
export const EVIL_ORIGIN = 'https://evil.example';

function route(partial: Omit<RoutePolicy, 'id' | 'index' | 'name'>, index: number): RoutePolicy {
  const id = `${partial.method} ${partial.path}`;
  return { id, index, name: id, ...partial };
}

/** A resolved policy (what loadPolicyFile returns) exercising every pipeline step. */
export function testPolicy(): Policy {
  const cors = {
    allowOrigins: [APP_ORIGIN],
    allowMethods: ['GET' as const, 'POST' as const],
    allowHeaders: ['content-type', 'x-api-key'],
    exposeHeaders: ['x-amzn-requestid'],
    allowCredentials: true,
    maxAge: 600,
  };
  const routes: Array<Omit<RoutePolicy, 'id' | 'index' | 'name'>> = [
    {
      method: 'GET',
      path: '/api/items',
      auth: { required: true, credential: 'main', refuseStatus: [401, 403] },
      // Rate 1/s: within one test's few milliseconds at most one extra token can appear.
      throttle: { rateLimit: 1, burstLimit: 3, tolerance: 0.1, probeSeconds: 2, status: [429], credential: 'alt' },
      cors,
    },
    { method: 'POST', path: '/api/items', okStatus: [201], auth: { required: true, credential: 'main', refuseStatus: [401, 403] }, cors },
    { method: 'GET', path: '/health' },
    { method: 'HEAD', path: '/health' },
    { method: 'GET', path: '/bearer', auth: { required: true, credential: 'bearer', refuseStatus: [401, 403] } },
    {
      method: 'GET',
      path: '/public',
      cors: { allowOrigins: ['*'], allowMethods: ['GET'], allowHeaders: [], exposeHeaders: [], allowCredentials: false },
    },
    { method: 'GET', path: '/limited', throttle: { rateLimit: 2, burstLimit: 1, tolerance: 0.1, probeSeconds: 2, status: [429] } },
  ];
  return {
    version: 1,
    vendor: 'aws-rest',
    limits: DEFAULT_LIMITS,
    gate: { failOn: 'high' },
    credentials: {
      main: { name: 'main', header: 'x-api-key', value: API_KEY },
      alt: { name: 'alt', header: 'x-api-key', value: ALT_KEY },
      bearer: { name: 'bearer', header: 'authorization', scheme: 'Bearer', value: TOKEN },
    },
    routes: routes.map(route),
  };
}

/** Starts a gateway on a free port, runs `body`, always closes it. */
export async function withGateway<T>(
  faults: FaultName[],
  body: (gateway: GatewayHandle) => Promise<T>,
  policy: Policy = testPolicy(),
): Promise<T> {
  const gateway = await startGateway({ policy, faults });
  try {
    return await body(gateway);
  } finally {
    await gateway.close();
  }
}

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

export async function call(gateway: GatewayHandle, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(gateway.url + path, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** `n` sequential calls; returns the statuses and how long they took. */
export async function volley(
  gateway: GatewayHandle,
  path: string,
  n: number,
  init: RequestInit = {},
): Promise<{ statuses: number[]; elapsedMs: number }> {
  const started = performance.now();
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await call(gateway, path, init)).status);
  return { statuses, elapsedMs: performance.now() - started };
}

export const count = (statuses: number[], status: number): number => statuses.filter((s) => s === status).length;
