import type { Command } from 'commander';
import { HarnessError } from '../errors.js';

/**
 * The environment variables of Elastic's container images, mapped onto the flags of the
 * component commands, so a compose file written for `docker.elastic.co/elastic-agent/elastic-agent`
 * (and the TLS settings of the Elasticsearch image) runs against ours unchanged.
 *
 * Names and meanings: Elastic's "Elastic Agent environment variables" page
 * (elastic/docs-content reference/fleet/agent-environment-variables.md). Action-specific
 * variables win over the common ones (FLEET_CA over ELASTICSEARCH_CA, ...), as that page says.
 * The Elasticsearch image reads any `dotted.setting` variable as an elasticsearch.yml setting.
 */
export type Component = 'elasticsearch' | 'fleet-server' | 'agent';

interface EnvSetting {
  readonly env: string;
  /** The commander attribute it sets, per component (absent: known, read elsewhere or inert). */
  readonly option?: Partial<Record<Component, string>>;
  readonly kind?: 'string' | 'bool';
  /** Common variables it overrides: read when it is unset. */
  readonly fallback?: readonly string[];
}

const SETTINGS: readonly EnvSetting[] = [
  // Enroll Elastic Agent.
  { env: 'FLEET_ENROLL', kind: 'bool' },
  { env: 'FLEET_URL', option: { agent: 'url' } },
  // The fake Fleet Server hands out (and the fake Elasticsearch accepts) this token: it stands in
  // for the one Kibana creates in a real stack, so one env file gives it to every container.
  { env: 'FLEET_ENROLLMENT_TOKEN', option: { agent: 'enrollmentToken', 'fleet-server': 'enrollmentToken', elasticsearch: 'enrollmentToken' } },
  { env: 'FLEET_CA', option: { agent: 'certificateAuthorities', 'fleet-server': 'certificateAuthorities' }, fallback: ['ELASTICSEARCH_CA'] },
  { env: 'FLEET_INSECURE', kind: 'bool', option: { agent: 'insecure' } },
  { env: 'ELASTIC_AGENT_CERT', option: { agent: 'elasticAgentCert' } },
  { env: 'ELASTIC_AGENT_CERT_KEY', option: { agent: 'elasticAgentCertKey' } },
  { env: 'ELASTIC_AGENT_CERT_KEY_PASSPHRASE', option: { agent: 'elasticAgentCertKeyPassphrase' } },
  { env: 'ELASTIC_AGENT_ID' }, { env: 'ELASTIC_AGENT_TAGS' }, { env: 'FLEET_FORCE' }, { env: 'FLEET_REPLACE_TOKEN' },
  { env: 'FLEET_TOKEN_NAME' }, { env: 'FLEET_TOKEN_POLICY_NAME' }, { env: 'FLEET_DAEMON_TIMEOUT' }, { env: 'FLEET_SERVER_TIMEOUT' },
  // Bootstrap Fleet Server.
  { env: 'FLEET_SERVER_ENABLE', kind: 'bool' },
  { env: 'FLEET_SERVER_ELASTICSEARCH_HOST', option: { 'fleet-server': 'fleetServerEs' }, fallback: ['ELASTICSEARCH_HOST'] },
  { env: 'FLEET_SERVER_ELASTICSEARCH_CA', option: { 'fleet-server': 'fleetServerEsCa' }, fallback: ['ELASTICSEARCH_CA'] },
  { env: 'FLEET_SERVER_ELASTICSEARCH_CA_TRUSTED_FINGERPRINT', option: { 'fleet-server': 'fleetServerEsCaTrustedFingerprint' } },
  { env: 'FLEET_SERVER_ELASTICSEARCH_INSECURE', kind: 'bool', option: { 'fleet-server': 'fleetServerEsInsecure' } },
  { env: 'FLEET_SERVER_ES_CERT', option: { 'fleet-server': 'fleetServerEsCert' } },
  { env: 'FLEET_SERVER_ES_CERT_KEY', option: { 'fleet-server': 'fleetServerEsCertKey' } },
  { env: 'FLEET_SERVER_INSECURE_HTTP', kind: 'bool', option: { 'fleet-server': 'fleetServerInsecureHttp' } },
  // The same token authenticates Fleet Server to the fake Elasticsearch, which accepts it.
  { env: 'FLEET_SERVER_SERVICE_TOKEN', option: { 'fleet-server': 'fleetServerServiceToken', elasticsearch: 'serviceToken' } },
  { env: 'FLEET_SERVER_SERVICE_TOKEN_PATH', option: { 'fleet-server': 'fleetServerServiceTokenPath' } },
  { env: 'FLEET_SERVER_POLICY_ID', option: { 'fleet-server': 'fleetServerPolicy' } },
  { env: 'FLEET_SERVER_POLICY_NAME' },
  { env: 'FLEET_SERVER_HOST', option: { 'fleet-server': 'fleetServerHost' } },
  { env: 'FLEET_SERVER_PORT', option: { 'fleet-server': 'fleetServerPort' } },
  { env: 'FLEET_SERVER_CERT', option: { 'fleet-server': 'fleetServerCert' } },
  { env: 'FLEET_SERVER_CERT_KEY', option: { 'fleet-server': 'fleetServerCertKey' } },
  { env: 'FLEET_SERVER_CERT_KEY_PASSPHRASE', option: { 'fleet-server': 'fleetServerCertKeyPassphrase' } },
  { env: 'FLEET_SERVER_CLIENT_AUTH', option: { 'fleet-server': 'fleetServerClientAuth' } },
  // Common variables: read through the fallbacks above; Kibana's have no Kibana here to act on.
  { env: 'ELASTICSEARCH_HOST' }, { env: 'ELASTICSEARCH_CA' }, { env: 'ELASTICSEARCH_USERNAME' }, { env: 'ELASTICSEARCH_PASSWORD' },
  { env: 'ELASTICSEARCH_API_KEY' }, { env: 'KIBANA_HOST' }, { env: 'KIBANA_USERNAME' }, { env: 'KIBANA_PASSWORD' }, { env: 'KIBANA_CA' },
  { env: 'KIBANA_FLEET_HOST' }, { env: 'KIBANA_FLEET_USERNAME' }, { env: 'KIBANA_FLEET_PASSWORD' }, { env: 'KIBANA_FLEET_CA' },
  { env: 'KIBANA_FLEET_SETUP' }, { env: 'ELASTIC_NETINFO' }, { env: 'STATE_PATH' },
  // The Elasticsearch image: elasticsearch.yml settings given as variables.
  { env: 'xpack.security.http.ssl.enabled', kind: 'bool' },
  { env: 'xpack.security.http.ssl.certificate', option: { elasticsearch: 'cert' } },
  { env: 'xpack.security.http.ssl.key', option: { elasticsearch: 'key' } },
  { env: 'xpack.security.http.ssl.certificate_authorities', option: { elasticsearch: 'certificateAuthorities' } },
  { env: 'xpack.security.http.ssl.client_authentication', option: { elasticsearch: 'clientAuth' } },
  { env: 'http.port', option: { elasticsearch: 'port' } },
  { env: 'network.host', option: { elasticsearch: 'host' } },
];

