/**
 * `fleet-tls doctor`: an install command's files inspected without a handshake, each leg
 * predicted, then (unless static) the real handshakes run with those files and set beside
 * the predictions. A disagreement is reported, never smoothed over.
 * (Over 250 lines: reading the command, predicting, running and comparing are one pass over the legs.)
 */
import { HarnessError } from '../errors.js';
import { parseInstallFlags, type ParsedFlags } from '../flows/install-flags.js';
import { placeholder, planInstall, type InstallPlan, type PlanContext } from '../flows/install-plan.js';
import { flowConfig, selfSignedFleetServer } from '../flows/install.js';
import { runFlow } from '../flows/flow.js';
import type { Pki } from '../pki/store.js';
import type { Leg } from '../report/leg.js';
import { loadJavaAuthorities, loadJavaIdentity, loadKeystoreIdentity } from '../tls/java-material.js';
import { MaterialError } from '../tls/material.js';
import { parseClientAuthentication } from '../tls/settings.js';
import { parsePemCertificates, type Cert } from '../x509/certificate.js';
import { autoConfiguredChain } from '../components/elasticsearch/chain.js';
import { finding, type Finding } from './findings.js';
import { inspectAuthorities, inspectIdentity, leafFindings, type InspectedIdentity } from './inspect-files.js';
import { predictLeg, type LegSetup, type Outcome, type Prediction } from './predict.js';
import { proxyPredictions } from './proxy-legs.js';
import { predictPolicyFront, predictPolicyLegs, type PolicyFront } from './predict-policy.js';
import { nothingForwardedPredicted } from '../components/proxy/nothing-forwarded.js';
import { predictForwardProxy, type AgentSide, type FleetSide, type ProxyPredictions } from './predict-proxy.js';
import { policyProxy, policyTargetPort } from './predict-policy-proxy.js';
import { predictEsSecureProxy } from './predict-es-proxy.js';
import { predictHealthCheck } from './predict-health.js';

/** Options of {@link doctor}. */
export interface DoctorOptions {
  readonly pki: Pki;
  /** Inspect and predict only: no handshake. */
  readonly static?: boolean;
  readonly p12Password?: string;
  readonly now?: Date;
}

/** A leg's prediction from the files, beside what the handshake did. */
export interface LegComparison extends Prediction {
  /** What the handshake did; null with --static. */
  readonly actual: Outcome | null;
  readonly agrees: boolean | null;
}

/** What `fleet-tls doctor --json` prints: findings about the files, and each leg predicted and run. */
export interface DoctorResult {
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  /** Fleet Server to Elasticsearch first: the agent's leg depends on it. */
  readonly predictions: readonly LegComparison[];
  readonly legs: readonly Leg[];
  /** Why the stack could not start with these files, when it could not. */
  readonly startError?: string;
}

/**
 * Inspects the files an `elastic-agent install` command names, predicts each leg, then (unless
 * `static`) runs the real handshakes with those files and sets them beside the predictions.
 *
 * @example
 * ```ts
 * const result = await doctor(['--url=https://fleet:8220', '--certificate-authorities=/etc/ca.crt', '--fleet-server-es=https://es:9200'], { pki });
 * result.findings.map((f) => f.message);
 * ```
 */
