/**
 * The proxy legs on paper. Through a forward proxy (--proxy-url) the agent first asks the proxy
 * for a tunnel (agent → proxy), then runs its own TLS with Fleet Server through it; in front of a
 * secure proxy (--secure-proxy) the agent's TLS ends at the proxy (agent → proxy: the proxy's
 * certificate against the agent's CAs, the agent's certificate against the proxy's client CAs,
 * judged as nginx judges it, after the handshake) and the proxy opens its own connection to
 * Fleet Server (proxy → fleet-server: the upstream trust, Fleet Server's client authentication).
 */
import type { PlannedProxy, PlannedSecureProxy } from '../flows/install-plan.js';
import type { ClientAuthentication } from '../tls/settings.js';
import type { Cert } from '../x509/certificate.js';
import { libsVerifyHostname, verifyClientChain, verifyServerChain, type VerificationMode } from '../x509/libs-verify.js';
import { judgeClientCertificate } from '../dialects/java.js';
import { finding, type Finding } from './findings.js';
import { predictLeg, type Prediction } from './predict.js';
import { nothingForwardedPredicted } from '../components/proxy/nothing-forwarded.js';

/** What the agent brings to the proxy: its trust, its certificate, the host it dials. */
export interface AgentSide {
  readonly host: string;
  readonly mode: VerificationMode;
  readonly roots: Cert[] | 'system';
  readonly clientChain?: readonly Cert[];
  readonly clientFile?: string;
  readonly now: Date;
}

/** Fleet Server behind the secure proxy: its certificate and whom it asks for one. */
export interface FleetSide {
  readonly chain: readonly Cert[];
  readonly insecureHttp: boolean;
  readonly clientAuthentication: ClientAuthentication;
  /** The proxy and Fleet Server settle on TLS 1.3 (the run's highest version). */
  readonly tls13: boolean;
  /** Whom Fleet Server trusts for client certificates (--certificate-authorities). */
  readonly clientCAs?: readonly Cert[];
}

/** The proxy legs, and whether the agent gets through them to Fleet Server at all. */
export interface ProxyPredictions {
  readonly predictions: readonly Prediction[];
  readonly findings: readonly Finding[];
  /** Why the agent's own request never reaches Fleet Server, when the proxy stops it. */
  readonly blocked?: string;
}

/**
 * agent → proxy through a forward proxy: what the proxy answers, in Go's words. Only the https
 * proxy's certificate comes from a file; the rest is what the harness's own fake is told
 * (--proxy-serves, --proxy-require-auth, --proxy-allow-ports), predicted as Go words it.
 */
