/**
 * fleet-tls-harness: fake Elasticsearch, Fleet Server and Elastic Agent that behave like the
 * real Go and Java components in TLS, for tests, reproductions and demos.
 *
 * This file is the whole public API: what a test author (the fakes and their options, the PKI),
 * a support tool (flows, scenarios, explain, doctor, probe) or a report reader (the Leg and the
 * result types, errors) uses. Everything else under `src/` is internal and may change in any
 * release; tests of internals import those modules by path. `docs/api/` is generated from the
 * comments of the names below (`npm run docs`), and a test fails when it is stale.
 *
 * @example
 * ```ts
 * import { createPki, enrollAgent, startElasticsearch, startFleetServer } from 'fleet-tls-harness';
 *
 * const pki = await createPki();
 * await using es = await startElasticsearch({ pki, clientAuthentication: 'required' });
 * await using fleet = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
 * const { ok, leg } = await enrollAgent({ pki, fleetServer: fleet });
 * ```
 *
 * @packageDocumentation
 */
export { startForwardProxy, startSocksProxy, startInterceptingProxy } from './api.js';
export { FakeForwardProxy, type ForwardProxyOptions } from './components/proxy/forward-proxy.js';
export { FakeSocksProxy, type SocksProxyOptions } from './components/proxy/socks-proxy.js';
export { HealthChecker, type HealthCheckKind, type HealthCheckOptions, type HealthProbe } from './components/proxy/health-check.js';
export { FakeInterceptingProxy, GENERATED_ROOT_NAME, type InterceptingProxyOptions, type Interception, type UpstreamHandshake } from './components/proxy/intercepting-proxy.js';
export type { ProxySettings, ProxyRoute, ProxyScheme } from './components/proxy/proxy-url.js';

// The fakes, started the short way (from a PKI) or the long way (every TLS setting).
export { createPki, identity, authorities, startElasticsearch, startFleetServer, enrollAgent, runScenario } from './api.js';
export type { CreatePkiOptions, StartElasticsearchOptions, StartFleetServerOptions, EnrollOptions, RunScenarioOptions } from './api.js';
export { FakeElasticsearch, type ElasticsearchOptions } from './components/elasticsearch.js';
export { FakeFleetServer, type FleetServerOptions, type FleetServerState } from './components/fleet-server.js';
export type { EnrollResult } from './components/agent.js';
export type { GoClientTls } from './components/go-client-tls.js';
export type { PolicyOutput } from './components/output.js';
export type { PolicyFleet } from './components/policy.js';
export type { ComponentLog, LogEntry, LogLevel } from './components/log.js';

// The PKI and TLS material.
export type { Pki } from './pki/store.js';
export type { DisposablePki } from './api.js';
export type { StoredDocument } from './components/elasticsearch/store.js';
export type { PkiMaterial, KeyedCertificate } from './pki/generate.js';
export type { KeyType } from './pki/keys.js';
export { CA_NAMES, LEAF_NAMES, type CaName, type LeafName, type PkiObjectName } from './pki/profiles.js';
export { loadIdentity, loadCertificateAuthorities, type Identity } from './tls/material.js';
export type { VerificationMode, ClientAuthentication, TlsVersion, VersionRange } from './tls/settings.js';
export type { Cert } from './x509/certificate.js';

// Flows and scenarios.
export { install, type InstallResult } from './flows/install.js';
export { runFlow, type FlowConfig, type FlowResult } from './flows/flow.js';
export type { NetworkFault } from './components/network-faults.js';
export type { PlannedProxy, PlannedSecureProxy, PlannedIntercept } from './flows/install-plan.js';
export type { PlannedHealthCheck } from './flows/health-check-flow.js';
export type { Resolve } from './components/proxy/proxy-listener.js';
export { loadCatalog, findScenarios, BUILTIN_HARNESS, type Catalog } from './scenarios/catalog.js';
export { runScenarios, type ScenarioResult, type RunOptions } from './scenarios/run.js';
export type { ScenarioData, FlowData, LegKey } from './scenarios/schema.js';
export type { ResolvedExpectation } from './scenarios/expect.js';

// What a report reader reads.
export type { Leg, CertificateSummary, ClientCertificateSummary, Phase, ComponentName } from './report/leg.js';
export { legKey } from './report/leg.js';
export { HarnessError, ERROR_CODES, isHarnessError, type ErrorCode } from './errors.js';

// Support tools: explain a pasted line, doctor a customer's command, probe any server.
export { Explainer, explainLine, type Explanation, type ScenarioMatch, type MatchKind } from './explain/match.js';
export { explainDocument, type ExplainDocument, type ExplainedMatch, type ReportOptions as ExplainDocumentOptions } from './explain/report.js';
export { doctor, type DoctorOptions, type DoctorResult, type LegComparison } from './doctor/doctor.js';
export { probe, type ProbeOptions, type ProbeResult, type ModeVerdict } from './probe/probe.js';
