/**
 * A k6 file gatecheck cannot read (empty, truncated, an unknown shape), or export input it
 * cannot honour. The CLI maps it to exit 2 (bad input) and prints `file:line: message`.
 */
export class K6InputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'K6InputError';
  }
}