export function predictForwardProxy(planned: PlannedProxy, agent: AgentSide, proxyChain: readonly Cert[], targetPort: number): ProxyPredictions {
  const { route } = planned;
  const serves = planned.serves ?? route.scheme;
  const result = (outcome: Prediction['outcome'], message: string): ProxyPredictions => ({
    predictions: [{ from: 'agent', to: 'proxy', outcome, message }],
    findings: [],
    ...(outcome === 'ok' ? {} : { blocked: 'the proxy did not open a connection to Fleet Server' }),
  });
  if (serves === 'none') return result('rejected-by-server', 'proxyconnect tcp: dial tcp');
  if (route.scheme === 'https' && serves !== 'https') return result('rejected-by-server', 'proxyconnect tcp: tls: first record does not look like a TLS handshake');
  if (route.scheme === 'socks5' && serves !== 'socks5') return result('rejected-by-server', 'unexpected protocol version 72');
  if (route.scheme !== 'https' && route.scheme !== serves) return result('rejected-by-server', 'unexpected EOF');
  if (route.scheme === 'https' && agent.mode !== 'none') {
    // Go's Transport verifies an https proxy with its own TLS settings: the agent's CAs, the proxy's host.
    const verdict = verifyServerChain([...proxyChain], { roots: agent.roots, serverName: route.host, mode: agent.mode, now: agent.now });
    if (!verdict.ok) {
      const message = `proxyconnect tcp: ${verdict.message ?? 'x509: verification failed'}`;
      return { ...result('rejected-by-client', message), findings: [finding('error', '--certificate-authorities', null, 'PROXY_CERT_UNTRUSTED',
        `Go verifies the https proxy ${route.host} with the agent's own CAs, and they do not accept ${proxyChain[0]?.subject ?? 'its certificate'}: ${verdict.message}`,
        'add the CA that issued the proxy\'s certificate to --certificate-authorities (comma-separated, beside Fleet Server\'s), or use an http:// proxy URL')] };
    }
  }
  const given = route.url.username || route.url.password ? `${decodeURIComponent(route.url.username)}:${decodeURIComponent(route.url.password)}` : undefined;
  const wanted = planned.requireAuth ? `${planned.requireAuth.username}:${planned.requireAuth.password}` : undefined;
  if (wanted !== undefined && given !== wanted) {
    if (route.scheme !== 'socks5') return result('rejected-by-server', 'Proxy Authentication Required');
    return result('rejected-by-server', given === undefined ? 'no acceptable authentication methods' : 'username/password authentication failed');
  }
  if (planned.allowPorts && !planned.allowPorts.includes(targetPort)) {
    return result('rejected-by-server', route.scheme === 'socks5' ? 'unknown error connection not allowed by ruleset' : 'Access violation');
  }
  // A CONNECT answered with anything but 200 is Go's error by the status text alone (net/http transport.go, dialConn).
  if (planned.parentRefused) return result('rejected-by-server', 'Unable to connect to upstream proxy');
  if (planned.targetRefused) return result('rejected-by-server', route.scheme === 'socks5' ? 'unknown error connection refused' : 'Unable to connect');
  return result('ok', route.scheme === 'socks5' ? 'the SOCKS5 proxy opens the tunnel' : 'the proxy answers CONNECT with 200');
}

/**
 * nginx lets every handshake finish and answers the request with a 400 page and an error-log
 * line: a client certificate it refuses is worded as nginx words it, not as the Go server would.
 */
export function nginxFront(prediction: Prediction): Prediction {
  if (prediction.outcome !== 'rejected-by-server') return prediction;
  return { ...prediction, message: prediction.message.startsWith("tls: client didn't provide") ? 'client sent no required SSL certificate' : 'client SSL certificate verify error' };
}

/** agent → proxy and proxy → fleet-server in front of a secure proxy. */
export function predictSecureProxy(planned: PlannedSecureProxy, agent: AgentSide, fleet: FleetSide): ProxyPredictions {
  const front = predictLeg({
    from: 'agent', to: 'proxy', host: agent.host, mode: agent.mode,
    trustFlag: '--certificate-authorities', roots: agent.roots,
    serverFlag: '--secure-proxy-cert', serverFile: '(the secure proxy\'s certificate)', serverChain: planned.identity.chain,
    clientFlag: '--elastic-agent-cert', ...(agent.clientFile ? { clientFile: agent.clientFile } : {}),
    ...(agent.clientChain ? { clientChain: agent.clientChain } : {}),
    clientAuthentication: planned.clientAuthentication, clientCAFlag: '--secure-proxy-client-ca', clientCAs: planned.clientCertificateAuthorities,
    server: 'go', now: agent.now,
  });
  const agentToProxy = nginxFront(front.prediction);
  if (agentToProxy.outcome !== 'ok') {
    return {
      predictions: [agentToProxy, { from: 'proxy', to: 'fleet-server', outcome: 'not-attempted', message: nothingForwardedPredicted('the agent', agentToProxy.outcome) }],
      findings: front.findings, blocked: 'the agent did not get past the proxy',
    };
  }
  const upstream = predictUpstream(planned, agent, fleet);
  if (upstream.outcome === 'ok') return { predictions: [agentToProxy, upstream], findings: front.findings };
  const upstreamFinding = upstream.outcome === 'rejected-by-server'
    ? finding('error', '--fleet-server-client-auth', null, 'PROXY_UPSTREAM_CLIENT_CERT', 'Fleet Server requires a client certificate from the proxy in front of it, which presents none',
      'let the proxy alone verify agents (--fleet-server-client-auth=none behind it), or give the proxy a client certificate (proxy_ssl_certificate) from a CA in --certificate-authorities')
    : finding('error', '--secure-proxy-upstream-ca', null, 'PROXY_UPSTREAM_UNTRUSTED', `the proxy does not accept Fleet Server's certificate ${fleet.chain[0]?.subject ?? ''} for ${planned.upstreamName ?? 'localhost'}: ${upstream.message}`,
      'give the proxy the CA that issued --fleet-server-cert (proxy_ssl_trusted_certificate), or run Fleet Server with --fleet-server-insecure-http behind it');
  // nginx answers a request it could not pass on with 502, which the agent reports as a server error.
  const badGateway: Prediction = { ...agentToProxy, outcome: 'rejected-by-server', message: 'received status code 502 (BadGateway)' };
  return { predictions: [badGateway, upstream], findings: [...front.findings, upstreamFinding], blocked: 'the proxy could not reach Fleet Server' };
}

