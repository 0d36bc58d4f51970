/**
 * X-Ray as the reference gateway does it: a route with `tracing.required` answers with
 * `X-Amzn-Trace-Id: Root=1-{8 hex epoch}-{24 hex};Parent={16 hex};Sampled=1`, keeping the Root
 * (and Sampled) of a trace header the client sent, as API Gateway keeps an incoming trace.
 */
import { randomBytes } from 'node:crypto';

const ROOT = /(?:^|;)\s*Root=(1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})\s*(?:;|$)/;
const SAMPLED = /(?:^|;)\s*Sampled=([01?])\s*(?:;|$)/;

/** The trace header of the answer to a request that carried `incoming` (or none). */
export function traceHeaderFor(incoming: string | undefined, epochMs = Date.now()): string {
  const root =
    (incoming && ROOT.exec(incoming)?.[1]) ||
    `1-${Math.floor(epochMs / 1000)
      .toString(16)
      .padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
  const sampled = (incoming && SAMPLED.exec(incoming)?.[1]) || '1';
  return `Root=${root};Parent=${randomBytes(8).toString('hex')};Sampled=${sampled}`;
}
