import type { GoExchange } from './go-http.js';
import { elasticError } from './elastic-error.js';

type Call = (method: 'GET' | 'POST', path: string, body?: object) => Promise<GoExchange>;

/** How the bootstrap ended: the enrollment key on success, or fleet-server's reason. */
export type BootstrapOutcome = { readonly enrollmentToken: string } | { readonly failure: string };

/**
 * Fleet Server's start against Elasticsearch: version check, authentication with the service
 * token, its policy's enrollment key. Each failure is worded as fleet-server logs it.
 */
export async function bootstrapFleetServer(call: Call, policyId: string, fleetVersion: string): Promise<BootstrapOutcome> {
  // Current Fleet Server's first Elasticsearch call is the version check (GET /).
  const info = await call('GET', '/');
  const versionProblem = checkElasticsearch(info, fleetVersion);
  if (versionProblem) return { failure: `failed version compatibility check with elasticsearch${versionProblem}` };
  // Fleet Server 7.x authenticated its service token here; current releases rely on the version
  // check already carrying it. Kept (issue 2 asks for it): it cannot fail where GET / succeeded.
  const auth = await call('GET', '/_security/_authenticate');
  const authProblem = elasticError(auth);
  if (authProblem) return { failure: `failed to authenticate with elasticsearch: ${authProblem}` };
  // Kibana creates a policy's enrollment key in the real stack; the fake makes its own.
  const key = await call('POST', '/_security/api_key', { name: `enrollment-${policyId}` });
  const keyProblem = elasticError(key);
  if (keyProblem) return { failure: `failed to create the enrollment key: ${keyProblem}` };
  return { enrollmentToken: (JSON.parse(key.response!.body) as { encoded: string }).encoded };
}

/** Why the version check failed, in fleet-server's words (the suffix after `...with elasticsearch`). */
function checkElasticsearch(info: GoExchange, fleetVersion: string): string | undefined {
  const problem = elasticError(info);
  if (problem) return `: ${problem}`;
  if (info.response!.headers['x-elastic-product'] !== 'Elasticsearch') {
    return ': the client noticed that the server is not Elasticsearch and we do not support this unknown product';
  }
  const reported = String((JSON.parse(info.response!.body) as { version?: { number?: string } }).version?.number ?? '').toLowerCase().replace(/-snapshot$/, '');
  const [major = 0, minor = 0] = fleetVersion.split('.').map(Number);
  const [esMajor = 0, esMinor = 0] = reported.split('-')[0]!.split('.').map(Number);
  if (esMajor < major || (esMajor === major && esMinor < minor)) {
    return ` (Agent: ${fleetVersion}, Elasticsearch: ${reported}): unsupported version`;
  }
  return undefined;
}