export async function doctor(argv: readonly string[], options: DoctorOptions): Promise<DoctorResult> {
  const flags = parseInstallFlags(argv);
  const context: PlanContext = { pki: options.pki, makeSelfSigned: selfSignedFleetServer };
  let plan: InstallPlan | undefined;
  let startError: string | undefined;
  try {
    plan = planInstall(flags, context);
  } catch (error) {
    // Usage errors end here; a file the components cannot load is what the doctor is for.
    if (!(error instanceof HarnessError) || !(error.cause instanceof MaterialError)) throw error;
    plan = withoutAgentCertificate(flags, context, error);
    startError = plan ? `${error.message} (the agent fails to enroll; Fleet Server runs without it)` : error.message;
  }
  const notes: string[] = [];
  const v = flags.values;
  const str = (name: string) => (typeof v[name] === 'string' && v[name] !== '' ? (v[name] as string) : undefined);
  const file = (name: string) => (str(name) === undefined ? undefined : placeholder(str(name)!, context, notes));
  const list = (name: string) => str(name)?.split(',').filter(Boolean).map((p) => placeholder(p, context, notes));
  const inspect = { ...(options.p12Password !== undefined ? { p12Password: options.p12Password } : {}), ...(options.now ? { now: options.now } : {}) };
  const now = options.now ?? new Date();
  const findings: Finding[] = [];
  // Files that are not what their flag wants are bad input; each is read before the doctor stops.
  const badInput: HarnessError[] = [];
  const gather = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof HarnessError) || !error.isInputError) throw error;
      badInput.push(error);
      return undefined;
    }
  };

  const identity = (certFlag: string, keyFlag: string, passphraseFlag: string | undefined, usage: 'serverAuth' | 'clientAuth'): InspectedIdentity | undefined => {
    const cert = file(certFlag.slice(2));
    const key = file(keyFlag.slice(2));
    if (!cert || !key) return undefined;
    const passphrase = passphraseFlag ? file(passphraseFlag.slice(2)) : undefined;
    const inspected = gather(() => inspectIdentity({ certFlag, keyFlag, cert, key, usage, ...(passphraseFlag ? { passphraseFlag } : {}), ...(passphrase ? { passphrase } : {}) }, inspect));
    findings.push(...(inspected?.findings ?? []));
    return inspected;
  };
  const fleet = identity('--fleet-server-cert', '--fleet-server-cert-key', '--fleet-server-cert-key-passphrase', 'serverAuth');
  const agent = identity('--elastic-agent-cert', '--elastic-agent-cert-key', '--elastic-agent-cert-key-passphrase', 'clientAuth');
  const fleetEs = identity('--fleet-server-es-cert', '--fleet-server-es-cert-key', undefined, 'clientAuth');
  const agentCas = list('certificate-authorities');
  const agentTrust = agentCas ? gather(() => inspectAuthorities('--certificate-authorities', agentCas, inspect)) : undefined;
  const esCa = file('fleet-server-es-ca');
  const esTrust = esCa ? gather(() => inspectAuthorities('--fleet-server-es-ca', [esCa], inspect)) : undefined;
  if (badInput.length === 1) throw badInput[0]!;
  if (badInput.length > 1) throw new HarnessError(badInput[0]!.code, badInput.map((e) => e.message).join('; '));
  findings.push(...(agentTrust?.findings ?? []), ...(esTrust?.findings ?? []));

  // The fake Elasticsearch, read as Java reads it; trouble here is the harness's input.
  const esKeystore = file('es-keystore');
  const esCertFile = esKeystore ?? file('es-cert') ?? options.pki.certPath('es-cert');
  const esLoaded = harnessInput(esKeystore ? '--es-keystore' : '--es-cert', () => (esKeystore
    ? loadKeystoreIdentity(esKeystore, str('es-keystore-password') ?? '')
    : loadJavaIdentity(esCertFile, file('es-cert-key') ?? options.pki.keyPath('es-cert'))));
  // As install runs it: without --es-cert, the auto-configured chain with es-ca behind the leaf.
  const esIdentity = esKeystore || file('es-cert') ? esLoaded : autoConfiguredChain(esLoaded, parsePemCertificates(options.pki.cas['es-ca'].pem)[0]!);
  findings.push(...leafFindings(esKeystore ? '--es-keystore' : '--es-cert', esCertFile, esIdentity.chain[0]!, 'serverAuth', now));
  const esClientCas = harnessInput('--es-client-ca', () => loadJavaAuthorities(list('es-client-ca') ?? [options.pki.certPath('es-ca')], str('es-keystore-password') ?? ''));

  const esUrl = new URL(str('fleet-server-es') ?? 'https://localhost:9200');
  const loadError = (inspected: InspectedIdentity | undefined, who: string) =>
    inspected && !inspected.loaded ? `${who} cannot load its certificate and key (${inspected.findings.find((f) => f.severity === 'error')?.message ?? 'see the findings'})` : undefined;
  // A CA file libs cannot read stops Fleet Server (it takes --certificate-authorities as its client CAs too).
  const unreadableCas = [...(agentTrust?.findings ?? []), ...(esTrust?.findings ?? [])].find((f) => f.code.startsWith('FORMAT_'));
  const casError = unreadableCas ? `Fleet Server cannot load ${unreadableCas.flag} ${unreadableCas.file} (${unreadableCas.message})` : undefined;
  const fleetLoadError = loadError(fleet, 'Fleet Server') ?? loadError(fleetEs, 'Fleet Server') ?? casError;
  // A server key of another certificate fails Fleet Server only when it starts its API listener,
  // after its bootstrap against Elasticsearch (see FleetServerOptions.certificateError).
  const fleetStartsLate = fleet?.findings.some((f) => f.code === 'KEY_MISMATCH') ?? false;
  const bootstrapLoadError = (fleetStartsLate ? undefined : loadError(fleet, 'Fleet Server')) ?? loadError(fleetEs, 'Fleet Server') ?? casError;
  const esSetup: LegSetup = {
    from: 'fleet-server', to: 'elasticsearch', host: esUrl.hostname.replace(/^\[|\]$/g, ''), mode: v['fleet-server-es-insecure'] ? 'none' : 'full',
    trustFlag: '--fleet-server-es-ca', roots: esTrust ? esTrust.certs : 'system',
    ...(str('fleet-server-es-ca-trusted-fingerprint') ? { caTrustedFingerprint: str('fleet-server-es-ca-trusted-fingerprint')! } : {}),
    serverFlag: esKeystore ? '--es-keystore' : '--es-cert', serverFile: esCertFile, serverChain: esIdentity.chain,
    ...(bootstrapLoadError ? { clientLoadError: bootstrapLoadError } : {}),
    clientFlag: '--fleet-server-es-cert', ...(file('fleet-server-es-cert') ? { clientFile: file('fleet-server-es-cert')! } : {}),
    ...(fleetEs ? { clientChain: fleetEs.chain } : {}),
    clientAuthentication: clientAuth(str('es-client-auth') ?? 'optional'), clientCAFlag: '--es-client-ca', clientCAs: esClientCas, server: 'java', now,
  };
  const es = predictLeg(esSetup);
  // Behind a secure proxy in front of Elasticsearch, Fleet Server's TLS ends at the proxy.
  const esFront = plan?.fleetServer.secureProxy?.inFrontOf === 'elasticsearch' ? plan.fleetServer.secureProxy : undefined;
  const esProxy = esFront ? predictEsSecureProxy(esFront, esSetup, file('secure-proxy-cert') ?? options.pki.certPath('es-cert'), {
    chain: esIdentity.chain, clientAuthentication: plan!.elasticsearch.clientAuthentication, clientCAs: esClientCas, tls13: plan!.versions.max === '1.3',
  }, now) : undefined;
  const bootstraps = esProxy ? esProxy.healthy : es.prediction.outcome === 'ok';
  findings.push(...(esProxy?.findings ?? es.findings));
  const fleetChain: readonly Cert[] = fleet?.chain ?? plan?.fleetServer.identity.chain ?? [];
  if (!fleet) findings.push(finding('info', '--fleet-server-cert', null, 'TRUST_SYSTEM_ROOTS', 'no --fleet-server-cert: the agent generates a self-signed certificate for this host, which agents trust only with its CA or --insecure', '--fleet-server-cert and --fleet-server-cert-key for a certificate of your CA'));
  const agentSetup: LegSetup = {
    from: 'agent', to: 'fleet-server', host: new URL(str('url') ?? 'https://localhost:8220').hostname.replace(/^\[|\]$/g, ''), mode: v.insecure ? 'none' : 'full',
    trustFlag: '--certificate-authorities', roots: agentTrust ? agentTrust.certs : 'system',
    ...(str('ca-sha256') ? { caSha256: str('ca-sha256')!.split(',').filter(Boolean) } : {}),
    serverFlag: '--fleet-server-cert', serverFile: file('fleet-server-cert') ?? '(self-signed)', serverChain: fleetChain,
    ...(fleetLoadError ? { serverLoadError: fleetLoadError } : !bootstraps ? { serverLoadError: 'Fleet Server did not become healthy' } : {}),
    ...(loadError(agent, 'the agent') ? { clientLoadError: loadError(agent, 'the agent')! } : {}),
    clientFlag: '--elastic-agent-cert', ...(file('elastic-agent-cert') ? { clientFile: file('elastic-agent-cert')! } : {}),
    ...(agent ? { clientChain: agent.chain } : {}),
    clientAuthentication: clientAuth(str('fleet-server-client-auth') ?? 'none'), clientCAFlag: '--certificate-authorities', clientCAs: agentTrust?.certs ?? [], server: 'go', now,
  };
  const agentLeg = predictLeg(agentSetup);
  // A healthy Fleet Server is the proxies' precondition: the flow starts them only then.
  const agentSide: AgentSide = {
    host: new URL(str('url') ?? 'https://localhost:8220').hostname.replace(/^\[|\]$/g, ''), mode: v.insecure ? 'none' : 'full',
    roots: agentTrust ? agentTrust.certs : 'system', ...(agent ? { clientChain: agent.chain } : {}),
    ...(file('elastic-agent-cert') ? { clientFile: file('elastic-agent-cert')! } : {}), now,
  };
  const fleetSide: FleetSide = {
    chain: fleetChain, insecureHttp: v['fleet-server-insecure-http'] === true, clientAuthentication: clientAuth(str('fleet-server-client-auth') ?? 'none'),
    tls13: plan?.versions.max === '1.3', clientCAs: agentTrust?.certs ?? [],
  };
  const proxies = plan && !fleetLoadError && bootstraps ? proxyPredictions(plan, agentSide, fleetSide, agentSetup) : undefined;
  // In front of a secure proxy the agent's TLS ends at the proxy: its leg to Fleet Server is the proxy's.
  const behindSecureProxy = Boolean(plan?.fleetServer.secureProxy && !esFront && proxies);
  // Through an intercepting proxy too.
  const intercepted = Boolean(proxies && plan?.agent.proxy?.intercept);
  const tlsEndsAtProxy = behindSecureProxy || intercepted;
  if (!tlsEndsAtProxy) findings.push(...agentLeg.findings);
  findings.push(...(proxies?.findings ?? []));
  const agentPrediction: Prediction = proxies?.blocked ? { ...agentLeg.prediction, outcome: 'not-attempted', message: proxies.blocked } : agentLeg.prediction;
  const enrolls = tlsEndsAtProxy ? !proxies!.blocked : agentPrediction.outcome === 'ok';
  // The output leg: install's policy output trusts what Fleet Server's own connection trusts and
  // has no client certificate. Its findings would repeat Fleet Server's, so only the prediction counts.
  // Through a proxy in front of Elasticsearch, the policy's output and Fleet Server's test of it reach the proxy.
  const fleetToEs = esProxy ? { setup: { ...esProxy.front.setup, to: 'elasticsearch' as const }, prediction: { ...esProxy.front.prediction, to: 'elasticsearch' as const } } : { setup: esSetup, prediction: es.prediction };
  const { clientFile: _f, clientChain: _c, clientLoadError: _e, ...outputSetup } = fleetToEs.setup;
  const outputLeg: LegSetup = { ...outputSetup, from: 'agent', to: 'elasticsearch', clientFlag: 'the output\'s ssl.certificate' };
  const output = predictLeg({
    ...outputLeg,
    ...(!enrolls ? { serverLoadError: 'the agent did not enroll, so it has no policy to ship data with' } : {}),
  });
  // Once the policy takes over: the agent's next connection (where a proxy ends its TLS, the proxy's two
  // hops again, with the policy's host and CAs), Fleet Server's output test (at the proxy in front of
  // Elasticsearch, if any), and the output as the policy gives it.
  const enrolled = tlsEndsAtProxy ? { ...agentPrediction, outcome: enrolls ? 'ok' as const : 'not-attempted' as const } : agentPrediction;
  // The proxy the policy's client dials is install's choice: the enrollment's, the policy's own, or none
  // (in front of a secure proxy only the policy's own: install gives that stage no enrollment proxy).
  const viaPolicy = plan && enrolls ? policyProxy(plan) : undefined;
  const policyPort = plan ? policyTargetPort(plan) : 443;
  const again = (predict: (side: AgentSide, setup: LegSetup) => ProxyPredictions | undefined) => predictPolicyFront(plan!, agentSide, agentSetup, predict);
  const ownHop = viaPolicy?.kind === 'own' ? again((side) => predictForwardProxy(viaPolicy.planned, side, plan!.fleetServer.identity.chain, policyPort)) : undefined;
  const front = behindSecureProxy && enrolls ? throughHop(ownHop, again((side, setup) => proxyPredictions(plan!, side, fleetSide, setup)))
    : viaPolicy?.kind === 'enrollment' && intercepted ? again((side, setup) => proxyPredictions(plan!, side, fleetSide, setup, policyPort)) : undefined;
  const hop = front || !viaPolicy || viaPolicy.kind === 'direct' ? undefined
    : viaPolicy.kind === 'enrollment' ? again((side, setup) => proxyPredictions(plan!, side, fleetSide, setup, policyPort)) : ownHop;
  const policy = plan ? predictPolicyLegs(plan, { setup: agentSetup, prediction: enrolled }, esProxy?.front ?? fleetToEs, outputLeg, (name) => str(name) !== undefined, front, hop) : undefined;
  findings.push(...(policy?.findings ?? []));
  // The balancer probes Fleet Server before the agent comes (a Fleet Server that cannot load its files is not probed here).
  const health = plan?.healthCheck && !fleetLoadError ? predictHealthCheck(plan.healthCheck, { tls: plan.fleetServer.tls, clientAuthentication: plan.fleetServer.clientAuthentication, healthy: bootstraps }) : undefined;
  findings.push(...(health?.findings ?? []));
  const predictions = [...(health ? [health.prediction] : []), ...(esProxy?.predictions ?? [es.prediction]), ...(proxies?.predictions ?? []), ...(tlsEndsAtProxy ? [] : [agentPrediction]), ...(policy?.predictions ?? []), policy?.output ?? output.prediction];

  let legs: Leg[] = [];
  let compared: LegComparison[];
  if (options.static) compared = predictions.map((p) => ({ ...p, actual: null, agrees: null }));
  // No handshake ran: nothing confirms or contradicts the prediction.
  else if (!plan) compared = predictions.map((p) => ({ ...p, actual: 'not-attempted', agrees: null }));
  else {
    const flow = await runFlow(flowConfig(plan, 'ephemeral'));
    legs = [...flow.legs];
    // Legs with the same ends (the balancer's probes and a proxy's own hop, both proxy -> fleet-server) pair up in order.
    const taken = new Map<string, number>();
    compared = predictions.map((p) => {
      const key = `${p.from}|${p.to}|${p.stage ?? ''}`;
      const nth = taken.get(key) ?? 0;
      taken.set(key, nth + 1);
      const leg = legs.filter((l) => l.from === p.from && l.to === p.to && l.stage === p.stage)[nth];
      const actual: Outcome = !leg || leg.skipped ? 'not-attempted' : leg.ok ? 'ok' : leg.rejectedBy === 'client' ? 'rejected-by-client' : 'rejected-by-server';
      return { ...p, actual, agrees: actual === p.outcome && sameReason(p, leg) };
    });
  }
  const sorted = unique(findings).sort((a, b) => rank(a) - rank(b));
  const ok = !sorted.some((f) => f.severity === 'error') && compared.every((c) => (c.actual ?? c.outcome) === 'ok' && c.agrees !== false);
  return { ok, findings: sorted, predictions: compared, legs, ...(startError ? { startError } : {}) };
}

