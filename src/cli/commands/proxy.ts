import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { NGINX_1_22_VERSIONS } from '../../components/proxy/secure-proxy.js';
import type { Pki } from '../../pki/store.js';
import { DEFAULT_VERSIONS, only } from '../../tls/settings.js';
import type { Io } from '../io.js';
import { defaultBindHost, HARNESS_ENV, localUrl, parseDurationFlag, parseUrlFlag, streamLogs, writeStateOrClose, stateFileOf } from './component-shared.js';
import { addProxyOptions, planProxies, proxyLine, startProxies, type ServeProxyFlags } from './serve-proxies.js';
import { parseVersions, pkiFor } from './shared.js';
import { endpointOf } from '../../endpoint.js';

/**
 * `fleet-tls proxy`: the fourth component on its own, for containers (docker/compose.yaml's
 * `proxy` service) and for a real agent on another host. It takes `serve`'s proxy flags unchanged
 * (`--forward-proxy`, `--socks-proxy`, `--secure-proxy`, `--proxy-intercept` and theirs); what
 * `serve` wires itself, the secure proxy's upstream, is `--secure-proxy-upstream` here (nginx's
 * proxy_pass).
 */
interface ProxyCliOptions extends ServeProxyFlags {
  certs: string;
  secureProxyUpstream?: string;
  host?: string;
  tls?: string;
  resolveTimeout: string;
  stateFile?: string;
  json?: boolean;
}

