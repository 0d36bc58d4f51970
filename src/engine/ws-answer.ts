import type { Observation } from './observation.js';

/**
 * How a message was answered. API Gateway's own refusals are frames shaped `{"message": …,
 * "connectionId": …, "requestId": …}`; the exact throttling text is not documented, so it is
 * matched loosely ("Too Many Requests", "Limit Exceeded", "Rate exceeded", "throttl…").
 * - accepted: a frame that is not a gateway error (the route's answer)
 * - throttled: a gateway error frame about a limit
 * - closed: the socket closed instead of an answer (closeCode on the record)
 * - gateway-error: another gateway error frame (Forbidden, Internal server error)
 * - unanswered: no frame and no close before the timeout, or the socket was already gone
 */
export type MessageAnswer = 'accepted' | 'throttled' | 'closed' | 'gateway-error' | 'unanswered';

const THROTTLE_TEXT = /too many requests|limit exceeded|rate exceeded|throttl/i;

export function classifyAnswer(observation: Observation): MessageAnswer {
  const ws = observation.ws;
  if (ws?.answer === 'close') return 'closed';
  if (ws?.answer !== 'frame') return 'unanswered';
  const error = gatewayError(observation.bodySnippet ?? '');
  if (error === undefined) return 'accepted';
  return THROTTLE_TEXT.test(error) ? 'throttled' : 'gateway-error';
}

/** The `message` of a gateway error frame, or undefined for any other frame (the route's answer). */
export function gatewayError(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A snippet cut at 512 bytes, or not JSON: look for the shape in the text itself.
    const match = /^\s*\{\s*"message"\s*:\s*"([^"]*)"[^}]*"(connectionId|requestId)"/.exec(text);
    return match?.[1];
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  // The gateway's frame carries its own ids beside the message; a route answer echoing a `message` field does not.
  if (typeof record.message === 'string' && ('connectionId' in record || 'requestId' in record)) return record.message;
  return undefined;
}