/**
 * A forward proxy only the policy names, in front of a secure proxy: the agent's tunnel comes
 * first (policy-stage.ts starts that proxy towards the secure proxy), then the secure proxy's two
 * hops. A tunnel the forward proxy refuses leaves the agent's TLS leg and the upstream hop unattempted.
 */
function throughHop(hop: PolicyFront | undefined, front: PolicyFront | undefined): PolicyFront | undefined {
  if (!hop || !front) return front;
  if (!hop.blocked) return { ...front, predictions: [...hop.predictions, ...front.predictions], findings: [...hop.findings, ...front.findings] };
  const [tls, upstream] = front.predictions;
  const unattempted = (p: Prediction | undefined, message: string): Prediction[] => (p ? [{ ...p, outcome: 'not-attempted', message }] : []);
  return {
    predictions: [...hop.predictions, ...unattempted(tls, hop.blocked), ...unattempted(upstream, nothingForwardedPredicted('the agent', 'not-attempted'))],
    applied: false, findings: hop.findings, blocked: hop.blocked,
  };
}

const AGENT_CERTIFICATE_FLAGS = ['elastic-agent-cert', 'elastic-agent-cert-key', 'elastic-agent-cert-key-passphrase'];

/**
 * The agent failing to load its own certificate stops only the agent: Fleet Server still
 * bootstraps against Elasticsearch. The plan is made without those files and the agent then
 * fails with libs' error, as install does for the page's repeated --elastic-agent-cert-key.
 */
