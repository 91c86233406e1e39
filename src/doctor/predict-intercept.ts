/**
 * The TLS-intercepting proxy on paper (--proxy-url with --proxy-intercept, squid's ssl-bump). The
 * agent's TLS ends at the proxy: agent → proxy is the agent verifying a certificate the proxy mints
 * for the host, signed by its root (minted here with the proxy's own minter, so the very chain the
 * agent will see is verified), and proxy → fleet-server is the proxy's own TLS with Fleet Server:
 * OpenSSL's verification with tls_outgoing_options, then Fleet Server's client authentication. A
 * proxy that could not reach Fleet Server still completes the agent's handshake, then answers 503.
 */
import { isIP } from 'node:net';
import type { PlannedIntercept, PlannedProxy } from '../flows/install-plan.js';
import { CertificateMinter, generatedRoot } from '../components/proxy/mint.js';
import type { ClientAuthentication } from '../tls/settings.js';
import { parsePemCertificates, type Cert } from '../x509/certificate.js';
import { verifyClientChain, verifyServerChain, type ServerChainVerdict } from '../x509/libs-verify.js';
import { finding, type Finding } from './findings.js';
import { predictLeg, type LegSetup, type Prediction } from './predict.js';
import type { ProxyPredictions } from './predict-proxy.js';

/** Fleet Server behind the proxy: its chain, whom it asks for a client certificate, and whom it trusts for one. */
export interface InterceptedFleetServer {
  readonly chain: readonly Cert[];
  readonly insecureHttp: boolean;
  readonly clientAuthentication: ClientAuthentication;
  readonly clientCAs: readonly Cert[];
  /** The proxy and Fleet Server settle on TLS 1.3 (the run's highest version). */
  readonly tls13: boolean;
  readonly now: Date;
}