/** The proxy's own connection to Fleet Server, with the name it verifies (proxy_ssl_name, localhost unless given). */
function predictUpstream(planned: PlannedSecureProxy, agent: AgentSide, fleet: FleetSide): Prediction {
  const leg = (outcome: Prediction['outcome'], message: string): Prediction => ({ from: 'proxy', to: 'fleet-server', outcome, message });
  if (fleet.insecureHttp) return leg('ok', 'plain HTTP to Fleet Server (--fleet-server-insecure-http)');
  const refused = nginxVerifiesUpstream(planned, fleet.chain, agent.now);
  if (refused) return leg('rejected-by-client', refused);
  const failed = upstreamClientAuth(planned, { ...fleet, clientCAs: fleet.clientCAs ?? [], server: 'go' }, agent.now);
  if (failed) return leg('rejected-by-server', failed);
  return leg('ok', planned.upstreamAuthorities ? 'the proxy verifies Fleet Server with --secure-proxy-upstream-ca' : 'the proxy does not verify Fleet Server (nginx\'s default)');
}

/**
 * nginx's proxy_ssl_verify: the upstream chain against proxy_ssl_trusted_certificate, then its
 * name against proxy_ssl_name. Its error-log words when it refuses; undefined when it accepts
 * (or does not verify, nginx's default).
 */
export function nginxVerifiesUpstream(planned: PlannedSecureProxy, chain: readonly Cert[], now: Date): string | undefined {
  if (!planned.upstreamAuthorities) return undefined;
  const name = planned.upstreamName ?? 'localhost';
  const verdict = verifyServerChain([...chain], { roots: [...planned.upstreamAuthorities], serverName: name, mode: 'certificate', now });
  if (!verdict.ok) return 'upstream SSL certificate verify error';
  if (chain[0] && libsVerifyHostname(chain[0], name)) return 'upstream SSL certificate does not match';
  return undefined;
}

/**
 * The upstream's judgement of the proxy's own client certificate (proxy_ssl_certificate; OpenSSL
 * sends it whatever CAs the server lists). nginx's words when the upstream refuses: the handshake
 * fails under TLS 1.2; under TLS 1.3 nginx's side of it is done first, and it meets the alert
 * reading the answer (real nginx, test/integration/secure-proxy-nginx.test.ts).
 */
export function upstreamClientAuth(
  planned: PlannedSecureProxy,
  upstream: { readonly clientAuthentication: ClientAuthentication; readonly clientCAs: readonly Cert[]; readonly server: 'go' | 'java'; readonly tls13: boolean },
  now: Date,
): string | undefined {
  if (upstream.clientAuthentication === 'none') return undefined;
  const failed = upstream.tls13 ? 'SSL_read() failed' : 'SSL_do_handshake() failed';
  const chain = planned.upstreamCertificate?.chain ?? [];
  if (chain.length === 0) return upstream.clientAuthentication === 'required' ? failed : undefined;
  const refused = upstream.server === 'go'
    ? !verifyClientChain([...chain], { clientCAs: [...upstream.clientCAs], now }).ok
    : judgeClientCertificate(chain, upstream.clientAuthentication === 'required', upstream.clientCAs, now) !== null;
  return refused ? failed : undefined;
}
