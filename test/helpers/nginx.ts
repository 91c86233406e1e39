import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { freePort, waitForPort } from './net.js';
import { requireTool } from './tools.js';

export const nginxTool = () => requireTool(['nginx', '/usr/sbin/nginx'], 'nginx-light');

export interface RealNginx {
  port(name: string): number;
  /** Error-log lines after `*N ` (date, level, pid and connection number taken off). */
  lines(): Promise<string[]>;
  /** Access-log lines, whole (the default `combined` format). */
  access(): Promise<string[]>;
  stop(): Promise<void>;
}

/** nginx in the foreground, one `server` per entry (its body given), under a prefix in `dir`. */
export async function startNginx(dir: string, servers: Readonly<Record<string, (port: number) => string>>): Promise<RealNginx> {
  const prefix = path.join(dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  const ports = new Map<string, number>();
  for (const name of Object.keys(servers)) ports.set(name, await freePort());
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${path.join(prefix, t)};`).join(' ');
  const config = [
    'daemon off;', 'master_process off;', `error_log ${path.join(prefix, 'error.log')} info;`, `pid ${path.join(prefix, 'nginx.pid')};`,
    'events {}', 'http {', `access_log ${path.join(prefix, 'access.log')};`, temp,
    ...Object.entries(servers).map(([name, body]) => `server {\nlisten 127.0.0.1:${ports.get(name)} ssl;\n${body(ports.get(name)!)}\n}`),
    '}',
  ].join('\n');
  await writeFile(path.join(prefix, 'nginx.conf'), config);
  const child = execa(nginxTool(), ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { reject: false });
  for (const port of ports.values()) {
    await waitForPort(port).catch(async (error: Error) => {
      child.kill();
      const result = await child;
      throw new Error(`${error.message}: ${String(result.stderr)}`);
    });
  }
  return {
    port: (name) => ports.get(name)!,
    async lines() {
      const text = await readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '');
      return text.split('\n').filter((l) => /\*\d+ /.test(l)).map((l) => l.replace(/^.*?\*\d+ /, ''));
    },
    async access() {
      return (await readFile(path.join(prefix, 'access.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    },
    async stop() {
      child.kill();
      await child;
    },
  };
}
