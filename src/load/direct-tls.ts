import type { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { ClientAuthentication } from '../tls/settings.js';
import { judgeClientChain, type ServerDialect } from '../components/server-dialect.js';
import type { ConnectionDeadlines } from '../components/http-deadlines.js';
import type { HeadRules } from '../components/go-request-head.js';
import { serveDirect, type DirectHandler } from './direct-http.js';

export interface DirectTlsOptions {
  readonly context: tls.SecureContext;
  readonly dialect: ServerDialect;
  readonly clientAuthentication: ClientAuthentication;
  /** The same bound on the handshake as the tapped path (Go's deadline during the handshake); 0: none. */
  readonly handshakeTimeoutMs: number;
  /** Answers plain requests without node:http (direct-http.ts); absent, node:http serves every one. */
  readonly handler?: DirectHandler;
  /** The component's timeouts once the handshake is over. */
  readonly deadlines?: ConnectionDeadlines;
  /** The component's own refusals of request heads (go-request-head.ts). */
  readonly headRules?: HeadRules;
  /** Hands a secured socket to the component's node:http server. */
  readonly toHttp: (socket: tls.TLSSocket) => void;
}

/**
 * The load test's server path: TLS without the record tap, same certificates, same
 * client-certificate judgement after the handshake, no per-connection reports. A rejected client
 * is cut off without Go's alert, which is what buys the speed.
 */
export class DirectTls {
  private readonly verdicts = new VerdictCache();
  /** Every connection it accepted, handshaking or secured: node:http's closeAllConnections sees none before it has them. */
  private readonly sockets = new Set<tls.TLSSocket>();

  constructor(private readonly options: DirectTlsOptions) {}

  accept(raw: net.Socket): void {
    const { dialect, clientAuthentication, context } = this.options;
    raw.setNoDelay(true);
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context, requestCert: clientAuthentication !== 'none', rejectUnauthorized: false });
    this.sockets.add(socket);
    const ms = this.options.handshakeTimeoutMs;
    const timer = ms > 0 ? setTimeout(() => socket.destroy(), ms) : undefined;
    socket.on('secure', () => {
      clearTimeout(timer);
      if (clientAuthentication !== 'none') {
        const { chain, key } = peerChain(socket);
        const ok = this.verdicts.judge(key, () =>
          judgeClientChain(dialect, chain.map((x509) => x509.raw), socket.getProtocol() === 'TLSv1.3', clientAuthentication) === null);
        if (!ok) return socket.destroy();
      }
      this.serve(socket);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
    });
  }

  /** Ends every connection it accepted (the listener's close). */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private serve(socket: tls.TLSSocket): void {
    const { handler, deadlines, toHttp, headRules } = this.options;
    deadlines?.watch(socket);
    if (!handler) return toHttp(socket);
    serveDirect(socket, { handler, fallback: toHttp, onRequest: (s) => deadlines?.request(s), ...(headRules ? { headRules } : {}) });
  }
}

/** The chain the client sent, leaf first (X509Certificate: no JS object per field), and its fingerprints joined. */
function peerChain(socket: tls.TLSSocket): { chain: X509Certificate[]; key: string } {
  const chain: X509Certificate[] = [];
  const fingerprints: string[] = [];
  for (let cert = socket.getPeerX509Certificate(); cert && chain.length < 10; cert = cert.issuerCertificate) {
    const fingerprint = cert.fingerprint256;
    if (fingerprints.includes(fingerprint)) break;
    chain.push(cert);
    fingerprints.push(fingerprint);
  }
  return { chain, key: fingerprints.join('/') };
}

/**
 * Thousands of agents present the same few chains: a verdict is reused for a second, so the
 * direct path does not parse the same certificate on every handshake.
 */
class VerdictCache {
  private readonly verdicts = new Map<string, { ok: boolean; until: number }>();

  /** `key`: the chain's fingerprints. */
  judge(key: string, verify: () => boolean): boolean {
    const now = Date.now();
    const known = this.verdicts.get(key);
    if (known && known.until > now) return known.ok;
    const ok = verify();
    if (this.verdicts.size > 100) this.verdicts.clear();
    this.verdicts.set(key, { ok, until: now + 1_000 });
    return ok;
  }
}
