/**
 * The legs after the policy takes over, predicted with the same verification code as the others:
 * the agent's next connection with the policy's Fleet Server host (the agent takes only the CAs
 * from it, and an agent running Fleet Server none of it), Fleet Server's test of its policy's
 * output merged with its bootstrap, and the agent's output as the policy gives it.
 */
import { flowConfig } from '../flows/install.js';
import type { InstallPlan } from '../flows/install-plan.js';
import { outputTls, type PolicyOutput } from '../components/output.js';
import { mergeBootstrapOutput } from '../components/policy.js';
import type { GoClientTls } from '../components/go-client-tls.js';
import { loadCertificateAuthorities } from '../tls/material.js';
import type { Finding } from './findings.js';
import { predictLeg, type LegSetup, type Prediction } from './predict.js';
import type { AgentSide, ProxyPredictions } from './predict-proxy.js';

export interface PolicyPredictions {
  /** agent → fleet-server (policy), fleet-server → elasticsearch (policy): each absent where nothing can be predicted. */
  readonly predictions: readonly Prediction[];
  /** The agent's output leg as the policy gives it (replaces the bootstrap-based guess). */
  readonly output: Prediction;
  readonly findings: readonly Finding[];
}

/**
 * `agent` and `es` are the enrollment legs' setups and predictions; `output` the output leg's
 * setup without a client certificate. A plain-HTTP host has no handshake to predict: no prediction.
 */
export function predictPolicyLegs(
  plan: InstallPlan,
  agent: { readonly setup: LegSetup; readonly prediction: Prediction },
  es: { readonly setup: LegSetup; readonly prediction: Prediction },
  output: LegSetup,
  flagGiven: (name: string) => boolean,
  front?: PolicyFront,
  hop?: PolicyFront,
): PolicyPredictions {
  const findings: Finding[] = [];
  const predictions: Prediction[] = [];
  const enrolled = agent.prediction.outcome === 'ok';
  const policyOutput = flowConfig(plan, 'ephemeral').fleetServer.output!;
  // The agent: --url and --certificate-authorities, unless the policy's host replaces them.
  const fleet = plan.policy.fleet;
  const cas = plan.agent.runsFleetServer ? undefined : fleet.ssl?.certificate_authorities;
  const agentHost = plan.agent.runsFleetServer ? agent.setup.host : new URL(fleet.hosts[0] ?? plan.url).hostname.replace(/^\[|\]$/g, '');
  const agentPolicy = predictLeg({
    ...agent.setup, host: agentHost,
    ...(cas?.length ? { roots: loadCertificateAuthorities(cas), trustFlag: '--policy-fleet-ca' } : {}),
    ...(enrolled ? {} : { serverLoadError: 'the agent did not enroll, so it has no policy' }),
  });
  // Nothing takes over after an enrollment that fails: those legs are not predicted at all.
  if (enrolled && front) {
    predictions.push(...front.predictions);
    findings.push(...front.findings);
  } else if (enrolled) {
    // Through a forward proxy (the enrollment's, or one only the policy names) its tunnel comes first.
    predictions.push(...(hop?.predictions ?? []));
    findings.push(...(hop?.findings ?? []));
    const blocked = hop?.blocked;
    predictions.push(staged(blocked ? { ...agentPolicy.prediction, outcome: 'not-attempted', message: blocked } : agentPolicy.prediction));
    if (!blocked) findings.push(...agentPolicy.findings);
  }
  const applied = front ? front.applied : hop?.blocked ? false : agentPolicy.prediction.outcome === 'ok';

  // Fleet Server: the policy's output with the keys it lacks from the bootstrap.
  const merged = mergeBootstrapOutput(policyOutput, { hosts: [plan.fleetServer.elasticsearchUrl], tls: plan.fleetServer.elasticsearchTls });
  const mergedUrl = new URL(merged.hosts[0]!);
  if (enrolled && mergedUrl.protocol === 'https:') {
    const fleetPolicy = predictLeg({
      ...tlsSetup(es.setup, mergedUrl, merged.tls, flagGiven('policy-output-ca') ? '--policy-output-ca' : es.setup.trustFlag),
    });
    predictions.push(staged(fleetPolicy.prediction));
    findings.push(...fleetPolicy.findings);
  }

  // The agent's Beats: the output exactly as the policy gives it.
  const own = outputTls(policyOutput);
  const outputUrl = new URL(policyOutput.hosts[0]!);
  const shipped = predictLeg({
    ...tlsSetup(output, outputUrl, own, flagGiven('policy-output-ca') ? '--policy-output-ca' : 'the output\'s ssl.certificate_authorities'),
    ...(enrolled && applied ? {} : { serverLoadError: enrolled ? 'the agent could not apply its policy, so its Beats never started' : 'the agent did not enroll, so it has no policy to ship data with' }),
    ...(outputUrl.protocol === 'https:' ? {} : { serverLoadError: `${outputUrl.origin} is plain HTTP: there is no handshake to predict` }),
  });
  return { predictions, output: shipped.prediction, findings };
}

