/**
 * Everything the CLI takes from the process, in one injected object (k6's idea): tests run
 * main() in-process with their own streams and environment, and nothing below cli/ touches
 * process, console or exit codes.
 */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Progress redraws one line on a terminal; in CI (or piped) it prints plain lines. */
  interactive: boolean;
  cwd: string;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); `serve` waits on it. */
  stopSignal: () => Promise<void>;
  /**
   * Calls `listener` on the first SIGINT/SIGTERM (a run winds down and writes its reports); a
   * second signal ends the process at once with 130. Returns a function that removes the handlers.
   */
  onInterrupt?: (listener: () => void) => () => void;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
    cwd: process.cwd(),
    stopSignal: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
    onInterrupt: (listener) => {
      let signals = 0;
      const handler = () => {
        signals++;
        if (signals === 1) listener();
        // The second Ctrl-C: the user wants out now, reports or not.
        else process.exit(130);
      };
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/** A progress sink: redraws a status line on a TTY, prints lines otherwise. */
export function progressPrinter(io: CliIo, quiet: boolean): { line: (text: string) => void; done: () => void } {
  if (quiet) return { line: () => {}, done: () => {} };
  if (!io.interactive) return { line: (text) => io.stderr.write(`gatecheck: ${text}\n`), done: () => {} };
  const width = (io.stderr as NodeJS.WriteStream).columns ?? 100;
  return {
    line: (text) => io.stderr.write(`\r\x1b[K${text.slice(0, width - 1)}`),
    done: () => io.stderr.write('\r\x1b[K'),
  };
}
