/**
 * Processes for the limiter harnesses: start one in the foreground with its output captured, wait until it
 * answers, stop it (graceful signal, SIGKILL to the whole tree after a bound), and kill whatever a test left
 * behind when the test process exits. Same conduct as test/support/nginx.ts, shared by every limiter here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LimiterTruth, RunningLimiter } from './types.js';

export const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_CAP = 64_000;

export interface LaunchOptions {
  /** For messages: `haproxy`, `varnishd`… */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves undefined once the process serves; otherwise what is still wrong. Polled every 50 ms. */
  ready: (output: () => string) => Promise<string | undefined>;
  /** The signal that stops it gracefully. */
  stopSignal?: NodeJS.Signals;
  startTimeoutMs?: number;
}

export interface Launched {
  pid: number;
  /** stdout and stderr so far. */
  output(): string;
  /** This process and every descendant alive now. */
  tree(): number[];
  stop(): Promise<void>;
}

export type LaunchResult = { ok: true; proc: Launched } | { ok: false; reason: string; output: string };

/** Processes started here and not yet stopped: killed (with their trees) if the test process exits without stop(). */
const running = new Set<ChildProcess>();
/** Directories made here and not yet removed. */
const dirs = new Set<string>();
let exitHookInstalled = false;

/** A fresh directory under the OS temp dir, removed at exit unless removeDir() came first. */
export function makeDir(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `gatecheck-${prefix}-`));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Starts `command` and waits until `ready` says it serves, it exits, or the start times out. */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  installExitHook();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < OUTPUT_CAP) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
      resolve();
    });
    child.once('error', (error) => {
      exited = `could not run ${options.command}: ${error.message}`;
      resolve();
    });
  });
  running.add(child);

  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  let ready = false;
  while (exited === undefined && Date.now() < deadline) {
    const problem = await options.ready(() => output);
    if (problem === undefined) {
      ready = true;
      break;
    }
    lastProblem = problem;
    await sleep(50);
  }
  if (!ready || exited !== undefined) {
    const reason =
      exited !== undefined ? `${options.name} exited (${exited})` : `${options.name} not ready within ${timeoutMs} ms (${lastProblem})`;
    await killHard(child, exitedPromise);
    running.delete(child);
    return { ok: false, reason, output };
  }

  let stopping: Promise<void> | undefined;
  const proc: Launched = {
    pid: child.pid ?? -1,
    output: () => output,
    tree: () => (child.pid === undefined ? [] : [child.pid, ...descendants(child.pid)].filter(isRunning)),
    stop: () => {
      stopping ??= (async () => {
        if (exited === undefined) {
          // Read the tree first: a master that exits takes the parent links of its workers with it.
          const workers = child.pid === undefined ? [] : descendants(child.pid);
          child.kill(options.stopSignal ?? 'SIGTERM');
          const graceful = await Promise.race([exitedPromise.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
          if (!graceful) await killHard(child, exitedPromise);
          await waitGone(workers);
        }
        running.delete(child);
      })();
      return stopping;
    },
  };
  return { ok: true, proc };
}

/** Starts a server on a free port, retrying with another port when the one picked was taken meanwhile. */
export async function withFreePort<T>(attempt: (port: number) => Promise<{ ok: true; value: T } | { ok: false; log: string }>): Promise<T> {
  const attempts = 3;
  for (let n = 1; ; n++) {
    const result = await attempt(await freePort());
    if (result.ok) return result.value;
    if (n < attempts && /address already in use|EADDRINUSE|Could not bind|bind.*in use/i.test(result.log)) continue;
    throw new Error(result.log);
  }
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Undefined when GET `path` answers 200 with a body containing `expect`; otherwise what went wrong. */
export function probeHttp(port: number, path = '/health', expect = 'ok'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve(res.statusCode === 200 && body.includes(expect) ? undefined : `GET ${path} answered ${res.statusCode ?? '?'}`),
      );
      res.on('error', (error) => resolve(error.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

/** The start-failure message: why, then the log (every start failure prints it). */
export function failureLog(name: string, reason: string, ...logs: string[]): string {
  const log = logs.join('').trim();
  return `${name} did not start: ${reason}\n--- ${name} log ---\n${log || '(empty)'}`;
}

export function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** True while `pid` is a live process (a zombie, already exited and waiting to be reaped, is not). */
export function isRunning(pid: number): boolean {
  const stat = readIfExists(`/proc/${pid}/stat`);
  if (stat === '') return false;
  // The state follows the command name, which is in parentheses and may itself contain spaces.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** Every descendant of `pid` (children first), from /proc. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  // A child belongs to the thread that forked it: read every thread's list.
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    // Gone meanwhile.
  }
  for (const task of tasks) {
    for (const child of readIfExists(`/proc/${pid}/task/${task}/children`).split(/\s+/).filter(Boolean).map(Number)) {
      out.push(child, ...descendants(child));
    }
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function killHard(child: ChildProcess, exitedPromise: Promise<void>): Promise<void> {
  const workers = child.pid === undefined ? [] : descendants(child.pid);
  killTree(child);
  await Promise.race([exitedPromise, sleep(2_000)]);
  await waitGone(workers);
}

/** Waits (bounded) for processes that were children of a stopped master; SIGKILL for any that stay. */
async function waitGone(pids: number[]): Promise<void> {
  const deadline = Date.now() + STOP_GRACE_MS;
  while (pids.some(isRunning) && Date.now() < deadline) await sleep(20);
  for (const pid of pids.filter(isRunning)) kill(pid);
}

function killTree(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  for (const worker of descendants(pid)) kill(worker);
  child.kill('SIGKILL');
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) killTree(child);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** A limiter served by one process on one port in its own directory: stop() ends the process and removes the directory. */
export function runningLimiter(
  name: string,
  truth: LimiterTruth,
  proc: { tree(): number[]; output(): string; stop(): Promise<void> },
  port: number,
  dir: string,
): RunningLimiter {
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    truth,
    pids: proc.tree(),
    ports: [port],
    dir,
    log: () => proc.output(),
    stop: async () => {
      await proc.stop();
      removeDir(dir);
    },
  };
}