/** The agent's policy legs where a secure proxy in front of Fleet Server ends its TLS, predicted as its enrollment legs are. */
export interface PolicyFront {
  /** agent → proxy (policy), proxy → fleet-server (policy). */
  readonly predictions: readonly Prediction[];
  /** The agent's test of the policy's Fleet Server settings passed, so it applies the policy and starts its Beats. */
  readonly applied: boolean;
  readonly findings: readonly Finding[];
  /** Why the agent's request never got past the proxy, when it did not. */
  readonly blocked?: string;
}

/**
 * The proxy hops of the agent's next connection after the policy, with the policy's Fleet Server
 * host and CAs (its --certificate-authorities when the host has none; all of it kept by an agent
 * running Fleet Server): where a proxy ends the agent's TLS (a secure proxy in front of Fleet
 * Server, an intercepting proxy) they are the whole connection; through a forward proxy, the
 * tunnel before the agent's own TLS. `again` predicts the hops for that agent.
 */
export function predictPolicyFront(
  plan: InstallPlan, agent: AgentSide, setup: LegSetup, again: (agent: AgentSide, setup: LegSetup) => ProxyPredictions | undefined,
): PolicyFront | undefined {
  const own = plan.agent.runsFleetServer ? undefined : plan.policy.fleet;
  const cas = own?.ssl?.certificate_authorities;
  const host = own ? new URL(own.hosts[0] ?? plan.url).hostname.replace(/^\[|\]$/g, '') : agent.host;
  const roots = cas?.length ? loadCertificateAuthorities(cas) : undefined;
  const proxied = again({ ...agent, host, ...(roots ? { roots } : {}) }, { ...setup, host, ...(roots ? { roots, trustFlag: '--policy-fleet-ca' } : {}) });
  return proxied
    ? { predictions: proxied.predictions.map((p) => staged(pinged(p))), applied: proxied.blocked === undefined, findings: proxied.findings, ...(proxied.blocked ? { blocked: proxied.blocked } : {}) }
    : undefined;
}

/**
 * After the policy the agent's first request is CheckRemote's GET /api/status, which judges an
 * answer by its status alone (elastic-agent fleetapi client, "fleet server ping returned a bad
 * status code"): the page a proxy answers with is no longer decoded as enrollment decodes it.
 * The only undecodable page a proxy hop predicts is squid's 403 for a port its rules deny.
 */
function pinged(prediction: Prediction): Prediction {
  if (prediction.from !== 'agent' || prediction.outcome !== 'rejected-by-server') return prediction;
  const status = /^received status code (\d{3}) /.exec(prediction.message)?.[1] ?? (prediction.message === 'could not decode the response' ? '403' : undefined);
  return status ? { ...prediction, message: `fleet server ping returned a bad status code: ${status}` } : prediction;
}

function staged(prediction: Prediction): Prediction {
  return { ...prediction, stage: 'policy' };
}

/** A leg setup towards `url` with a client's TLS settings (roots, mode, fingerprint). */
function tlsSetup(base: LegSetup, url: URL, tls: GoClientTls, trustFlag: string): LegSetup {
  const { caTrustedFingerprint: _drop, ...rest } = base;
  return {
    ...rest, host: url.hostname.replace(/^\[|\]$/g, ''), mode: tls.verificationMode ?? 'full', trustFlag,
    roots: tls.certificateAuthorities ? [...tls.certificateAuthorities] : 'system',
    ...(tls.caTrustedFingerprint ? { caTrustedFingerprint: tls.caTrustedFingerprint } : {}),
    // The client certificate the settings carry (ssl.certificate), which the Beats and Fleet Server present.
    ...(tls.certificate ? { clientChain: tls.certificate.chain } : {}),
  };
}

export type { PolicyOutput };