/** `agent` is the agent's leg to Fleet Server as its flags give it; the minted chain takes the server's place. */
export function predictIntercept(planned: PlannedProxy & { readonly intercept: PlannedIntercept }, agent: LegSetup, fleet: InterceptedFleetServer, targetPort: number): ProxyPredictions {
  const { route, intercept } = planned;
  const hop = (outcome: Prediction['outcome'], message: string): Prediction => ({ from: 'agent', to: 'proxy', outcome, message });
  const upstreamLeg = (outcome: Prediction['outcome'], message: string): Prediction => ({ from: 'proxy', to: 'fleet-server', outcome, message });
  const blocked = (message: string): ProxyPredictions => ({ predictions: [hop('rejected-by-server', message), upstreamLeg('not-attempted', 'the proxy did not accept the CONNECT')], findings: [], blocked: 'the proxy did not open a connection to Fleet Server' });
  // squid's http_access deny CONNECT !SSL_ports, with ssl-bump: no authentication, no server; the bumped request gets 403.
  const denied = planned.allowPorts !== undefined && !planned.allowPorts.includes(targetPort);
  const given = route.url.username || route.url.password ? `${decodeURIComponent(route.url.username)}:${decodeURIComponent(route.url.password)}` : undefined;
  const wanted = planned.requireAuth ? `${planned.requireAuth.username}:${planned.requireAuth.password}` : undefined;
  if (!denied && wanted !== undefined && given !== wanted) {
    // squid answers 407 (ERR_CACHE_ACCESS_DENIED); Go words a refused CONNECT by the status text alone (transport.go).
    return blocked('Proxy Authentication Required');
  }
  // squid peeks at the ClientHello for the name; Go sends no SNI for an IP, so squid goes no further upstream.
  const upstream = denied ? upstreamLeg('not-attempted', `the proxy's rules deny CONNECT to port ${targetPort}: it contacted nobody`)
    : isIP(agent.host) ? upstreamLeg('not-attempted', 'the proxy did not connect to Fleet Server (no server name to connect with)') : predictUpstream(intercept, agent.host, fleet);
  const root = intercept.root ?? generatedRoot();
  const minted = new CertificateMinter(root).mint(agent.host, upstream.outcome === 'ok' || upstream.outcome === 'rejected-by-server' ? fleet.chain[0] : undefined);
  const presented = parsePemCertificates(minted.chainPem);
  const judged = predictLeg({
    ...agent, to: 'proxy', serverChain: presented, serverFlag: intercept.root ? '--proxy-intercept-ca' : '--proxy-intercept',
    serverFile: intercept.root ? '(a certificate the proxy mints with --proxy-intercept-ca)' : '(a certificate the proxy mints with a root of its own)',
    clientAuthentication: 'none', clientCAs: [],
  });
  const findings: Finding[] = [];
  if (judged.prediction.outcome === 'rejected-by-client') {
    findings.push(finding('error', '--certificate-authorities', null, 'PROXY_INTERCEPTED',
      `the proxy at ${route.host}:${route.port} inspects TLS: the agent verifies a certificate the proxy minted for ${agent.host}, signed by ${root.chain[0]!.subject}, not Fleet Server's, and refuses it (${judged.prediction.message})`,
      'exempt the Fleet Server host from TLS inspection on the proxy (squid: ssl_bump splice), or add the proxy\'s root CA to --certificate-authorities'));
    return { predictions: [hop('rejected-by-client', judged.prediction.message), upstream], findings, blocked: 'the agent refused the proxy\'s certificate' };
  }
  if (denied) {
    findings.push(finding('error', '--proxy-url', null, 'PROXY_CONNECT_DENIED',
      `the proxy at ${route.host}:${route.port} allows CONNECT to port ${planned.allowPorts!.join(', ')} only: it bumps the agent's connection and answers its request with a 403 page, which the agent cannot decode`,
      `allow CONNECT to port ${targetPort} on the proxy (squid: acl SSL_ports port ${targetPort}), or publish Fleet Server on an allowed port`));
    return { predictions: [hop('rejected-by-server', 'could not decode the response'), upstream], findings, blocked: 'the proxy denied the CONNECT' };
  }
  if (upstream.outcome !== 'ok') {
    if (upstream.outcome === 'rejected-by-client') {
      findings.push(finding('error', '--proxy-intercept-upstream-ca', null, 'PROXY_UPSTREAM_UNTRUSTED',
        `the intercepting proxy does not accept Fleet Server's certificate ${fleet.chain[0]?.subject ?? ''} for ${agent.host}: ${upstream.message}`,
        'give the proxy the CA that issued --fleet-server-cert (squid: tls_outgoing_options cafile=), or exempt the Fleet Server host from TLS inspection'));
    } else if (upstream.outcome === 'rejected-by-server') {
      findings.push(finding('error', '--fleet-server-client-auth', null, 'PROXY_UPSTREAM_CLIENT_CERT',
        'Fleet Server asks for a client certificate, and the intercepting proxy presents none it accepts: the agent\'s own stays with the agent',
        'exempt the Fleet Server host from TLS inspection (squid: ssl_bump splice), or give the proxy a client certificate Fleet Server trusts (tls_outgoing_options cert=)'));
    }
    // Under TLS 1.3 Fleet Server refuses squid after squid's handshake is done, and squid 5.7 never answers
    // the agent, which gives up at its own timeout (intercepting-proxy-squid.test.ts).
    if (upstream.outcome === 'rejected-by-server' && fleet.tls13) {
      return { predictions: [hop('rejected-by-client', 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)'), upstream], findings, blocked: 'the proxy never answered the agent' };
    }
    // squid serves ERR_SECURE_CONNECT_FAIL over the bumped connection; the agent reads a 503 as a server error.
    return { predictions: [hop('rejected-by-server', 'received status code 503 (ServiceUnavailable)'), upstream], findings, blocked: 'the proxy could not reach Fleet Server' };
  }
  return { predictions: [hop('ok', `the agent accepts the certificate the proxy minted for ${agent.host}, signed by ${root.chain[0]!.subject}`), upstream], findings };
}

/** squid's own handshake with Fleet Server: OpenSSL's verification, then Fleet Server's judgement of the proxy. */
function predictUpstream(intercept: PlannedIntercept, host: string, fleet: InterceptedFleetServer): Prediction {
  const leg = (outcome: Prediction['outcome'], message: string): Prediction => ({ from: 'proxy', to: 'fleet-server', outcome, message });
  if (fleet.insecureHttp) return leg('rejected-by-client', 'Fleet Server answers plain HTTP where the proxy expects TLS');
  const verdict = verifyServerChain([...fleet.chain], { roots: intercept.upstreamAuthorities ? [...intercept.upstreamAuthorities] : 'system', serverName: host, mode: 'full', now: fleet.now });
  if (!verdict.ok) return leg('rejected-by-client', opensslWords(fleet.chain, verdict, fleet.now));
  if (fleet.clientAuthentication === 'none') return leg('ok', 'the proxy verifies Fleet Server');
  const own = intercept.upstreamIdentity?.chain ?? [];
  if (own.length === 0) {
    return fleet.clientAuthentication === 'required' ? leg('rejected-by-server', "tls: client didn't provide a certificate") : leg('ok', 'no client certificate, and Fleet Server does not require one');
  }
  // OpenSSL sends tls_outgoing_options cert= whatever CAs the server lists.
  const judged = verifyClientChain([...own], { clientCAs: [...fleet.clientCAs], now: fleet.now });
  return judged.ok ? leg('ok', 'Fleet Server accepts the proxy\'s client certificate') : leg('rejected-by-server', `tls: failed to verify certificate: ${judged.error.message}`);
}

/**
 * OpenSSL's verdict as `(N:text)`, the way the harness's squid records it (squid logs nothing for
 * a server it cannot verify; the report keeps OpenSSL's words). The number follows from the chain's shape.
 */
function opensslWords(chain: readonly Cert[], verdict: ServerChainVerdict, now: Date): string {
  const error = verdict.error;
  const leaf = chain[0];
  const top = chain[chain.length - 1];
  if (error?.kind === 'Hostname') return '(62:hostname mismatch)';
  if (error?.kind === 'CertificateInvalid' && error.reason === 'Expired' && leaf) return leaf.notAfter < now ? '(10:certificate has expired)' : '(9:certificate is not yet valid)';
  if (error?.kind === 'CertificateInvalid' && error.reason === 'IncompatibleUsage') return '(26:unsupported certificate purpose)';
  if (error?.kind === 'UnknownAuthority' && top) {
    if (top.isSelfSigned) return chain.length === 1 ? '(18:self-signed certificate)' : '(19:self-signed certificate in certificate chain)';
    return chain.length === 1 ? '(21:unable to verify the first certificate)' : '(20:unable to get local issuer certificate)';
  }
  return `(1:${verdict.message ?? 'unspecified certificate verification error'})`;
}
