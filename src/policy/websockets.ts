import type { PolicyIssue } from './errors.js';
import {
  DEFAULT_THROTTLE_STATUS,
  DEFAULT_THROTTLE_TOLERANCE,
  DEFAULT_WS_FRAME_BYTES,
  DEFAULT_WS_ROUTE_SELECTION,
  type Credential,
  type WebSocketPolicy,
} from './types.js';

/** A `websockets:` entry as the schema guarantees it; resolveWebSockets adds defaults and cross-field rules. */
export interface RawWebSocket {
  name: string;
  url?: string;
  path?: string;
  auth?: { required: boolean; credential?: string; in?: 'header' | 'query'; queryParam?: string };
  throttle?: {
    rateLimit: number;
    burstLimit: number;
    tolerance?: number;
    perConnection?: boolean;
    connections?: number;
    probeSeconds?: number;
  };
  limits?: { maxMessageBytes?: number; frameBytes?: number; idleTimeoutSec?: number };
  message?: Record<string, unknown>;
  route?: { key?: string; selectionExpression?: string };
}

const DEFAULT_MESSAGE = { data: 'gatecheck' };

/** The `websockets:` section with its defaults; problems go to `issues` with their path. */
export function resolveWebSockets(
  raw: RawWebSocket[],
  credentials: Readonly<Record<string, Credential>>,
  issues: PolicyIssue[],
): WebSocketPolicy[] {
  const seen = new Map<string, number>();
  return raw.map((entry, index) => {
    const at = `websockets[${index}]`;
    const earlier = seen.get(entry.name);
    if (earlier !== undefined) issues.push({ path: `${at}.name`, message: `duplicates websockets[${earlier}] (${entry.name})` });
    seen.set(entry.name, index);
    if ((entry.url === undefined) === (entry.path === undefined))
      issues.push({ path: at, message: 'give exactly one of `url` (ws:// or wss://) and `path` (on the target)' });
    const auth = entry.auth;
    if (auth?.credential !== undefined && !(auth.credential in credentials)) {
      const known = Object.keys(credentials);
      issues.push({
        path: `${at}.auth.credential`,
        message: `credential "${auth.credential}" is not defined under credentials${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
      });
    }
    if (auth?.required && auth.credential === undefined)
      issues.push({
        path: `${at}.auth.credential`,
        message: 'is required when auth.required is true (the positive control needs a valid credential)',
      });
    const credential = auth?.credential !== undefined ? credentials[auth.credential] : undefined;
    const selection = entry.route?.selectionExpression ?? DEFAULT_WS_ROUTE_SELECTION;
    const routeKey = entry.route?.key ?? '$default';
    const limits = entry.limits;
    if (
      limits?.maxMessageBytes !== undefined &&
      messageBytes(entry.message ?? DEFAULT_MESSAGE, selection, routeKey) + 16 > limits.maxMessageBytes
    )
      issues.push({ path: `${at}.limits.maxMessageBytes`, message: 'is smaller than the route template `message` itself' });
    return {
      id: `WS ${entry.name}`,
      index,
      name: entry.name,
      ...(entry.url !== undefined ? { url: entry.url.replace(/\/+$/, '') } : {}),
      ...(entry.path !== undefined ? { path: entry.path } : {}),
      ...(auth
        ? {
            auth: {
              required: auth.required,
              ...(auth.credential !== undefined ? { credential: auth.credential } : {}),
              in: auth.in ?? 'header',
              queryParam: auth.queryParam ?? credential?.header ?? 'x-api-key',
            },
          }
        : {}),
      ...(entry.throttle
        ? {
            throttle: {
              rateLimit: entry.throttle.rateLimit,
              burstLimit: entry.throttle.burstLimit,
              tolerance: entry.throttle.tolerance ?? DEFAULT_THROTTLE_TOLERANCE,
              probeSeconds: entry.throttle.probeSeconds ?? 1,
              // Messages are refused with an error frame, not a status; an upgrade may meet API Gateway's 429.
              status: [...DEFAULT_THROTTLE_STATUS],
              perConnection: entry.throttle.perConnection ?? false,
              connections: entry.throttle.connections ?? 4,
            },
          }
        : {}),
      ...(limits
        ? {
            limits: {
              ...(limits.maxMessageBytes !== undefined ? { maxMessageBytes: limits.maxMessageBytes } : {}),
              frameBytes: limits.frameBytes ?? DEFAULT_WS_FRAME_BYTES,
              ...(limits.idleTimeoutSec !== undefined ? { idleTimeoutSec: limits.idleTimeoutSec } : {}),
            },
          }
        : {}),
      message: withRouteKey(entry.message ?? DEFAULT_MESSAGE, selection, routeKey),
      routeKey,
      routeSelectionExpression: selection,
    };
  });
}

/** The template with the route key written where `$request.body.a.b` points (unchanged for `$default`). */
export function withRouteKey(template: Record<string, unknown>, selection: string, routeKey: string): Record<string, unknown> {
  if (routeKey === '$default') return structuredClone(template);
  const keys = selection.replace(/^\$request\.body\./, '').split('.');
  const out = structuredClone(template);
  let node: Record<string, unknown> = out;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = (node[key] = next && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = routeKey;
  return out;
}

function messageBytes(template: Record<string, unknown>, selection: string, routeKey: string): number {
  return Buffer.byteLength(JSON.stringify(withRouteKey(template, selection, routeKey)));
}