export function registerProxy(program: Command, io: Io, env: NodeJS.ProcessEnv = process.env): void {
  const command = program
    .command('proxy')
    .description('run the fake proxy on its own until stopped: a forward proxy (HTTP CONNECT, tinyproxy\'s words), a SOCKS5 proxy (dante\'s), a TLS-terminating secure proxy in front of a Fleet Server or Elasticsearch (nginx\'s) or a TLS-intercepting proxy (squid ssl-bump\'s); agents reach it with --proxy-url or, for the secure proxy, --url')
    .option('--certs <dir>', 'PKI directory for what no flag gives to the secure or intercepting proxy (fleet-cert, agent-ca, fleet-ca); generated if missing', 'certs')
    .option('--secure-proxy-upstream <url>', 'what the secure proxy passes requests to (nginx proxy_pass): https://fleet-server:8220, or http:// for a Fleet Server with --fleet-server-insecure-http; its host is resolved once at start, as nginx does')
    .option('--host <address>', `address to listen on (default $${HARNESS_ENV.bindHost} or 127.0.0.1)`)
    .option('--tls <version>', 'TLS versions the secure and intercepting proxies accept from clients: 1.2, 1.3 or both (default: 1.2 with --secure-proxy, as nginx 1.22; both otherwise)')
    .option('--resolve-timeout <time>', 'how long to keep resolving the secure proxy\'s upstream host at start (a container network\'s DNS may answer late)', '60s')
    .option('--state-file <file>', `where to record that it listens, for \`fleet-tls healthcheck\` (default $${HARNESS_ENV.stateFile})`)
    .option('--json', 'log as JSON lines');
  addProxyOptions(command).action(async (options: ProxyCliOptions) => {
    const wanted = options.forwardProxy ?? options.socksProxy ?? options.secureProxy ?? options.proxyIntercept;
    if (wanted === undefined) throw new HarnessError('FTH_USAGE', 'proxy needs --forward-proxy, --socks-proxy, --secure-proxy or --proxy-intercept (each with its port)');
    if (options.secureProxy !== undefined && !options.secureProxyUpstream) throw new HarnessError('FTH_USAGE', '--secure-proxy needs --secure-proxy-upstream (the Fleet Server or Elasticsearch URL it passes to)');
    if (options.secureProxy === undefined && options.secureProxyUpstream !== undefined) throw new HarnessError('FTH_USAGE', '--secure-proxy-upstream needs --secure-proxy');
    const upstream = options.secureProxyUpstream ? parseUrlFlag(options.secureProxyUpstream, '--secure-proxy-upstream') : undefined;
    const resolveMs = parseDurationFlag(options.resolveTimeout, '--resolve-timeout');
    // Without --tls the secure proxy keeps nginx 1.22's own default (TLS 1.2 only), as a stock nginx would.
    const versions = options.tls === undefined ? undefined : parseVersions(options.tls);
    const range = versions === undefined ? (options.secureProxy !== undefined ? NGINX_1_22_VERSIONS : DEFAULT_VERSIONS)
      : versions.length === 1 ? only(versions[0]!) : DEFAULT_VERSIONS;
    // Only the secure and intercepting proxies hold certificates: a forward proxy writes no PKI.
    const needsPki = options.proxyIntercept !== undefined
      || (options.secureProxy !== undefined && !(options.secureProxyCert && options.secureProxyClientCa));
    // Every file a flag names is checked against the PKI it would get before that PKI is written:
    // a bad --secure-proxy-cert pair leaves no certs directory behind (nor a state file).
    const pki = needsPki ? (await pkiFor(io, options.certs, (candidate) => void planProxies(options, candidate))).pki : NO_PKI;
    const plan = planProxies(options, pki);
    const host = options.host ?? defaultBindHost(env);
    const upstreamUrl = upstream?.href.replace(/\/$/, '') ?? '';
    const connectTo = upstream ? await resolveUpstream(upstream, resolveMs, io) : undefined;
    const proxies = await startProxies(plan, host, upstreamUrl, range, connectTo ? { secureUpstreamConnectTo: connectTo } : {});
    // tinyproxy's own levels (CONNECT, INFO…) where it has them, in its wider column.
    streamLogs(io, proxies.logs, options.json, {
      line: (entry) => ({ level: typeof entry.fields?.tinyproxy === 'string' ? entry.fields.tinyproxy : entry.level, message: proxyLine(entry) }),
      levelWidth: 7,
    });
    io.out(options.json ? `${JSON.stringify({ ready: proxies.ready })}\n` : `${proxies.lines.join('\n')}\nready; Ctrl-C stops\n`);
    const first = Object.values(proxies.ready)[0]!;
    const listening = new URL(first);
    await writeStateOrClose(stateFileOf(io, options.stateFile, env), {
      component: 'proxy', pid: process.pid,
      url: localUrl(listening.protocol === 'https:' ? 'https' : 'http', host, Number(listening.port)),
    }, () => proxies.close());
    const signal = await io.untilStopped();
    await proxies.close();
    io.out(`[proxy] stopped (${signal})\n`);
  });
}

/** Never read: planProxies asks for the PKI only for the secure and intercepting proxies. */
const NO_PKI = new Proxy({}, {
  get: () => { throw new HarnessError('FTH_INTERNAL', 'proxy: a forward or SOCKS proxy asked for the PKI'); },
}) as Pki;

/**
 * nginx resolves a proxy_pass host once, when it reads its configuration, and refuses to start
 * without an address (`[emerg] host not found in upstream`). In a container network the name
 * may answer only after its container joined (aardvark-dns stalls lookups while containers
 * join), so the lookup is retried with backoff up to --resolve-timeout before that line.
 */
async function resolveUpstream(upstream: URL, timeoutMs: number, io: Io): Promise<{ host: string; port: number } | undefined> {
  const { host: name, port } = endpointOf(upstream);
  if (net.isIP(name)) return undefined;
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { address } = await lookup(name);
      return { host: address, port };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'lookup failed';
      if (Date.now() - started > timeoutMs) {
        throw new HarnessError('FTH_TARGET_UNREACHABLE', `--secure-proxy-upstream: [emerg] host not found in upstream "${name}:${port}" (${code} for ${Math.round(timeoutMs / 1000)} s)`);
      }
      if (attempt === 1) io.out(`[secure-proxy] warn    ${name}: ${code}; resolving again until --resolve-timeout\n`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}
