/**
 * What the three WebSocket checks share: where the socket is, how the credential rides on
 * `$connect`, the message they send, and how an answer to a message reads.
 */
import type { Observation } from '../../engine/observation.js';
import { openWebSocket, type WsClientOptions, type WsConnectResult } from '../../engine/ws-client.js';
import type { Credential, Policy, WebSocketPolicy } from '../../policy/types.js';
import type { CheckContext } from '../context.js';
import { credentialHeaders } from '../context.js';
import { evidenceFrom } from '../evidence.js';
import type { EvidenceItem } from '../types.js';

/** The socket's URL: the entry's own, or its path on the target with ws:// for http:// and wss:// for https://. */
export function socketUrl(target: string | undefined, entry: Pick<WebSocketPolicy, 'url' | 'path'>): string {
  if (entry.url !== undefined) return entry.url;
  const base = (target ?? '').replace(/^http/, 'ws');
  return base + (entry.path ?? '');
}

/** The URL with `name=value` added to its query. */
export function withQuery(url: string, name: string, value: string): string {
  const out = new URL(url);
  out.searchParams.append(name, value);
  return out.toString();
}

/** Where the credential goes on `$connect`: headers, and the URL (query). */
export interface ConnectCredential {
  url: string;
  headers: Record<string, string>;
}

/** The valid credential placed where the entry says: its header, or the query parameter. */
export function placeCredential(
  entry: WebSocketPolicy,
  url: string,
  credential: Credential | undefined,
  value = credential?.value,
): ConnectCredential {
  if (!credential || value === undefined || !entry.auth) return { url, headers: {} };
  if (entry.auth.in === 'query') return { url: withQuery(url, entry.auth.queryParam, value), headers: {} };
  return { url, headers: credentialHeaders(credential, value) };
}

/** The credential a throttle or limits probe connects with (the auth credential when required). */
export function connectCredential(policy: Policy, entry: WebSocketPolicy, url: string): ConnectCredential {
  const name = entry.auth?.required ? entry.auth.credential : undefined;
  return placeCredential(entry, url, name !== undefined ? policy.credentials[name] : undefined);
}

/** The client options of the run: its clock and stream (so observations line up with HTTP ones), timeout, TLS trust. */
export function wsOptions(ctx: CheckContext): WsClientOptions {
  return {
    clock: ctx.client,
    ...(ctx.client.stream ? { stream: ctx.client.stream } : {}),
    timeoutMs: ctx.policy.limits.requestTimeoutMs,
    ...(ctx.client.tls ? { tls: ctx.client.tls } : {}),
    signal: ctx.budget.signal,
  };
}

/** Opens one socket if the run's budget allows; undefined when it does not. */
export async function connect(ctx: CheckContext, probe: string, where: ConnectCredential, index = 0): Promise<WsConnectResult | undefined> {
  if (!ctx.budget.take()) return undefined;
  return openWebSocket({ probe, url: where.url, headers: where.headers }, wsOptions(ctx), index);
}

/** The route template as text, padded (in a `gatecheckPad` field) to `bytes` when asked. */
export function messageText(entry: Pick<WebSocketPolicy, 'message'>, bytes?: number): string {
  const base = JSON.stringify(entry.message);
  if (bytes === undefined) return base;
  const empty = JSON.stringify({ ...entry.message, gatecheckPad: '' });
  const pad = Math.max(0, bytes - Buffer.byteLength(empty));
  return JSON.stringify({ ...entry.message, gatecheckPad: 'x'.repeat(pad) });
}

// How a message was answered lives in the engine: the minute ledger files messages by it too.
export { classifyAnswer, gatewayError, type MessageAnswer } from '../../engine/ws-answer.js';

/** Evidence from a WebSocket observation: the socket's URL, not target + path. */
export function wsEvidence(
  policy: Pick<Policy, 'target'>,
  observation: Observation,
  label: string,
  outcome: EvidenceItem['outcome'],
  note?: string,
): EvidenceItem {
  const item = evidenceFrom(policy, observation, label, outcome, note);
  if (observation.ws) item.url = observation.ws.url;
  // A large answer (the size probe's echo) is cut mid-JSON: its size says more than its first bytes.
  if (item.bodySnippet !== undefined && (observation.ws?.answerBytes ?? 0) > item.bodySnippet.length) {
    item.bodySnippet = `(a ${observation.ws!.answerBytes}-byte frame)`;
  }
  if (observation.ws?.closeCode !== undefined)
    item.note = [note, `socket closed ${observation.ws.closeCode}${observation.ws.closeReason ? ` ${observation.ws.closeReason}` : ''}`]
      .filter(Boolean)
      .join('; ');
  return item;
}

/** One line for progress and summaries: `101`, `403`, `frame`, `close 1009`, `timeout`. */
export function describeWs(observation: Observation | undefined): string {
  if (!observation) return 'not sent (run cap reached)';
  if (observation.ws?.event === 'message') {
    if (observation.ws.answer === 'close') return `close ${observation.ws.closeCode ?? ''}`.trim();
    if (observation.ws.answer === 'frame') return `frame ${(observation.bodySnippet ?? '').slice(0, 60)}`;
  }
  return observation.status !== undefined ? String(observation.status) : (observation.error ?? 'no answer');
}
