import type { Leg } from '../../report/leg.js';
import { summarise } from '../legs.js';
import { parseCertificate } from '../../x509/certificate.js';
import type { ComponentLog } from '../log.js';
import type { ProxyHop } from './proxy-dialer.js';

/**
 * The agent → proxy hop of the report: what the client asked of the proxy (CONNECT, a SOCKS
 * CONNECT or an absolute-form request), what the proxy answered, and the proxy's own lines for
 * that connection. The TLS end to end with Fleet Server or Elasticsearch is the next leg.
 */
export function proxyLeg(from: Leg['from'], hop: ProxyHop, targetAddr: string, clientLog: string | undefined, proxyLog?: ComponentLog): Leg {
  const url = new URL(hop.route.url.href);
  url.username = '';
  url.password = '';
  const lines = proxyLog && hop.localPort
    ? proxyLog.entries.filter((e) => e.fields?.clientPort === hop.localPort).map((e) => e.message)
    : [];
  const answeredBadly = hop.status !== undefined && hop.status !== 200;
  const refusedBySocks = hop.socksReply !== undefined && hop.socksReply !== 'succeeded';
  const ok = !hop.error;
  const method = hop.route.scheme === 'socks5' ? 'SOCKS5 CONNECT' : hop.forward ? 'GET' : 'CONNECT';
  return {
    from,
    to: 'proxy',
    url: url.href.replace(/\/$/, ''),
    ok,
    tls: hop.tls ? { version: hop.tls.version, cipher: hop.tls.cipher } : null,
    serverCertificate: hop.tls?.serverChain[0] ? summarise(parseCertificate(hop.tls.serverChain[0])) : null,
    clientCertificate: null,
    rejectedBy: ok ? null : hop.local === '' ? 'server' : answeredBadly || refusedBySocks ? 'server' : hop.error?.startsWith('proxyconnect tcp: x509') ? 'client' : 'server',
    phase: ok ? null : hop.local === '' ? 'connect' : answeredBadly ? 'http' : 'connect',
    alert: null,
    logs: { ...(clientLog ? { [from]: clientLog } : {}), ...(lines.length ? { proxy: lines.join('\n') } : {}) },
    node: null,
    ...(hop.status !== undefined ? { http: { method, path: targetAddr, status: hop.status } } : {}),
  };
}
