import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { InstanceResult } from './aggregate.js';
import { K6InputError } from './errors.js';
import { NdjsonReader } from './ndjson.js';
import { parseSummary } from './summary.js';

/** Summaries are read whole; past this size a file is not a summary. */
const MAX_SUMMARY_BYTES = 64 * 1024 * 1024;

export interface ReadOptions {
  /** Timeline window, ms (default 100). */
  windowMs?: number;
}

/**
 * Reads one k6 result file, plain or gzip (told by its magic bytes, not its name): NDJSON
 * points are streamed line by line; a JSON document is parsed as one of k6's summaries.
 * Throws K6InputError naming the file (and line) for anything it cannot read.
 */
export async function readK6File(file: string, options: ReadOptions = {}): Promise<InstanceResult> {
  const windowMs = options.windowMs ?? 100;
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new K6InputError(file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (size === 0) throw new K6InputError(file, 'the file is empty: no k6 points or summary in it');
  const gzip = await isGzip(file);

  const source = createReadStream(file);
  const text: Readable = gzip ? source.pipe(createGunzip()) : source;
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  let streamError: Error | undefined;
  const fail = (error: Error) => {
    streamError ??= error;
    lines.close();
  };
  source.on('error', fail);
  text.on('error', fail);

  let lineNo = 0;
  let reader: NdjsonReader | undefined;
  const document: string[] = [];
  let documentBytes = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (reader) {
        reader.line(line, lineNo);
        continue;
      }
      if (document.length === 0 && line.trim() === '') continue;
      if (document.length === 0 && looksLikeNdjson(line)) {
        reader = new NdjsonReader(file, windowMs);
        reader.line(line, lineNo);
        continue;
      }
      document.push(line);
      documentBytes += line.length + 1;
      if (documentBytes > MAX_SUMMARY_BYTES)
        throw new K6InputError(
          file,
          `not k6 NDJSON (line 1 is not a Metric or Point record) and too large for a summary (over ${MAX_SUMMARY_BYTES >> 20} MB)`,
          lineNo,
        );
    }
  } catch (error) {
    // A stream error (bad gzip) can surface through the line iterator itself.
    if (error instanceof K6InputError) throw error;
    streamError ??= error as Error;
  } finally {
    lines.close();
    source.destroy();
  }
  if (streamError) {
    const what = gzip ? 'the gzip stream is truncated or corrupt' : `read error (${streamError.message})`;
    throw new K6InputError(file, `${what} after line ${lineNo}`, lineNo);
  }
  if (reader) return reader.finish();
  if (document.length === 0) throw new K6InputError(file, 'the file holds only whitespace: no k6 points or summary in it');
  return parseSummary(parseJsonDocument(document.join('\n'), file), file, windowMs);
}

/** The first line of `--out json` output is a whole record with type Metric or Point. */
function looksLikeNdjson(line: string): boolean {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return false;
  try {
    const record = JSON.parse(trimmed) as { type?: unknown };
    return record.type === 'Metric' || record.type === 'Point';
  } catch {
    return false;
  }
}

function parseJsonDocument(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8: "... in JSON at position 123 (line 5 column 3)" or "at position 123".
    const line = /line (\d+)/.exec(message)?.[1];
    const position = /position (\d+)/.exec(message)?.[1];
    const lineNo =
      line !== undefined
        ? Number(line)
        : position !== undefined
          ? text.slice(0, Number(position)).split('\n').length
          : text.split('\n').length;
    const atEnd = position !== undefined && Number(position) >= text.trimEnd().length;
    const truncated = atEnd || /end of JSON input|Unterminated/.test(message) ? ' (the file ends early: truncated?)' : '';
    throw new K6InputError(file, `neither k6 NDJSON nor a JSON summary: ${message.replace(/^.*?: /, '')}${truncated}`, lineNo);
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
