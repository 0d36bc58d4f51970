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

/**
 * Text wrapped at spaces into lines of at most `width` characters (a longer word is split), at
 * most `maxLines` of them: a cut ends at a word, with `…`. Console table cells use it, so the key
 * figure at the end of a summary is not cut mid-word.
 */
export function wrapWords(text: string, width: number, maxLines = Infinity): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    for (let rest = word; rest;) {
      const room = line ? width - line.length - 1 : width;
      if (rest.length <= room) {
        line = line ? `${line} ${rest}` : rest;
        rest = '';
      } else if (line) {
        lines.push(line);
        line = '';
      } else {
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1]!;
  // Room for the ellipsis: drop whole words from the end of the last kept line.
  kept[maxLines - 1] =
    last.length < width ? `${last}…` : `${last.slice(0, last.lastIndexOf(' ') > 0 ? last.lastIndexOf(' ') : width - 1)}…`;
  return kept;
}
