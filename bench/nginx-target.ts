/**
 * A loopback nginx answering `return 200` — the peer-neutral endpoint every benchmark here
 * loads (wrk, autocannon, gatecheck), so their figures compare like with like.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** `extra` goes into the http block (e.g. a limit_req_zone); `location` into `location /limited`. */
export async function startNginxTarget(options: { workers?: number; httpExtra?: string; limitedLocation?: string } = {}): Promise<NginxTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'gatecheck-bench-nginx-'));
  const port = await freePort();
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
  keepalive_requests 1000000;
  ${options.httpExtra ?? ''}
  server {
    listen 127.0.0.1:${port};
    location / { default_type application/json; return 200 '{"ok":true}'; }
    location /limited { ${options.limitedLocation ?? ''} default_type application/json; alias ${dir}/ok.json; }
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  writeFileSync(join(dir, 'ok.json'), '{"ok":true}');
  // nginx workers run as `nobody` when started by root: they must be able to read ok.json.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'ok.json'), 0o644);
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    if (up) break;
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGQUIT');
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(3000)]);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