function withoutAgentCertificate(flags: ParsedFlags, context: PlanContext, error: HarnessError): InstallPlan | undefined {
  if (!AGENT_CERTIFICATE_FLAGS.some((name) => error.message.startsWith(`--${name} `))) return undefined;
  const values = Object.fromEntries(Object.entries(flags.values).filter(([name]) => !AGENT_CERTIFICATE_FLAGS.includes(name)));
  try {
    const plan = planInstall({ ...flags, values }, context);
    return { ...plan, agent: { ...plan.agent, loadError: `Error: ${(error.cause as MaterialError).libsMessage}` } };
  } catch {
    return undefined;
  }
}

/**
 * A rejection agrees only when the leg shows the predicted words: the same outcome for another
 * reason (an expired certificate predicted, a host name refused) is a disagreement to report.
 */
function sameReason(prediction: Prediction, leg: Leg | undefined): boolean {
  if (!leg || prediction.outcome === 'ok' || prediction.outcome === 'not-attempted') return true;
  // A proxy that logs nothing about a server it refused keeps OpenSSL's verdict on the leg (node).
  const said = [...Object.values(leg.logs ?? {}), leg.node?.message ?? ''].join('\n');
  return said.includes(prediction.message);
}

const rank = (f: Finding) => ({ error: 0, warning: 1, info: 2 })[f.severity];

function unique(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}|${f.flag}|${f.file}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function clientAuth(value: string) {
  try {
    return parseClientAuthentication(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `client authentication must be one of [none, optional, required], not '${value}'`);
  }
}

function harnessInput<T>(flag: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof HarnessError) throw new HarnessError(error.code, `${flag} ${error.message}`, { cause: error });
    throw error;
  }
}
