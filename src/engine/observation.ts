/**
 * One scheduled request and what came back: the single record type every engine emits
 * (Vegeta's Result). Errors are data: a refused connection is an Observation with `error` set.
 * Times are milliseconds on the engine's monotonic clock (performance.now), relative to the
 * engine's start, so observations from one run can be laid on one timeline.
 */
export interface Observation {
  /** Which probe sent it, e.g. `auth.missing`, `throttle.volley`, `waf.sqli`. */
  probe: string;
  /** Id of the check that sent it (`throttle:GET /api/items`), stamped by the run's stream. */
  check?: string;
  method: string;
  /** Path and query as sent. Auth probes may put a credential in the query on purpose: reports pass it through the Redactor. */
  path: string;
  /** The request's headers (the probe's own object, not a copy): evidence shows them, redacted. */
  requestHeaders?: Record<string, string>;
  /** When the schedule said to send it. Latency is measured from here (coordinated omission). */
  intendedAtMs: number;
  /** When the request was handed to the socket layer. */
  sentAtMs: number;
  /** When the response head arrived (its body then arrived whole), or the request failed. */
  doneAtMs: number;
  /** HTTP status, or undefined when no response came back. */
  status?: number;
  /** Transport failure, a body cut short included: `ECONNREFUSED`, `ECONNRESET`, `timeout`, `tls: ...`, `ENOTFOUND host`. */
  error?: string;
  /** Response headers that checks read (lower-case names, see RECORDED_HEADERS). */
  headers: Record<string, string>;
  /** First bytes of the body, for evidence (`{"message":"Too Many Requests"}`). */
  bodySnippet?: string;
  /** WebSocket probes only (src/engine/ws-client.ts): the upgrade or one message, and what ended it. */
  ws?: WsRecord;
}

/**
 * What a WebSocket exchange adds to the record. The upgrade is an ordinary HTTP exchange (status
 * 101 when the socket opened, 401/403 when `$connect` was refused). A message has no status: it
 * was answered by a frame (its first bytes in bodySnippet), by the socket closing (closeCode), or
 * not at all within the timeout (`error`).
 */
export interface WsRecord {
  event: 'connect' | 'message';
  /** The socket's URL, as sent (a credential in the query is redacted when a report is written). */
  url: string;
  /** Which of the probe's sockets carried the message (0-based). */
  connection?: number;
  /** Message size in bytes, and how many frames it was split into. */
  bytes?: number;
  frames?: number;
  /** Size of the answering frame's message in bytes (bodySnippet holds only its first bytes). */
  answerBytes?: number;
  /** How the message was answered: a frame, the socket closing, or nothing before the timeout. */
  answer?: 'frame' | 'close' | 'none';
  /** Close code (1009: message too big) and reason, when the socket closed before an answer. */
  closeCode?: number;
  closeReason?: string;
}

/** Headers kept on every observation; the rest are dropped to keep records small. */
export const RECORDED_HEADERS = [
  'retry-after',
  // Rate-limit headers (IETF draft RateLimit-*, the older X-RateLimit-*): the throttle check compares them with what it measured.
  'ratelimit',
  'ratelimit-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-amzn-errortype',
  'x-amzn-requestid',
  'www-authenticate',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
  'vary',
  'content-type',
  'server',
  // AWS X-Ray's trace header (the tracing check).
  'x-amzn-trace-id',
  // Redirects are recorded, never followed: the evidence shows where one pointed.
  'location',
] as const;

/** Latency from the intended send time, in milliseconds (undefined for transport errors). */
export function latencyMs(observation: Observation): number | undefined {
  return observation.status === undefined ? undefined : observation.doneAtMs - observation.intendedAtMs;
}
