/**
 * A loopback nginx answering `return 200` — the peer-neutral endpoint every benchmark here
 * loads (wrk, autocannon, gatecheck), so their figures compare like with like.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NginxTarget {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Whether nginx answers on `port`. Asked on a connection that closes after the answer: a pooled
 * keep-alive one (fetch's) would stay open in nginx's count of active connections for seconds.
 */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume().on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false)).end();
  });
}

export interface NginxTargetOptions {
  workers?: number;
  /** Goes into the http block (e.g. a limit_req_zone). */
  httpExtra?: string;
  /** Goes into `location /limited`. */
  limitedLocation?: string;
  /** Goes into the server block (more locations). */
  serverExtra?: string;
  /**
   * Requests per connection before nginx closes it [default: 1000000, so benchmarks measure no
   * reconnects]; 'nginx-default' leaves nginx's own (1000), as a stock install has it.
   */
  keepaliveRequests?: number | 'nginx-default';
}

export async function startNginxTarget(options: NginxTargetOptions = {}): Promise<NginxTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'gatecheck-bench-nginx-'));
  const port = await freePort();
  const keepalive = options.keepaliveRequests ?? 1_000_000;
  const conf = `
worker_processes ${options.workers ?? 1};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${keepalive === 'nginx-default' ? '' : `keepalive_requests ${keepalive};`}
  ${options.httpExtra ?? ''}
  server {
    listen 127.0.0.1:${port};
    location / { default_type application/json; return 200 '{"ok":true}'; }
    location /limited { ${options.limitedLocation ?? ''} default_type application/json; alias ${dir}/ok.json; }
    ${options.serverExtra ?? ''}
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  writeFileSync(join(dir, 'ok.json'), '{"ok":true}');
  // nginx workers run as `nobody` when started by root: they must be able to read ok.json.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'ok.json'), 0o644);
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const stop = async () => {
    child.kill('SIGQUIT');
    await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(3000)]);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  let up = false;
  for (let i = 0; i < 100 && !up && child.exitCode === null; i++) {
    up = await answers(port);
    if (!up) await sleep(50);
  }
  if (!up) {
    // A benchmark or test against a target that never started would measure nothing: say why instead.
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    await stop();
    throw new Error(`nginx did not start on 127.0.0.1:${port}:\n${log.trim() || '(empty error log)'}`);
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}
