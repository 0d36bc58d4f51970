/** Number and time formats shared by the metrics check's verdicts and its report section. */

export function fmt(value: number | undefined): string {
  if (value === undefined) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function percent(share: number): string {
  return `${Math.round(share * 10_000) / 100}%`;
}

/** `10:41` (UTC). */
export function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 16);
}

export function isoMinute(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 16) + 'Z';
}

/** A time window (a CloudWatch fetch window): `2026-11-30 10:41–10:46 UTC`. */
export function describeWindow(window: { startMs: number; endMs: number }): string {
  const start = new Date(window.startMs).toISOString();
  const end = new Date(window.endMs).toISOString();
  return (
    `${start.slice(0, 10)} ${start.slice(11, 16)}–` +
    `${start.slice(0, 10) === end.slice(0, 10) ? '' : `${end.slice(0, 10)} `}${end.slice(11, 16)} UTC`
  );
}
