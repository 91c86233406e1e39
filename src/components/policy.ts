/**
 * What changes when the policy takes over after enrollment, as the real components merge it:
 * the agent's Fleet client (elastic-agent `handler_action_policy_change.go`, updateFleetConfig) and
 * Fleet Server's Elasticsearch output (fleet-server `internal/pkg/server/agent.go`,
 * injectMissingOutputAttributes, since 8.15 / fleet-server#3506). Pure functions: the components
 * make the connections.
 */
import type { GoClientTls } from './go-client-tls.js';
import { outputTls, type PolicyOutput } from './output.js';
import type { ProxySettings } from './proxy/proxy-url.js';
import { loadCertificateAuthorities, loadIdentity } from '../tls/material.js';

/**
 * The `fleet` block of a policy as Fleet Server hands it to agents: Kibana's Fleet Server host
 * (its URLs, `ssl` and proxy). Certificates are inline PEM, as Kibana writes them.
 */
export interface PolicyFleet {
  readonly hosts: readonly string[];
  readonly ssl?: {
    readonly certificate_authorities?: readonly string[];
    readonly verification_mode?: string;
    readonly certificate?: string;
    readonly key?: string;
  };
  readonly proxy_url?: string;
  readonly proxy_headers?: Readonly<Record<string, string>>;
  readonly proxy_disable?: boolean;
}

/** The agent's Fleet client: where it checks in, with which `fleet.ssl` and which proxy. */
export interface FleetClientSettings {
  readonly url: string;
  readonly tls: GoClientTls;
  readonly proxy?: ProxySettings;
  /**
   * The client settings as the agent holds them once a policy was applied (the strings its
   * clientEqual compares); absent for the settings enrollment left.
   */
  readonly held?: HeldFleetClient;
}

/**
 * The parts of elastic-agent's `fleet` client config (remote.Config) that clientEqual compares,
 * as a policy left them: its hosts; the proxy headers and switch (the policy's when it named a
 * proxy URL, else enrollment's); the CA and certificate strings (the policy's PEM when it had
 * them, else enrollment's file paths, which no policy PEM equals).
 */
export interface HeldFleetClient {
  readonly hosts: readonly string[];
  readonly proxyHeaders: Readonly<Record<string, string>>;
  readonly proxyDisable: boolean;
  /** The policy's CA PEMs, or undefined for enrollment's --certificate-authorities paths. */
  readonly cas?: readonly string[];
  /** The policy's certificate and key PEM, or undefined for enrollment's. */
  readonly certificate?: { readonly certificate: string; readonly key: string };
}

/**
 * Whether the agent skips testing a policy's Fleet Server settings because they equal what it
 * holds (elastic-agent handler_action_policy_change.go, clientEqual). Right after enrollment they
 * never do: enrollment keeps its URL as `host` with the URL's scheme as `protocol`
 * (remote.NewConfigFromURL) and no `hosts`, while a policy's `fleet` block reads as `hosts` with
 * the default protocol `http`, so the first policy with a `fleet` block is always tested. Once
 * a policy was applied, a later one is tested only when it changes the hosts (compared sorted),
 * names a proxy URL (compared as *url.URL pointers, so never equal), changes the proxy switch or
 * headers, or brings CAs or a certificate other than the ones held.
 */
export function fleetClientEqual(current: FleetClientSettings, policy: PolicyFleet): boolean {
  const held = current.held;
  if (!held) return false;
  const sorted = (list: readonly string[]) => [...list].sort();
  if (sorted(policy.hosts).join('\n') !== sorted(held.hosts).join('\n')) return false;
  if (policy.proxy_url) return false;
  if ((policy.proxy_disable === true) !== held.proxyDisable) return false;
  const headers = policy.proxy_headers ?? {};
  const names = Object.keys(headers);
  if (names.length !== Object.keys(held.proxyHeaders).length || names.some((name) => held.proxyHeaders[name] !== headers[name])) return false;
  const cas = policy.ssl?.certificate_authorities ?? [];
  if (cas.length > 0 && (!held.cas || cas.join('\n') !== held.cas.join('\n'))) return false;
  const { certificate, key } = policy.ssl ?? {};
  if ((certificate || key) && (held.certificate?.certificate !== certificate || held.certificate?.key !== key)) return false;
  return true;
}

