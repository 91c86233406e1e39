/**
 * Elastic's "Elasticsearch behind a secure proxy" on paper (--secure-proxy-in-front-of
 * elasticsearch): Fleet Server's TLS ends at the proxy (fleet-server → proxy: the proxy's
 * certificate against --fleet-server-es-ca, Fleet Server's client certificate against the proxy's
 * client CAs, judged as nginx judges it, after the handshake), and the proxy opens its own
 * connection to Elasticsearch (proxy → elasticsearch: its upstream trust, Elasticsearch's client
 * authentication). A proxy that cannot reach Elasticsearch answers Fleet Server 502.
 */
import { nothingForwardedPredicted } from '../components/proxy/nothing-forwarded.js';
import type { PlannedSecureProxy } from '../flows/install-plan.js';
import type { ClientAuthentication } from '../tls/settings.js';
import type { Cert } from '../x509/certificate.js';
import { finding, type Finding } from './findings.js';
import { predictLeg, type LegSetup, type Prediction } from './predict.js';
import { nginxFront, nginxVerifiesUpstream, upstreamClientAuth } from './predict-proxy.js';

/** Elasticsearch behind the proxy: its chain and whom it asks for a client certificate. */
export interface ElasticsearchSide {
  readonly chain: readonly Cert[];
  readonly clientAuthentication: ClientAuthentication;
  readonly clientCAs: readonly Cert[];
  /** The proxy and Elasticsearch settle on TLS 1.3 (the run's highest version). */
  readonly tls13: boolean;
}

/** The two hops, and Fleet Server's bootstrap as it then goes. */
export interface EsProxyPredictions {
  /** fleet-server → proxy, proxy → elasticsearch. */
  readonly predictions: readonly [Prediction, Prediction];
  readonly findings: readonly Finding[];
  /** Fleet Server's connection as Fleet Server sees it (the policy stage's output reaches the same proxy). */
  readonly front: { readonly setup: LegSetup; readonly prediction: Prediction };
  /** Fleet Server bootstraps through the proxy (both hops work). */
  readonly healthy: boolean;
}

/**
 * `bootstrap` is Fleet Server's leg to Elasticsearch as its flags give it; the proxy's certificate
 * and client authentication take the server's place in it.
 */
export function predictEsSecureProxy(planned: PlannedSecureProxy, bootstrap: LegSetup, proxyFile: string, es: ElasticsearchSide, now: Date): EsProxyPredictions {
  const setup: LegSetup = {
    ...bootstrap, to: 'proxy', server: 'go',
    serverFlag: '--secure-proxy-cert', serverFile: proxyFile, serverChain: planned.identity.chain,
    clientAuthentication: planned.clientAuthentication, clientCAFlag: '--secure-proxy-client-ca', clientCAs: planned.clientCertificateAuthorities,
  };
  const judged = predictLeg(setup);
  const front = nginxFront(judged.prediction);
  const upstream = (outcome: Prediction['outcome'], message: string): Prediction => ({ from: 'proxy', to: 'elasticsearch', outcome, message });
  const result = (hops: [Prediction, Prediction], findings: readonly Finding[], healthy: boolean): EsProxyPredictions =>
    ({ predictions: hops, findings, front: { setup, prediction: hops[0] }, healthy });
  if (front.outcome === 'not-attempted') return result([front, upstream('not-attempted', 'Fleet Server made no request through the proxy')], judged.findings, false);
  if (front.outcome !== 'ok') {
    return result([front, upstream('not-attempted', nothingForwardedPredicted('Fleet Server', front.outcome))], judged.findings, false);
  }
  const unverified = nginxVerifiesUpstream(planned, es.chain, now);
  const refused = unverified ? undefined : upstreamClientAuth(planned, { ...es, server: 'java' }, now);
  if (!unverified && !refused) {
    return result([front, upstream('ok', planned.upstreamAuthorities ? 'the proxy verifies Elasticsearch with --secure-proxy-upstream-ca' : 'the proxy does not verify Elasticsearch (nginx\'s default)')], judged.findings, true);
  }
  const hop = unverified ? upstream('rejected-by-client', unverified) : upstream('rejected-by-server', refused!);
  const why = unverified
    ? finding('error', '--secure-proxy-upstream-ca', null, 'PROXY_UPSTREAM_UNTRUSTED', `the proxy does not accept Elasticsearch's certificate ${es.chain[0]?.subject ?? ''} for ${planned.upstreamName ?? 'localhost'}: ${unverified}`,
      'give the proxy the CA that issued Elasticsearch\'s certificate (proxy_ssl_trusted_certificate, --secure-proxy-upstream-ca), and a proxy_ssl_name it carries')
    : finding('error', '--es-client-auth', null, 'PROXY_UPSTREAM_CLIENT_CERT', 'Elasticsearch requires a client certificate from the proxy in front of it, which presents none it accepts',
      'give the proxy a client certificate from a CA in Elasticsearch\'s client CAs (proxy_ssl_certificate, --secure-proxy-upstream-cert), or let the proxy alone verify Fleet Server (--es-client-auth=optional)');
  // nginx answers a request it could not pass on with 502; go-elasticsearch's version check reports the status.
  return result([{ ...front, outcome: 'rejected-by-server', message: 'elastic fail 502' }, hop], [...judged.findings, why], false);
}
