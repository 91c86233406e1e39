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

  it('in front of Elasticsearch: Fleet Server\'s output test is predicted at the proxy\'s certificate, as fleet-server->proxy (policy)', async () => {
    const result = await diagnose([
      '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key',
      '--fleet-server-es=https://localhost:9200', '--fleet-server-service-token=T', '--fleet-server-es-ca=/path/to/fleet-ca', '--fleet-server-port=0',
      '--fleet-server-es-cert=/path/to/fleet-es-cert', '--fleet-server-es-cert-key=/path/to/fleet-es-cert-key',
      '--secure-proxy', '--secure-proxy-in-front-of=elasticsearch', '--secure-proxy-cert=/path/to/fleet-cert', '--secure-proxy-cert-key=/path/to/fleet-cert-key',
      '--secure-proxy-client-auth=required', '--secure-proxy-client-ca=/path/to/es-ca', '--secure-proxy-upstream-ca=/path/to/es-ca', '--policy-output-ca=/path/to/es-ca',
    ]);
    expect(staged(result)).toEqual([
      ['fleet-server->proxy', 'ok', true], ['agent->fleet-server', 'ok', true], ['agent->fleet-server (policy)', 'ok', true],
      ['fleet-server->proxy (policy)', 'rejected-by-client', true], ['agent->elasticsearch', 'rejected-by-client', true],
    ]);
    expect(result.predictions.find((p) => p.from === 'fleet-server' && p.stage === 'policy')!.message).toBe('x509: certificate signed by unknown authority');
  });
});
