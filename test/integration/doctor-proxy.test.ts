import { beforeAll, describe, expect, it } from 'vitest';
import { doctor, type DoctorResult } from '../../src/doctor/doctor.js';
import type { Pki } from '../../src/pki/store.js';
import { cliInProcess } from '../helpers/cli.js';
import { sharedPki } from '../helpers/pki.js';

/**
 * The doctor predicts the proxy legs from the files and flags, then runs the flow beside the
 * predictions: each prediction must agree with what the proxy and the agent really did.
 */
let pki: Pki;
beforeAll(async () => {
  pki = await sharedPki();
});

const FORWARD = [
  '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--fleet-server-es-ca=/path/to/es-ca',
  '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key', '--fleet-server-port=0',
];
const SECURE = [
  '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--elastic-agent-cert=/path/to/agent-cert',
  '--elastic-agent-cert-key=/path/to/agent-cert-key', '--elastic-agent-cert-key-passphrase=/path/to/agent-cert-key-passphrase',
  '--fleet-server-es=https://localhost:9200', '--fleet-server-es-ca=/path/to/es-ca', '--fleet-server-service-token=T', '--fleet-server-port=0',
  '--secure-proxy', '--secure-proxy-client-auth=required',
];
const diagnose = (argv: readonly string[]) => doctor([...argv, '--certs', pki.dir], { pki });
const legs = (result: DoctorResult) => result.predictions.map((p) => [`${p.from}->${p.to}`, p.outcome, p.message, p.agrees]);
const errors = (result: DoctorResult) => result.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.flag}`);

describe('doctor predicts the forward proxy leg, and the flow agrees', () => {
  it('through a CONNECT proxy: agent -> proxy, then the agent\'s own TLS with Fleet Server through the tunnel', async () => {
    const result = await diagnose([...FORWARD, '--proxy-url=http://127.0.0.1:3128']);
    expect(legs(result).slice(1, 3)).toEqual([
      ['agent->proxy', 'ok', 'the proxy answers CONNECT with 200', true],
      ['agent->fleet-server', 'ok', 'the server does not ask for a client certificate', true],
    ]);
    expect(result.ok).toBe(true);
  });

  it('an https proxy whose certificate the agent\'s CAs do not accept: PROXY_CERT_UNTRUSTED, rejected by the agent', async () => {
    const result = await diagnose([...FORWARD, '--proxy-url=https://localhost:3128', '--proxy-cert=/path/to/es-cert', '--proxy-cert-key=/path/to/es-cert-key']);
    expect(legs(result).slice(1, 3)).toEqual([
      ['agent->proxy', 'rejected-by-client', 'proxyconnect tcp: x509: certificate signed by unknown authority', true],
      ['agent->fleet-server', 'not-attempted', 'the proxy did not open a connection to Fleet Server', true],
    ]);
    expect(errors(result)).toEqual(['PROXY_CERT_UNTRUSTED --certificate-authorities']);
  });

  it('SOCKS5 credentials the proxy refuses: rejected by the proxy in x/net\'s words', async () => {
    const result = await diagnose([...FORWARD, '--proxy-url=socks5://agent:wrong@127.0.0.1:1080', '--proxy-require-auth=agent:right']);
    expect(legs(result)[1]).toEqual(['agent->proxy', 'rejected-by-server', 'username/password authentication failed', true]);
  });

  it('no proxy leg while the agent bootstraps its own Fleet Server, which it reaches directly', async () => {
    const result = await diagnose([...SECURE.filter((a) => !a.startsWith('--secure-proxy')), '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key', '--proxy-url=http://127.0.0.1:9']);
    expect(legs(result).map(([leg, outcome]) => [leg, outcome])).toEqual([
      // Then the policy: the agent's next checkin and Fleet Server's output test, also without the proxy.
      ['fleet-server->elasticsearch', 'ok'], ['agent->fleet-server', 'ok'], ['agent->fleet-server', 'ok'], ['fleet-server->elasticsearch', 'ok'], ['agent->elasticsearch', 'ok'],
    ]);
  });
});

describe('doctor predicts the secure proxy legs, and the flow agrees', () => {
  it('the proxy trusts another CA for client certificates: Go withholds the agent\'s, nginx answers that none was sent', async () => {
    const result = await diagnose([...SECURE, '--fleet-server-insecure-http', '--secure-proxy-client-ca=/path/to/es-ca']);
    expect(legs(result).slice(1, 3)).toEqual([
      ['agent->proxy', 'rejected-by-server', 'client sent no required SSL certificate', true],
      ['proxy->fleet-server', 'not-attempted', 'the proxy answered the agent itself and forwarded nothing', true],
    ]);
    expect(errors(result)).toEqual(['CLIENT_CERT_UNTRUSTED --elastic-agent-cert']);
    expect(result.findings.find((f) => f.code === 'CLIENT_CERT_UNTRUSTED')?.message).toBe(
      'the agent withholds CN=elastic-agent,O=fleet-tls-harness: its issuer CN=agent-ca,O=fleet-tls-harness is not among the CAs proxy asks for (--secure-proxy-client-ca)');
  });

  it('Fleet Server behind it wants a client certificate the proxy does not have: 502 to the agent, PROXY_UPSTREAM_CLIENT_CERT', async () => {
    const result = await diagnose([...SECURE, '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key', '--fleet-server-client-auth=required']);
    expect(legs(result).slice(1, 3)).toEqual([
      ['agent->proxy', 'rejected-by-server', 'received status code 502 (BadGateway)', true],
      // TLS 1.3: nginx meets Fleet Server's certificate_required reading the answer (real nginx, secure-proxy-nginx.test.ts).
      ['proxy->fleet-server', 'rejected-by-server', 'SSL_read() failed', true],
    ]);
    expect(errors(result)).toEqual(['PROXY_UPSTREAM_CLIENT_CERT --fleet-server-client-auth']);
  });

  it('prints the proxy legs on the command line and exits 1; 0 once Fleet Server listens on plain HTTP behind the proxy', async () => {
    const [broken, fixed] = await Promise.all([
      cliInProcess(['doctor', ...SECURE, '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key', '--secure-proxy-upstream-ca=/path/to/es-ca', '--certs', pki.dir]),
      cliInProcess(['doctor', ...SECURE, '--fleet-server-insecure-http', '--certs', pki.dir]),
    ]);
    expect(broken.status).toBe(1);
    expect(broken.out).toContain('  agent -> proxy: rejected by the server | rejected by the server (agrees)\n    predicted: received status code 502 (BadGateway)\n'
      + '  proxy -> fleet-server: rejected by the client | rejected by the client (agrees)\n    predicted: upstream SSL certificate verify error\n');
    expect(fixed.status).toBe(0);
    expect(fixed.out).toContain('  proxy -> fleet-server: works | works (agrees)\n    predicted: plain HTTP to Fleet Server (--fleet-server-insecure-http)\n');
  });
});

const ES_PROXY = [
  '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--fleet-server-es=https://localhost:9200', '--fleet-server-es-ca=/path/to/fleet-ca',
  '--fleet-server-es-cert=/path/to/fleet-es-cert', '--fleet-server-es-cert-key=/path/to/fleet-es-cert-key', '--fleet-server-cert=/path/to/fleet-cert',
  '--fleet-server-cert-key=/path/to/fleet-cert-key', '--fleet-server-service-token=T', '--fleet-server-port=0', '--secure-proxy', '--secure-proxy-in-front-of=elasticsearch',
  '--secure-proxy-cert=/path/to/fleet-cert', '--secure-proxy-cert-key=/path/to/fleet-cert-key', '--secure-proxy-client-auth=required', '--secure-proxy-client-ca=/path/to/es-ca',
];

describe('doctor predicts the legs with Elasticsearch behind a secure proxy, and the flow agrees', () => {
  it('Fleet Server\'s TLS ends at the proxy, the proxy verifies Elasticsearch, and the policy\'s output reaches the proxy', async () => {
    const result = await diagnose([...ES_PROXY, '--secure-proxy-upstream-ca=/path/to/es-ca']);
    expect(legs(result)).toEqual([
      ['fleet-server->proxy', 'ok', 'the server accepts the client certificate', true],
      ['proxy->elasticsearch', 'ok', 'the proxy verifies Elasticsearch with --secure-proxy-upstream-ca', true],
      ['agent->fleet-server', 'ok', 'the server does not ask for a client certificate', true],
      ['agent->fleet-server', 'ok', 'the server does not ask for a client certificate', true],
      ['fleet-server->proxy', 'ok', 'the server accepts the client certificate', true],
      ['agent->elasticsearch', 'ok', 'the server accepts the client certificate', true],
    ]);
    expect(result.ok).toBe(true);
  });

  it('the proxy cannot verify Elasticsearch: 502 to Fleet Server, which never becomes healthy; PROXY_UPSTREAM_UNTRUSTED', async () => {
    const result = await diagnose([...ES_PROXY, '--secure-proxy-upstream-ca=/path/to/fleet-ca']);
    expect(legs(result).slice(0, 3)).toEqual([
      ['fleet-server->proxy', 'rejected-by-server', 'elastic fail 502', true],
      ['proxy->elasticsearch', 'rejected-by-client', 'upstream SSL certificate verify error', true],
      ['agent->fleet-server', 'not-attempted', 'Fleet Server did not become healthy', true],
    ]);
    expect(errors(result)).toEqual(['PROXY_UPSTREAM_UNTRUSTED --secure-proxy-upstream-ca']);
  });

  it('Elasticsearch requires a client certificate the proxy lacks: nginx fails the handshake under TLS 1.2, the first read under TLS 1.3', async () => {
    const [tls12, tls13] = await Promise.all(['1.2', '1.3'].map((v) => diagnose([...ES_PROXY, '--secure-proxy-upstream-ca=/path/to/es-ca', '--es-client-auth=required', `--tls=${v}`])));
    expect(legs(tls12!)[1]).toEqual(['proxy->elasticsearch', 'rejected-by-server', 'SSL_do_handshake() failed', true]);
    expect(legs(tls13!)[1]).toEqual(['proxy->elasticsearch', 'rejected-by-server', 'SSL_read() failed', true]);
    expect(errors(tls13!)).toEqual(['PROXY_UPSTREAM_CLIENT_CERT --es-client-auth']);
  });

  it('Fleet Server without the client certificate the proxy requires: nginx\'s words, nothing forwarded', async () => {
    const result = await diagnose([...ES_PROXY.filter((a) => !a.startsWith('--fleet-server-es-cert')), '--secure-proxy-upstream-ca=/path/to/es-ca']);
    expect(legs(result).slice(0, 2)).toEqual([
      ['fleet-server->proxy', 'rejected-by-server', 'client sent no required SSL certificate', true],
      ['proxy->elasticsearch', 'not-attempted', 'the proxy answered Fleet Server itself and forwarded nothing', true],
    ]);
  });
});

const INTERCEPT = [...FORWARD, '--proxy-url=http://127.0.0.1:3128', '--proxy-intercept'];
const INSPECTION_ROOT = ['--proxy-intercept-ca=/path/to/fleet-ca', '--proxy-intercept-ca-key=/path/to/fleet-ca-key'];

describe('doctor predicts the intercepting proxy\'s legs from the certificate it mints, and the flow agrees', () => {
  it('a root the agent does not trust: the agent refuses the minted certificate, the proxy\'s own handshake worked; PROXY_INTERCEPTED', async () => {
    const result = await diagnose([...INTERCEPT, '--proxy-intercept-upstream-ca=/path/to/fleet-ca']);
    expect(legs(result).slice(1)).toEqual([
      ['agent->proxy', 'rejected-by-client', 'x509: certificate signed by unknown authority', true],
      ['proxy->fleet-server', 'ok', 'the proxy verifies Fleet Server', true],
      ['agent->elasticsearch', 'not-attempted', 'the agent did not enroll, so it has no policy to ship data with', true],
    ]);
    expect(errors(result)).toEqual(['PROXY_INTERCEPTED --certificate-authorities']);
  });

  it('a root the agent trusts: it enrolls through the proxy, then Fleet Server tests its policy\'s output and the agent ships', async () => {
    const result = await diagnose([...INTERCEPT, '--proxy-intercept-upstream-ca=/path/to/fleet-ca', ...INSPECTION_ROOT]);
    expect(legs(result).slice(1).map(([leg, outcome, , agrees]) => [leg, outcome, agrees])).toEqual([
      ['agent->proxy', 'ok', true], ['proxy->fleet-server', 'ok', true],
      // The policy takes over: the agent's next connection meets the proxy again.
      ['agent->proxy', 'ok', true], ['proxy->fleet-server', 'ok', true],
      ['fleet-server->elasticsearch', 'ok', true], ['agent->elasticsearch', 'ok', true],
    ]);
    expect(result.ok).toBe(true);
  });

  it('the proxy cannot verify Fleet Server: OpenSSL\'s verdict on its hop, a 503 to the agent; PROXY_UPSTREAM_UNTRUSTED', async () => {
    const result = await diagnose([...INTERCEPT, ...INSPECTION_ROOT]);
    expect(legs(result).slice(1, 3)).toEqual([
      ['agent->proxy', 'rejected-by-server', 'received status code 503 (ServiceUnavailable)', true],
      ['proxy->fleet-server', 'rejected-by-client', '(21:unable to verify the first certificate)', true],
    ]);
    expect(errors(result)).toEqual(['PROXY_UPSTREAM_UNTRUSTED --proxy-intercept-upstream-ca']);
  });

  it('Fleet Server requires a client certificate: the agent\'s stays with the agent, Fleet Server refuses the proxy; squid answers 503 under TLS 1.2, nothing under TLS 1.3', async () => {
    const mutualIntercept = [...INTERCEPT, '--proxy-intercept-upstream-ca=/path/to/fleet-ca', ...INSPECTION_ROOT, '--fleet-server-client-auth=required'];
    const [tls12, tls13] = await Promise.all([diagnose([...mutualIntercept, '--tls=1.2']), doctor([...mutualIntercept, '--certs', pki.dir], { pki, static: true })]);
    expect(legs(tls12!).slice(1, 3)).toEqual([
      ['agent->proxy', 'rejected-by-server', 'received status code 503 (ServiceUnavailable)', true],
      ['proxy->fleet-server', 'rejected-by-server', "tls: client didn't provide a certificate", true],
    ]);
    expect(errors(tls12!)).toEqual(['PROXY_UPSTREAM_CLIENT_CERT --fleet-server-client-auth']);
    // Static: the agent would wait for its own timeout (10 minutes by default), as scenario proxy.intercept.mutual-tls-1.3 shows with a short one.
    expect(legs(tls13!)[1]).toEqual(['agent->proxy', 'rejected-by-client', 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)', null]);
  });
});

describe('doctor predicts squid\'s denied CONNECT port under ssl-bump', () => {
  it('the proxy bumps the denied CONNECT and answers 403, which the agent cannot decode; it contacts nobody; PROXY_CONNECT_DENIED', async () => {
    const result = await diagnose([...INTERCEPT, ...INSPECTION_ROOT, '--proxy-allow-ports=443']);
    expect(legs(result).slice(1, 3)).toEqual([
      ['agent->proxy', 'rejected-by-server', 'could not decode the response', true],
      ['proxy->fleet-server', 'not-attempted', 'the proxy\'s rules deny CONNECT to port 8220: it contacted nobody', true],
    ]);
    expect(errors(result)).toEqual(['PROXY_CONNECT_DENIED --proxy-url']);
  });
});

describe('doctor predicts a load balancer\'s health checks, and the flow agrees', () => {
  it('TCP probes pass and cost Fleet Server a handshake error each; beside a secure proxy the two proxy -> fleet-server legs pair up in order', async () => {
    const [tcp, behind] = await Promise.all([
      diagnose([...FORWARD, '--health-check=tcp', '--health-check-interval=10ms']),
      diagnose([...SECURE, '--fleet-server-insecure-http', '--health-check=tcp', '--health-check-interval=10ms']),
    ]);
    expect(legs(tcp!)[0]).toEqual(['proxy->fleet-server', 'ok', 'Layer4 check passed', true]);
    expect(tcp!.findings.filter((f) => f.code === 'HEALTH_CHECK_HANDSHAKE_ERRORS').map((f) => f.severity)).toEqual(['info']);
    expect(legs(behind!).filter(([leg]) => leg === 'proxy->fleet-server')).toEqual([
      ['proxy->fleet-server', 'ok', 'Layer4 check passed', true],
      ['proxy->fleet-server', 'ok', 'plain HTTP to Fleet Server (--fleet-server-insecure-http)', true],
      // Again once the policy takes over.
      ['proxy->fleet-server', 'ok', 'plain HTTP to Fleet Server (--fleet-server-insecure-http)', true],
    ]);
    expect(behind!.findings.some((f) => f.code === 'HEALTH_CHECK_HANDSHAKE_ERRORS')).toBe(false);
  });

  it('HTTPS probes of a Fleet Server that requires client certificates fail their handshake: the balancer marks it down', async () => {
    const agentCert = SECURE.filter((a) => a.startsWith('--elastic-agent-cert'));
    const mutual = FORWARD.map((a) => (a.startsWith('--certificate-authorities=') ? `${a},/path/to/agent-ca` : a));
    const result = await diagnose([...mutual, ...agentCert, '--health-check=http', '--health-check-interval=10ms', '--fleet-server-client-auth=required']);
    expect(legs(result)[0]).toEqual(['proxy->fleet-server', 'rejected-by-server', 'SSL handshake failure', true]);
    expect(errors(result)).toEqual(['HEALTH_CHECK_HANDSHAKE_ERRORS --fleet-server-client-auth']);
  });
});

describe('doctor predicts the legs after the policy takes over behind a secure proxy, and the flow agrees', () => {
  const staged = (result: DoctorResult) => result.predictions.map((p) => [`${p.from}->${p.to}${p.stage ? ' (policy)' : ''}`, p.outcome, p.agrees]);
  // A remote agent (no --fleet-server-es): it tests the policy's Fleet Server host before applying it.
  const REMOTE = SECURE.filter((a) => !a.startsWith('--fleet-server-es='));

  it('in front of Fleet Server: the policy\'s CA that did not issue the proxy\'s certificate fails the agent\'s next connection at the proxy', async () => {
    const result = await diagnose([...REMOTE, '--fleet-server-insecure-http', '--secure-proxy-client-ca=/path/to/agent-ca', '--policy-fleet-ca=/path/to/es-ca']);
    expect(staged(result)).toEqual([
      ['fleet-server->elasticsearch', 'ok', true], ['agent->proxy', 'ok', true], ['proxy->fleet-server', 'ok', true],
      ['agent->proxy (policy)', 'rejected-by-client', true], ['proxy->fleet-server (policy)', 'not-attempted', true],
      ['fleet-server->elasticsearch (policy)', 'ok', true], ['agent->elasticsearch', 'not-attempted', true],
    ]);
    expect(result.predictions.find((p) => p.to === 'proxy' && p.stage === 'policy')!.message).toBe('x509: certificate signed by unknown authority');
  });

  it('a forward proxy only the policy names, in front of the secure proxy: its tunnel first, then the proxy\'s two hops; a tunnel refused leaves both unattempted', async () => {
    const [through, refused] = await Promise.all([
      diagnose([...REMOTE, '--fleet-server-insecure-http', '--policy-fleet-proxy-url=http://127.0.0.1:3129']),
      diagnose([...REMOTE, '--fleet-server-insecure-http', '--policy-fleet-proxy-url=https://localhost:3129', '--policy-fleet-ca=/path/to/es-ca']),
    ]);
    const policyHops = (result: DoctorResult) => result.predictions.filter((p) => p.stage === 'policy' && p.to !== 'elasticsearch').map((p) => [`${p.from}->${p.to}`, p.outcome, p.message, p.agrees]);
    expect(policyHops(through)).toEqual([
      ['agent->proxy', 'ok', 'the proxy answers CONNECT with 200', true],
      ['agent->proxy', 'ok', 'the server accepts the client certificate', true],
      ['proxy->fleet-server', 'ok', 'plain HTTP to Fleet Server (--fleet-server-insecure-http)', true],
    ]);
    // The https proxy presents Fleet Server's certificate (policy-stage.ts), which the policy's es-ca does not accept.
    expect(policyHops(refused)).toEqual([
      ['agent->proxy', 'rejected-by-client', 'proxyconnect tcp: x509: certificate signed by unknown authority', true],
      ['agent->proxy', 'not-attempted', 'the proxy did not open a connection to Fleet Server', true],
      ['proxy->fleet-server', 'not-attempted', 'no request reached the proxy, so it forwarded nothing', true],
    ]);
    expect([through, refused].map((r) => r.predictions.filter((p) => p.agrees !== true).length)).toEqual([0, 0]);
    expect(refused.predictions.at(-1)).toMatchObject({ from: 'agent', to: 'elasticsearch', outcome: 'not-attempted', agrees: true });
  });

  it('in front of Elasticsearch: Fleet Server\'s output test is predicted at the proxy\'s certificate, as fleet-server->proxy (policy)', async () => {
    const result = await diagnose([
      '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key',
      '--fleet-server-es=https://localhost:9200', '--fleet-server-service-token=T', '--fleet-server-es-ca=/path/to/fleet-ca', '--fleet-server-port=0',
      '--fleet-server-es-cert=/path/to/fleet-es-cert', '--fleet-server-es-cert-key=/path/to/fleet-es-cert-key',
      '--secure-proxy', '--secure-proxy-in-front-of=elasticsearch', '--secure-proxy-cert=/path/to/fleet-cert', '--secure-proxy-cert-key=/path/to/fleet-cert-key',
      '--secure-proxy-client-auth=required', '--secure-proxy-client-ca=/path/to/es-ca', '--secure-proxy-upstream-ca=/path/to/es-ca', '--policy-output-ca=/path/to/es-ca',
    ]);
    expect(staged(result)).toEqual([
      ['fleet-server->proxy', 'ok', true], ['proxy->elasticsearch', 'ok', true], ['agent->fleet-server', 'ok', true], ['agent->fleet-server (policy)', 'ok', true],
      ['fleet-server->proxy (policy)', 'rejected-by-client', true], ['agent->elasticsearch', 'rejected-by-client', true],
    ]);
    expect(result.predictions.find((p) => p.from === 'fleet-server' && p.stage === 'policy')!.message).toBe('x509: certificate signed by unknown authority');
  });
});

describe('doctor predicts the proxy the policy\'s Fleet client dials, as install decides it, and the flow agrees', () => {
  const policyLegs = (result: DoctorResult) => result.predictions.filter((p) => p.stage === 'policy' && p.from === 'agent' && p.to !== 'elasticsearch')
    .map((p) => [`${p.from}->${p.to}`, p.outcome, p.message, p.agrees]);
  const everyAgrees = (result: DoctorResult) => result.predictions.filter((p) => p.agrees !== true).map((p) => `${p.from}->${p.to} ${p.stage ?? ''}`);
  const ROOTED = [...INTERCEPT, '--proxy-intercept-upstream-ca=/path/to/fleet-ca', ...INSPECTION_ROOT];

  it('the policy\'s own https proxy, whose certificate the policy\'s CA does not accept, instead of the enrollment proxy', async () => {
    const result = await diagnose([...FORWARD, '--proxy-url=http://127.0.0.1:3128', '--policy-fleet-proxy-url=https://localhost:3129', '--policy-fleet-ca=/path/to/es-ca']);
    expect(policyLegs(result)).toEqual([
      ['agent->proxy', 'rejected-by-client', 'proxyconnect tcp: x509: certificate signed by unknown authority', true],
      ['agent->fleet-server', 'not-attempted', 'the proxy did not open a connection to Fleet Server', true],
    ]);
    expect(everyAgrees(result)).toEqual([]);
  });

  it('an intercepting enrollment proxy, then the policy\'s own plain proxy: a tunnel and the agent\'s own TLS with Fleet Server, no interception', async () => {
    const result = await diagnose([...ROOTED, '--policy-fleet-proxy-url=http://127.0.0.1:3129']);
    expect(policyLegs(result)).toEqual([
      ['agent->proxy', 'ok', 'the proxy answers CONNECT with 200', true],
      ['agent->fleet-server', 'ok', 'the server does not ask for a client certificate', true],
    ]);
    expect(result.predictions.some((p) => p.from === 'proxy' && p.stage === 'policy')).toBe(false);
    expect(everyAgrees(result)).toEqual([]);
  });

  it('an intercepting enrollment proxy, then a policy whose proxy is disabled: straight to Fleet Server', async () => {
    const result = await diagnose([...ROOTED, '--policy-fleet-proxy-url=http://127.0.0.1:3129', '--policy-fleet-proxy-disabled']);
    expect(policyLegs(result)).toEqual([['agent->fleet-server', 'ok', 'the server does not ask for a client certificate', true]]);
    expect(result.predictions.some((p) => p.to === 'proxy' && p.stage === 'policy')).toBe(false);
    expect(everyAgrees(result)).toEqual([]);
  });

  it('checks the policy\'s Fleet Server host on its own port against the enrollment proxy\'s allowed ports', async () => {
    const [forward, intercepted] = await Promise.all([
      diagnose([...FORWARD, '--proxy-url=http://127.0.0.1:3128', '--proxy-allow-ports=8220', '--policy-fleet-url=https://localhost:8221']),
      diagnose([...ROOTED, '--proxy-allow-ports=8220', '--policy-fleet-url=https://localhost:8221']),
    ]);
    // Enrollment to 8220 passes; the policy's host on 8221 is refused.
    expect(legs(forward).slice(1, 3).map(([leg, outcome]) => [leg, outcome])).toEqual([['agent->proxy', 'ok'], ['agent->fleet-server', 'ok']]);
    expect(policyLegs(forward)).toEqual([
      ['agent->proxy', 'rejected-by-server', 'Access violation', true],
      ['agent->fleet-server', 'not-attempted', 'the proxy did not open a connection to Fleet Server', true],
    ]);
    // squid bumps the denied CONNECT and answers CheckRemote's GET /api/status with 403, judged by its status alone.
    expect(policyLegs(intercepted)).toEqual([['agent->proxy', 'rejected-by-server', 'fleet server ping returned a bad status code: 403', true]]);
    expect([everyAgrees(forward), everyAgrees(intercepted)]).toEqual([[], []]);
  });
});
