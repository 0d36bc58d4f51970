/** One minute in milliseconds: CloudWatch's period, the client's per-minute tally and the report's minute ticks. */
export const MINUTE_MS = 60_000;