/**
 * The agent's Fleet client after a policy, as updateFleetConfig copies it: the policy's hosts
 * replace the enrollment URL; its proxy replaces the enrollment proxy only when it names a URL
 * (an empty one never removes a proxy); from `ssl` only the certificate and the CAs are taken,
 * each only when present, so a policy without a CA keeps --certificate-authorities and the
 * enrollment's verification mode always stays. Throws MaterialError for unreadable PEM.
 */
export function fleetClientAfterPolicy(current: FleetClientSettings, policy: PolicyFleet): FleetClientSettings {
  const ssl = policy.ssl ?? {};
  const tls: GoClientTls = {
    ...current.tls,
    ...(ssl.certificate_authorities?.length ? { certificateAuthorities: loadCertificateAuthorities(ssl.certificate_authorities) } : {}),
    ...(ssl.certificate && ssl.key ? { certificate: loadIdentity(ssl.certificate, ssl.key) } : {}),
  };
  const proxy: ProxySettings | undefined = policy.proxy_url
    ? { url: policy.proxy_url, headers: { ...policy.proxy_headers }, disable: policy.proxy_disable === true }
    : current.proxy;
  const cas = ssl.certificate_authorities?.length ? ssl.certificate_authorities : current.held?.cas;
  const certificate = ssl.certificate && ssl.key ? { certificate: ssl.certificate, key: ssl.key } : current.held?.certificate;
  const held: HeldFleetClient = {
    hosts: policy.hosts.length ? policy.hosts : current.held?.hosts ?? [],
    proxyHeaders: { ...proxy?.headers },
    proxyDisable: proxy?.disable === true,
    ...(cas ? { cas } : {}),
    ...(certificate ? { certificate } : {}),
  };
  return { url: policy.hosts[0] ?? current.url, tls, ...(proxy ? { proxy } : {}), held };
}

/** Fleet Server's output settings from its bootstrap (--fleet-server-es and its TLS flags). */
export interface BootstrapOutput {
  readonly hosts: readonly string[];
  readonly tls: GoClientTls;
  readonly proxy?: ProxySettings;
}

/** The output Fleet Server tests after its policy arrives: where, with which TLS and proxy. */
export type MergedOutput = BootstrapOutput;

/**
 * The policy's output with the keys it lacks taken from the bootstrap: hosts and the proxy keys,
 * and under `ssl` the verification mode, CAs, fingerprint, certificate and key, each only when
 * the policy has none. A bootstrap `verification_mode: none` is dropped when the policy brings a
 * CA or a fingerprint of its own. Nothing else is merged (supported protocols are the policy's).
 */
export function mergeBootstrapOutput(policy: PolicyOutput, bootstrap: BootstrapOutput): MergedOutput {
  const own = outputTls(policy);
  const ssl = policy.ssl ?? {};
  const boot = bootstrap.tls;
  const policyHasCa = ssl.verification_mode !== 'none' && ((ssl.certificate_authorities?.length ?? 0) > 0 || Boolean(ssl.ca_trusted_fingerprint));
  const bootMode = boot.verificationMode && boot.verificationMode !== 'full' ? boot.verificationMode : undefined;
  const injectMode = ssl.verification_mode === undefined && bootMode !== undefined && !(bootMode === 'none' && policyHasCa);
  const tls: GoClientTls = {
    ...own,
    ...(injectMode ? { verificationMode: bootMode } : {}),
    ...(ssl.certificate_authorities === undefined && boot.certificateAuthorities ? { certificateAuthorities: boot.certificateAuthorities } : {}),
    ...(ssl.ca_trusted_fingerprint === undefined && boot.caTrustedFingerprint ? { caTrustedFingerprint: boot.caTrustedFingerprint } : {}),
    ...(ssl.certificate === undefined && ssl.key === undefined && boot.certificate ? { certificate: boot.certificate } : {}),
  };
  // Each proxy key on its own, as injectKeys takes them.
  const url = policy.proxy_url ?? bootstrap.proxy?.url;
  const headers = policy.proxy_headers ?? bootstrap.proxy?.headers;
  const disable = policy.proxy_disable ?? bootstrap.proxy?.disable;
  const proxy: ProxySettings | undefined = url || disable !== undefined
    ? { ...(url ? { url } : {}), ...(headers ? { headers } : {}), ...(disable !== undefined ? { disable } : {}) }
    : undefined;
  return { hosts: policy.hosts?.length ? policy.hosts : bootstrap.hosts, tls, ...(proxy ? { proxy } : {}) };
}
