import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { applyElasticEnv, checkUnknownEnv, type Component } from '../../../src/cli/elastic-env.js';

/** The flags the component commands declare, enough to see what the environment fills in. */
function command(component: Component, argv: string[] = []): Command {
  const cmd = new Command(component).exitOverride();
  for (const flag of ['--url <u>', '--enrollment-token <t>', '--certificate-authorities <f>', '--insecure', '--elastic-agent-cert <f>',
    '--fleet-server-es <u>', '--fleet-server-es-ca <f>', '--fleet-server-cert <f>', '--fleet-server-service-token <t>', '--cert <f>', '--service-token <t>']) {
    cmd.option(flag);
  }
  cmd.option('--fleet-server-client-auth <m>', '', 'none');
  cmd.option('--port <n>', '', '9200');
  cmd.parse(argv, { from: 'user' });
  return cmd;
}

describe('Elastic image variables on the component commands', () => {
  it('maps the agent image\'s enrollment variables onto the agent\'s flags', () => {
    const cmd = command('agent');
    const used = applyElasticEnv(cmd, 'agent', { FLEET_URL: 'https://fleet-server:8220', FLEET_ENROLLMENT_TOKEN: 'dG9rZW4=', FLEET_CA: '/certs/fleet-ca.crt', FLEET_INSECURE: 'true', ELASTIC_AGENT_CERT: '/certs/agent.crt' });
    expect(cmd.opts()).toMatchObject({ url: 'https://fleet-server:8220', enrollmentToken: 'dG9rZW4=', certificateAuthorities: '/certs/fleet-ca.crt', insecure: true, elasticAgentCert: '/certs/agent.crt' });
    expect(used).toEqual(['FLEET_URL', 'FLEET_ENROLLMENT_TOKEN', 'FLEET_CA', 'FLEET_INSECURE', 'ELASTIC_AGENT_CERT']);
  });

  it('reads FLEET_SERVER_* for Fleet Server, and the action-specific variable over the common one', () => {
    const cmd = command('fleet-server');
    applyElasticEnv(cmd, 'fleet-server', {
      FLEET_SERVER_ELASTICSEARCH_HOST: 'https://es:9200', ELASTICSEARCH_HOST: 'http://ignored:9200',
      ELASTICSEARCH_CA: '/certs/es-ca.crt', FLEET_SERVER_CLIENT_AUTH: 'required', FLEET_SERVER_SERVICE_TOKEN: 'AAEAAQ',
    });
    expect(cmd.opts()).toMatchObject({ fleetServerEs: 'https://es:9200', fleetServerEsCa: '/certs/es-ca.crt', fleetServerClientAuth: 'required', fleetServerServiceToken: 'AAEAAQ' });
  });

  it('reads the Elasticsearch image\'s dotted settings, and a variable of another component changes nothing', () => {
    const cmd = command('elasticsearch');
    applyElasticEnv(cmd, 'elasticsearch', { 'xpack.security.http.ssl.certificate': '/certs/es.crt', 'http.port': '9201', FLEET_URL: 'https://x:8220' });
    expect(cmd.opts()).toMatchObject({ cert: '/certs/es.crt', port: '9201' });
    expect(cmd.opts().url).toBeUndefined();
  });

  it('treats an empty variable as unset, as a compose file\'s ${VAR:-} leaves it', () => {
    const cmd = command('agent');
    applyElasticEnv(cmd, 'agent', { ELASTIC_AGENT_CERT: '', FLEET_CA: '' });
    expect(cmd.opts().elasticAgentCert).toBeUndefined();
    expect(cmd.opts().certificateAuthorities).toBeUndefined();
  });

  it('accepts a flag and a variable that agree, and refuses with one line when they disagree', () => {
    expect(() => applyElasticEnv(command('agent', ['--url', 'https://a:8220']), 'agent', { FLEET_URL: 'https://a:8220' })).not.toThrow();
    expect(() => applyElasticEnv(command('agent', ['--url', 'https://a:8220']), 'agent', { FLEET_URL: 'https://b:8220' }))
      .toThrow("--url 'https://a:8220' and FLEET_URL='https://b:8220' disagree; give one of them");
    expect(() => applyElasticEnv(command('agent', ['--insecure']), 'agent', { FLEET_INSECURE: '0' }))
      .toThrow("--insecure 'true' and FLEET_INSECURE='0' disagree; give one of them");
  });

  it('refuses a misspelled TLS variable of either image, naming it', () => {
    expect(() => checkUnknownEnv({ FLEET_SERVER_ES_CA: '/certs/es-ca.crt' }))
      .toThrow("environment variable FLEET_SERVER_ES_CA is not a TLS setting of Elastic's agent image that fleet-tls knows; remove it or use a flag");
    expect(() => checkUnknownEnv({ ELASTIC_AGENT_CERT_PASSPHRASE: 'x' })).toThrow('ELASTIC_AGENT_CERT_PASSPHRASE');
    expect(() => checkUnknownEnv({ 'xpack.security.http.ssl.keystore.path': 'http.p12' }))
      .toThrow("environment variable xpack.security.http.ssl.keystore.path is not a TLS setting of Elastic's Elasticsearch image");
    // Not TLS, or not theirs: left alone.
    expect(() => checkUnknownEnv({ FLEET_SERVER_SOMETHING_ELSE: '1', PATH: '/bin', ELASTIC_AGENT_TAGS: 'a' })).not.toThrow();
  });

  it('takes Go\'s boolean spellings and refuses others', () => {
    const cmd = command('agent');
    applyElasticEnv(cmd, 'agent', { FLEET_INSECURE: 'T' });
    expect(cmd.opts().insecure).toBe(true);
    expect(() => applyElasticEnv(command('agent'), 'agent', { FLEET_INSECURE: 'yes' }))
      .toThrow("environment variable FLEET_INSECURE: 'yes' is not a boolean (1, true, 0, false)");
    expect(() => applyElasticEnv(command('agent'), 'agent', { FLEET_SERVER_ENABLE: 'on' })).toThrow('FLEET_SERVER_ENABLE');
  });
});
