import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freePort, waitForPort } from './net.js';
import { requireTool } from './tools.js';

export const tinyproxyTool = () => requireTool(['tinyproxy', '/usr/bin/tinyproxy'], 'tinyproxy');
export const dantedTool = () => requireTool(['danted', '/usr/sbin/danted'], 'dante-server');

/** A real proxy on 127.0.0.1 with its log file, read line by line without its timestamp prefix. */
export interface RealProxy {
  readonly port: number;
  /** Log lines so far, each as the words after the program's prefix (level, time, pid). */
  lines(): Promise<string[]>;
  stop(): Promise<void>;
}

/** tinyproxy in the foreground (-d) with BasicAuth, ConnectPort and an Upstream http parent as given. */
export async function startTinyproxy(dir: string, options: { auth?: { username: string; password: string }; connectPorts?: readonly number[]; parent?: { host: string; port: number } }): Promise<RealProxy> {
  const port = await freePort();
  const log = path.join(dir, 'tinyproxy.log');
  const config = [
    `Port ${port}`, 'Listen 127.0.0.1', 'Timeout 30', 'LogLevel Info', `LogFile "${log}"`, `PidFile "${path.join(dir, 'tinyproxy.pid')}"`, 'MaxClients 20',
    ...(options.auth ? [`BasicAuth ${options.auth.username} ${options.auth.password}`] : []),
    ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
    ...(options.parent ? [`Upstream http ${options.parent.host}:${options.parent.port}`] : []),
  ].join('\n');
  await writeFile(path.join(dir, 'tinyproxy.conf'), `${config}\n`);
  const child = execa(tinyproxyTool(), ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { reject: false });
  return started(child, port, async () => {
    const text = await readFile(log, 'utf8').catch(() => '');
    // `CONNECT   Dec 06 19:49:50.243 [15724]: Connect (file descriptor 5): 127.0.0.1`
    return text.split('\n').filter(Boolean).map((l) => l.replace(/^\S+\s+\w{3} \d\d \d\d:\d\d:\d\d\.\d{3} \[\d+\]: /, ''));
  });
}

/** danted with `socksmethod` none or username, a `socks pass` for `allowPorts` (or all) and a `socks block` after it. */
export async function startDanted(dir: string, options: { username?: boolean; allowPorts?: readonly number[] }): Promise<RealProxy> {
  const port = await freePort();
  const log = path.join(dir, `danted-${port}.log`);
  const pass = options.allowPorts
    ? options.allowPorts.map((p) => `socks pass { from: 127.0.0.0/8 to: 127.0.0.1/32 port = ${p} log: connect disconnect error }`)
    : ['socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect disconnect error }'];
  const config = [
    `logoutput: ${log}`, `internal: 127.0.0.1 port = ${port}`, 'external: 127.0.0.1',
    `socksmethod: ${options.username ? 'username' : 'none'}`, 'clientmethod: none',
    'user.privileged: root', 'user.unprivileged: nobody',
    'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect disconnect error }',
    ...pass,
    'socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }',
  ].join('\n');
  const file = path.join(dir, `danted-${port}.conf`);
  await writeFile(file, `${config}\n`);
  let probed = false;
  const child = execa(dantedTool(), ['-f', file, '-p', path.join(dir, `danted-${port}.pid`), '-N', '1'], { reject: false });
  return started(child, port, async () => {
    const text = await readFile(log, 'utf8').catch(() => '');
    // The readiness probe's own connection is not part of any test.
    if (!probed) probed = text.includes('eof from local client');
    // `Dec  6 19:50:15 (1796586615.790249) danted[16291]: info: pass(1): tcp/accept [: ...`
    const lines = text.split('\n').filter(Boolean).map((l) => l.replace(/^.*?danted\[\d+\]: info: /, '')).filter((l) => !l.startsWith('Dante/server'));
    return lines.slice(2);
  }, async (read) => {
    for (let i = 0; i < 100 && !probed; i++) {
      await read();
      await new Promise((r) => setTimeout(r, 50));
    }
  });
}

async function started(child: ResultPromise, port: number, lines: () => Promise<string[]>, ready?: (read: () => Promise<string[]>) => Promise<void>): Promise<RealProxy> {
  await waitForPort(port).catch(async (error: Error) => {
    child.kill();
    const result = await child;
    throw new Error(`${error.message}: ${String(result.stderr)} ${String(result.stdout)}`);
  });
  await ready?.(lines);
  return {
    port,
    lines,
    async stop() {
      child.kill();
      await child;
    },
  };
}
