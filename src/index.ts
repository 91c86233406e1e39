/**
 * fleet-tls-harness: fake Elasticsearch, Fleet Server and Elastic Agent that behave like the
 * real Go and Java components in TLS, for tests, reproductions and demos.
 */
export { createPki, identity, authorities, startElasticsearch, startFleetServer, enrollAgent, runScenario } from './api.js';
export type { StartElasticsearchOptions, StartFleetServerOptions, EnrollOptions } from './api.js';

export { FakeElasticsearch, type ElasticsearchOptions } from './components/elasticsearch.js';
export { FakeFleetServer, type FleetServerOptions, type FleetServerState } from './components/fleet-server.js';
export type { EnrollResult, AgentOptions } from './components/agent.js';
export { goRequest, type GoRequest, type GoExchange, type GoClientTls } from './components/go-client.js';
export { ComponentLog, type LogEntry } from './components/log.js';

export { ensurePki, writePki, type Pki, type PkiAction } from './pki/store.js';
export { writePlainKeys, plainKeyPath, type PlainKey } from './pki/plain-keys.js';
export type { StoredDocument } from './components/elasticsearch/store.js';
export { generatePki, issueCa, issueLeaf, type PkiMaterial, type KeyedCertificate } from './pki/generate.js';
export { issueCertificate, type CertificateSpec } from './pki/issue.js';
export { CA_NAMES, LEAF_NAMES, type CaName, type LeafName } from './pki/profiles.js';

export { install, type InstallResult } from './flows/install.js';
export { runFlow, type FlowConfig, type FlowResult } from './flows/flow.js';
export { loadCatalog, findScenarios, BUILTIN_HARNESS, type Catalog } from './scenarios/catalog.js';
export { runScenarios, scenarioCommand, type ScenarioResult } from './scenarios/run.js';

export { loadIdentity, loadCertificateAuthorities, identityFromPem, type Identity } from './tls/material.js';
export type { VerificationMode, ClientAuthentication, TlsVersion } from './tls/settings.js';
export { parseCertificate, parsePemCertificates, type Cert } from './x509/certificate.js';

export type { Leg, CertificateSummary, ClientCertificateSummary, Phase, ComponentName } from './report/leg.js';
export { HarnessError, ERROR_CODES, isHarnessError, type ErrorCode } from './errors.js';

export { Explainer, explainLine, type Explanation, type ScenarioMatch } from './explain/match.js';
export { explainDocument, type ExplainDocument } from './explain/report.js';
export { doctor, type DoctorOptions, type DoctorResult } from './doctor/doctor.js';
export { probe, type ProbeOptions, type ProbeResult } from './probe/probe.js';
