import type { PolicyOutput } from '../components/output.js';
import type { FlowConfig } from '../flows/flow.js';
import { newServiceToken } from '../components/elasticsearch-api.js';
import { goDurationMs } from '../dialects/go.js';
import { versionRange } from '../tls/settings.js';
import type { OutputData, SettingsData } from './schema.js';

const defined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

const duration = (value: string | undefined): number | undefined => (value === undefined ? undefined : goDurationMs(value));

/**
 * A scenario's component settings on top of the configuration its install command gives.
 * Settings win over the run's TLS version: a version-mismatch scenario names its versions.
 */
export function applySettings(config: FlowConfig, settings: SettingsData | undefined): FlowConfig {
  if (!settings) return config;
  const agent = settings.agent ?? {};
  const fleet = settings['fleet-server'] ?? {};
  const es = settings.elasticsearch ?? {};
  const fleetAuth = fleet['server.ssl.client_authentication'];
  const network = settings.network ?? {};
  return {
    elasticsearch: {
      ...config.elasticsearch,
      ...defined({ versions: versionRange(es['xpack.security.http.ssl.supported_protocols']), readTimeoutMs: duration(es['http.read_timeout']) }),
    },
    fleetServer: {
      ...config.fleetServer,
      ...defined({
        versions: versionRange(fleet['server.ssl.supported_protocols']),
        // libs ServerConfig: CAs without an explicit client_authentication mean required.
        clientAuthentication: fleetAuth === 'unset'
          ? ((config.fleetServer.certificateAuthorities?.length ?? 0) > 0 ? 'required' as const : 'none' as const)
          : fleetAuth,
        tls: fleet['server.tls'],
        readTimeoutMs: duration(fleet['server.timeouts.read']),
        readHeaderTimeoutMs: duration(fleet['server.timeouts.read_header']),
        idleTimeoutMs: duration(fleet['server.timeouts.idle']),
        writeTimeoutMs: duration(fleet['server.timeouts.write']),
        elasticsearchTimeoutMs: duration(fleet['output.elasticsearch.timeout']),
        elasticsearchFault: network['fleet-server->elasticsearch'],
      }),
      elasticsearchTls: {
        ...config.fleetServer.elasticsearchTls,
        ...defined({
          verificationMode: fleet['output.elasticsearch.ssl.verification_mode'],
          versions: versionRange(fleet['output.elasticsearch.ssl.supported_protocols']),
        }),
      },
    },
    agent: {
      ...config.agent,
      ...defined({ timeoutMs: duration(agent.timeout) }),
      ...(network['agent->fleet-server'] || network['agent->elasticsearch']
        ? { network: defined({ fleetServer: network['agent->fleet-server'], elasticsearch: network['agent->elasticsearch'] }) }
        : {}),
      tls: {
        ...config.agent.tls,
        ...defined({
          verificationMode: agent['ssl.verification_mode'],
          versions: versionRange(agent['ssl.supported_protocols']),
          sendCertificate: agent['client.send_certificate'],
          stall: agent['client.stall'],
        }),
      },
    },
    ...(es['knows_service_token'] === false ? { elasticsearchServiceToken: newServiceToken('token-deleted') } : {}),
  };
}

/**
 * The policy's output: the flow's, changed by the scenario's (null removes a setting), with
 * `/path/to/<name>` placeholders resolved.
 */
export function policyOutput(
  base: OutputData | undefined,
  change: OutputData | undefined,
  expand: { readonly path: (value: string) => string; readonly value: (value: string) => string },
): (PolicyOutput & { hosts: string[] }) | undefined {
  const resolve = (value: string) => expand.path(expand.value(value));
  if (!base && !change) return undefined;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(change ?? {})) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const data = merged as OutputData;
  const ssl = defined({
    certificate_authorities: data['ssl.certificate_authorities']?.map(resolve),
    verification_mode: data['ssl.verification_mode'] ?? undefined,
    ca_trusted_fingerprint: data['ssl.ca_trusted_fingerprint'] ? expand.value(data['ssl.ca_trusted_fingerprint']) : undefined,
    certificate: data['ssl.certificate'] ? resolve(data['ssl.certificate']) : undefined,
    key: data['ssl.key'] ? resolve(data['ssl.key']) : undefined,
    supported_protocols: data['ssl.supported_protocols'] ?? undefined,
  });
  const proxy = defined({ proxy_url: data.proxy_url ?? undefined, proxy_headers: data.proxy_headers ?? undefined, proxy_disable: data.proxy_disable ?? undefined });
  return { hosts: data.hosts ?? ['https://localhost:9200'], ...(data.timeout ? { timeout: data.timeout } : {}), ...(Object.keys(ssl).length ? { ssl } : {}), ...proxy };
}
