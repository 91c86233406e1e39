import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { freePort, waitForPort } from './net.js';
import { requireTool } from './tools.js';

/**
 * squid with ssl-bump needs the OpenSSL build (Debian's squid-openssl): its certificate generator
 * helper is the proof, as the GnuTLS build (package squid) has no ssl-bump at all.
 */
export const squidTool = () => requireTool(['/usr/sbin/squid'], 'squid-openssl');
export const certgenTool = () => requireTool(['/usr/lib/squid/security_file_certgen'], 'squid-openssl');

/** squid bumping every CONNECT, with its access.log and cache.log lines as squid wrote them (minus timestamps). */
export interface RealSquid {
  readonly port: number;
  /** access.log lines without the `%ts.%03tu` column. */
  access(): Promise<string[]>;
  /** cache.log lines without the date, continuation lines dropped, startup lines skipped. */
  cache(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * `http_port ... ssl-bump` with `ssl_bump peek step1` and `ssl_bump bump all` (the common
 * "inspect everything" configuration), signing with `root`, verifying servers with `upstreamCa`.
 * As root, squid drops to the `proxy` user: the files it reads or writes are handed to it.
 */
export async function startSquidBump(dir: string, options: { rootCert: string; rootKey: string; upstreamCa?: string; denyConnectPorts?: readonly number[] }): Promise<RealSquid> {
  const squid = squidTool();
  const certgen = certgenTool();
  const port = await freePort();
  const home = path.join(dir, `squid-${port}`);
  await mkdir(home, { recursive: true });
  const db = path.join(home, 'ssl_db');
  execFileSync(certgen, ['-c', '-s', db, '-M', '4MB'], { stdio: 'ignore' });
  const accessLog = path.join(home, 'access.log');
  const cacheLog = path.join(home, 'cache.log');
  await Promise.all([writeFile(accessLog, ''), writeFile(cacheLog, '')]);
  const config = [
    `http_port 127.0.0.1:${port} ssl-bump tls-cert=${options.rootCert} tls-key=${options.rootKey} generate-host-certificates=on dynamic_cert_mem_cache_size=4MB`,
    `sslcrtd_program ${certgen} -s ${db} -M 4MB`,
    'sslcrtd_children 2 startup=1 idle=1',
    'acl step1 at_step SslBump1',
    'ssl_bump peek step1',
    'ssl_bump bump all',
    ...(options.upstreamCa ? [`tls_outgoing_options cafile=${options.upstreamCa}`] : []),
    // What squid's default `http_access deny CONNECT !SSL_ports` does to a port outside SSL_ports.
    ...(options.denyConnectPorts?.length ? ['acl connect_method method CONNECT', `acl denied_ports port ${options.denyConnectPorts.join(' ')}`, 'http_access deny connect_method denied_ports'] : []),
    'http_access allow all',
    'cache deny all',
    'pinger_enable off',
    `cache_log ${cacheLog}`,
    `access_log ${accessLog}`,
    'pid_filename none',
    `coredump_dir ${home}`,
    'shutdown_lifetime 0 seconds',
  ].join('\n');
  const file = path.join(home, 'squid.conf');
  await writeFile(file, `${config}\n`);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'proxy']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'proxy']).toString().trim());
    // squid reads its files as `proxy`: its own directory and the root's files become its own.
    execFileSync('chown', ['-R', `${uid}:${gid}`, home]);
    await Promise.all([chown(options.rootKey, uid, gid), chown(options.rootCert, uid, gid), ...(options.upstreamCa ? [chown(options.upstreamCa, uid, gid)] : [])]);
    await chmod(dir, 0o711);
  }
  const child = execa(squid, ['-N', '-f', file], { reject: false });
  await waitForPort(port).catch(async (error: Error) => {
    child.kill();
    const result = await child;
    throw new Error(`${error.message}: ${String(result.stderr)} ${String(result.stdout)} ${await readFile(cacheLog, 'utf8').catch(() => '')}`);
  });
  const read = async (name: string) => (await readFile(name, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return {
    port,
    // `1796596493.298     52 127.0.0.1 NONE_NONE/200 ...`
    access: async () => (await read(accessLog)).map((l) => l.replace(/^\d+\.\d{3} /, '')),
    // `2026/12/06 22:34:53| ERROR: ...` followed by `    current master transaction: ...`
    cache: async () => (await read(cacheLog)).filter((l) => /^\d{4}\/\d\d\/\d\d /.test(l)).map((l) => l.replace(/^\S+ \S+\| /, '')).filter((l) => l.startsWith('ERROR')),
    async stop() {
      child.kill();
      await child;
    },
  };
}
