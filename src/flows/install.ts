import { hostname } from 'node:os';
import { generateKeyPairSync } from 'node:crypto';
import { issueCa, issueLeaf } from '../pki/generate.js';
import { identityFromPem, type Identity } from '../tls/material.js';
import type { Pki } from '../pki/store.js';
import type { Leg } from '../report/leg.js';
import type { PolicyOutput } from '../components/output.js';
import { parseInstallFlags } from './install-flags.js';
import { planInstall, type InstallPlan } from './install-plan.js';
import { runFlow, type FlowConfig } from './flow.js';
import { withPolicyOutput } from './policy-flags.js';

/** What {@link install} did: each leg, and the notes and hints the plan made of the command line. */
export interface InstallResult {
  readonly ok: boolean;
  readonly legs: readonly Leg[];
  readonly notes: readonly string[];
  readonly hints: readonly string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Refuses a command line as {@link install} would, without running anything: every flag and the
 * files they name are judged (the CLI calls it before it writes the default PKI).
 */
export function checkInstallFlags(argv: readonly string[], pki: Pki): void {
  planInstall(parseInstallFlags(argv), { pki, makeSelfSigned: selfSignedFleetServer });
}

/** Runs an `elastic-agent install` command line through the fakes and reports each leg. */
export async function install(argv: readonly string[], pki: Pki): Promise<InstallResult> {
  const plan = planInstall(parseInstallFlags(argv), { pki, makeSelfSigned: selfSignedFleetServer });
  const result = await runFlow(flowConfig(plan, 'as-planned'));
  return { ok: result.ok, legs: result.legs, notes: plan.notes, hints: plan.hints };
}

/** How long the flow's agent waits for an answer unless a scenario sets its own (the real fleet client: 10 minutes). */
const INSTALL_AGENT_TIMEOUT_MS = 15_000;

/**
 * The components' configuration for a plan. `ephemeral` listens on free ports (the catalog runs
 * scenarios side by side); URLs keep their text either way and connections are routed to the fakes.
 */
export function flowConfig(plan: InstallPlan, listen: 'as-planned' | 'ephemeral'): FlowConfig {
  const ephemeral = listen === 'ephemeral';
  return {
    ...(plan.fleetServer.secureProxy ? { secureProxy: plan.fleetServer.secureProxy } : {}),
    ...(plan.healthCheck ? { healthCheck: plan.healthCheck } : {}),
    elasticsearch: {
      identity: plan.elasticsearch.identity,
      // Behind a secure proxy, --fleet-server-es names the proxy: Elasticsearch itself listens on any free port.
      port: ephemeral || plan.fleetServer.secureProxy?.inFrontOf === 'elasticsearch' ? 0 : plan.elasticsearch.port,
      clientAuthentication: plan.elasticsearch.clientAuthentication,
      clientCertificateAuthorities: plan.elasticsearch.clientCertificateAuthorities,
      versions: plan.versions,
    },
    fleetServer: {
      identity: plan.fleetServer.identity,
      ...(plan.fleetServer.certificateError ? { certificateError: plan.fleetServer.certificateError } : {}),
      ...(plan.fleetServer.certificateLogs ? { certificateLogs: plan.fleetServer.certificateLogs } : {}),
      tls: plan.fleetServer.tls,
      host: plan.fleetServer.host,
      port: ephemeral ? 0 : plan.fleetServer.port,
      certificateAuthorities: plan.fleetServer.certificateAuthorities,
      clientAuthentication: plan.fleetServer.clientAuthentication,
      versions: plan.versions,
      elasticsearchUrl: plan.fleetServer.elasticsearchUrl,
      elasticsearchTls: plan.fleetServer.elasticsearchTls,
      serviceToken: plan.fleetServer.serviceToken,
      ...(plan.fleetServer.policyId ? { policyId: plan.fleetServer.policyId } : {}),
      output: withPolicyOutput(mirroredOutput(plan), plan.policy.output),
      policyFleet: plan.policy.fleet,
    },
    agent: {
      url: plan.url,
      tls: plan.agent.tls,
      ...(plan.agent.enrollmentToken ? { enrollmentToken: plan.agent.enrollmentToken } : {}),
      ...(plan.agent.loadError ? { loadError: plan.agent.loadError } : {}),
      ...(plan.agent.warnings ? { warnings: plan.agent.warnings } : {}),
      runsFleetServer: plan.agent.runsFleetServer,
      // The real fleet client waits 10 minutes for an answer that never comes (a proxy that never
      // answers, a hung Fleet Server); install, doctor and scenarios without `agent.timeout` give up
      // after 15 s, with the same words.
      timeoutMs: INSTALL_AGENT_TIMEOUT_MS,
      ...(plan.policy.proxyAuth ? { policyProxyAuth: plan.policy.proxyAuth } : {}),
      // A loopback proxy URL names the port to listen on; any other host is mapped to a free local port.
      ...(plan.agent.proxy ? { proxy: { ...plan.agent.proxy, listenPort: !ephemeral && LOOPBACK.has(plan.agent.proxy.route.host) ? plan.agent.proxy.route.port : 0 } } : {}),
    },
  };
}

/**
 * Without --fleet-server-cert the agent generates a CA and a certificate for this host's name
 * ("Generating self-signed certificate for Fleet Server") and Fleet Server presents it.
 */
export function selfSignedFleetServer(): Identity {
  const name = hostname();
  const caKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = issueCa(`${name} Fleet Server CA`, caKey);
  const leaf = issueLeaf('fleet-cert', ca, leafKey, { subject: { commonName: name }, dnsNames: [name], ipAddresses: [] });
  return identityFromPem(leaf.pem, leaf.key);
}

/**
 * The policy's Elasticsearch output when nothing else says: the same host, trust and client
 * certificate as Fleet Server's own connection, as an administrator who set up Fleet's output
 * to match would have.
 */
function mirroredOutput(plan: InstallPlan): PolicyOutput & { hosts: string[] } {
  const tls = plan.fleetServer.elasticsearchTls;
  return {
    hosts: [plan.fleetServer.elasticsearchUrl],
    ssl: {
      ...(tls.certificateAuthorities?.length ? { certificate_authorities: tls.certificateAuthorities.map((c) => c.pem) } : {}),
      ...(tls.verificationMode && tls.verificationMode !== 'full' ? { verification_mode: tls.verificationMode } : {}),
      ...(tls.caTrustedFingerprint ? { ca_trusted_fingerprint: tls.caTrustedFingerprint } : {}),
      ...(tls.certificate ? { certificate: tls.certificate.certPem, key: tls.certificate.keyPem } : {}),
    },
  };
}