const KNOWN = new Map(SETTINGS.map((s) => [s.env, s]));
/** A name that is one of the images' TLS settings, were it spelled right. */
const TLS_WORDS = /(^|_)(CA|CAS|CERT|CERTS|CERTIFICATE|KEY|TLS|SSL|INSECURE|FINGERPRINT|CLIENT_AUTH|VERIFICATION|PASSPHRASE|PROTOCOLS?|CIPHERS?)(_|$)/;

/**
 * Refuses, with one line, a variable that looks like a TLS setting of the agent image
 * (FLEET_*, ELASTIC_AGENT_*, ELASTICSEARCH_*, KIBANA_*) or any `xpack.security.http.ssl.*`
 * setting that the harness does not know: silently ignoring it would run a different flow.
 */
export function checkUnknownEnv(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(env).sort()) {
    if (KNOWN.has(name)) continue;
    const agentImage = /^(FLEET|ELASTIC_AGENT|ELASTICSEARCH|KIBANA)_/.test(name) && TLS_WORDS.test(name);
    const esImage = name.startsWith('xpack.security.http.ssl.');
    if (agentImage || esImage) {
      throw new HarnessError('FTH_USAGE', `environment variable ${name} is not a TLS setting of Elastic's ${esImage ? 'Elasticsearch' : 'agent'} image that fleet-tls knows; remove it or use a flag`);
    }
  }
}

/** Go's strconv.ParseBool spellings, as the agent image's boolean variables accept. */
export function parseEnvBool(name: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new HarnessError('FTH_USAGE', `environment variable ${name}: '${value}' is not a boolean (1, true, 0, false)`);
}

/** A variable's value, or undefined when it is unset or empty (an empty variable means unset to the image). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function envBool(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = envValue(env, name);
  return value === undefined ? false : parseEnvBool(name, value);
}

/** The flag a variable stands for, for messages: `fleetServerEsCa` becomes `--fleet-server-es-ca`. */
function flagOf(command: Command, attribute: string): string {
  return command.options.find((o) => o.attributeName() === attribute)?.long ?? attribute;
}

/**
 * Fills the options of `component`'s command from the environment. A flag the user gave and a
 * variable that says something else is a conflict: exit 2 naming both, rather than one winning
 * silently. Returns the variables that were read, for the component's start-up line.
 */
export function applyElasticEnv(command: Command, component: Component, env: NodeJS.ProcessEnv): string[] {
  checkUnknownEnv(env);
  const used: string[] = [];
  for (const setting of SETTINGS) {
    const attribute = setting.option?.[component];
    if (!attribute) {
      // Known but not this component's: still a bad boolean is a mistake worth one line.
      const value = envValue(env, setting.env);
      if (setting.kind === 'bool' && value !== undefined) parseEnvBool(setting.env, value);
      continue;
    }
    const name = [setting.env, ...(setting.fallback ?? [])].find((n) => envValue(env, n) !== undefined);
    if (!name) continue;
    const raw = envValue(env, name)!;
    const value: string | boolean = setting.kind === 'bool' ? parseEnvBool(name, raw) : raw;
    if (command.getOptionValueSource(attribute) === 'cli') {
      const given = command.getOptionValue(attribute) as unknown;
      if (String(given) !== String(value)) {
        throw new HarnessError('FTH_USAGE', `${flagOf(command, attribute)} '${String(given)}' and ${name}='${raw}' disagree; give one of them`);
      }
      continue;
    }
    if (setting.kind === 'bool' && value === false) continue;
    command.setOptionValueWithSource(attribute, value, 'env');
    used.push(name);
  }
  return used;
}
