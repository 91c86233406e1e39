import { timingSafeEqual } from 'node:crypto';
import { pooledRandomBytes } from '../../random-pool.js';
import { exception, type Reply } from './errors.js';

/**
 * Elasticsearch's authentication as a client meets it: Basic for users of the native/reserved
 * realms (`elastic` and the users given at start), Bearer for service account tokens, ApiKey for
 * keys made through `_security/api_key`. A refusal is a 401 security_exception carrying the
 * WWW-Authenticate challenges (x-pack/plugin/security ... DefaultAuthenticationFailureHandler).
 */
export interface SecurityState {
  /** Accepted as `Authorization: Bearer <token>` for the elastic/fleet-server service account. */
  serviceToken: string;
  /** Users by name: their password. `elastic` is the reserved superuser. */
  readonly users: Map<string, string>;
  /** API keys by id. */
  readonly apiKeys: Map<string, { secret: string; name: string; owner: Identity }>;
}

export type Identity = Record<string, unknown> & { readonly username: string };

const CHALLENGE = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'];

/**
 * A service token in Elasticsearch's format: base64 of a 4-byte version prefix and
 * `elastic/fleet-server/<token name>:<secret>`.
 */
export function newServiceToken(name = 'fleet-tls-harness'): string {
  const body = Buffer.from(`elastic/fleet-server/${name}:${pooledRandomBytes(16).toString('base64url')}`);
  return Buffer.concat([Buffer.from([0, 1, 0, 1]), body]).toString('base64').replace(/=+$/, '');
}

/** The token name inside a well-formed service token, or undefined for anything else. */
export function serviceTokenName(token: string): string | undefined {
  // Fleet Server sends the same token on every call: decoded once.
  if (token === lastToken.token) return lastToken.name;
  const name = decodeServiceTokenName(token);
  lastToken = { token, name };
  return name;
}

let lastToken: { token?: string; name?: string | undefined } = {};

function decodeServiceTokenName(token: string): string | undefined {
  const bytes = Buffer.from(token, 'base64');
  if (bytes.length < 5 || bytes[0] !== 0 || bytes[1] !== 1 || bytes[2] !== 0 || bytes[3] !== 1) return undefined;
  const match = /^elastic\/fleet-server\/([^:]+):/.exec(bytes.subarray(4).toString('utf8'));
  return match?.[1];
}

/** A password like the one auto-configuration prints for `elastic` (20 characters). */
export function newPassword(): string {
  return pooledRandomBytes(15).toString('base64').replace(/[+/]/g, '_');
}

export function createApiKey(state: SecurityState, name: string, owner: Identity = serviceAccount('token'), expiration?: number):
  { id: string; name: string; api_key: string; encoded: string; expiration?: number } {
  const id = pooledRandomBytes(15).toString('base64url').slice(0, 20);
  const secret = pooledRandomBytes(16).toString('base64url').slice(0, 22);
  state.apiKeys.set(id, { secret, name, owner });
  return { id, name, ...(expiration ? { expiration } : {}), api_key: secret, encoded: Buffer.from(`${id}:${secret}`).toString('base64') };
}

/** Who the request is, or the 401 Elasticsearch answers. `uri` is the request's, query string included. */
export function authenticate(state: SecurityState, authorization: string | undefined, uri: string): { identity: Identity } | Reply {
  const failed = 'unable to authenticate with provided credentials and anonymous access is not allowed for this request';
  if (!authorization) return securityException(`missing authentication credentials for REST request [${uri}]`);
  const space = authorization.indexOf(' ');
  const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
  const credentials = space < 0 ? '' : authorization.slice(space + 1).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = state.users.get(user);
    if (colon >= 0 && password !== undefined && same(password, decoded.slice(colon + 1))) return { identity: userIdentity(user) };
    return securityException(`unable to authenticate user [${user}] for REST request [${uri}]`);
  }
  if (scheme === 'bearer') {
    if (same(credentials, state.serviceToken)) return { identity: serviceAccount(serviceTokenName(credentials) ?? 'token') };
    const name = serviceTokenName(credentials);
    return name
      ? securityException(`failed to authenticate service account [elastic/fleet-server] with token name [${name}]`)
      : securityException(failed, 'oauth2 token: invalid token');
  }
  if (scheme === 'apikey') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = colon < 0 ? decoded : decoded.slice(0, colon);
    const key = state.apiKeys.get(id);
    if (key && colon >= 0 && same(key.secret, decoded.slice(colon + 1))) return { identity: apiKeyIdentity(id, key.name, key.owner) };
    return securityException(failed, key ? `API key: invalid credentials for API key [${id}]` : `API key: unable to find apikey with id ${id}`);
  }
  return securityException(failed);
}

export function securityException(reason: string, unsuccessful?: string): Reply {
  return exception(401, {
    type: 'security_exception',
    reason,
    ...(unsuccessful ? { additional_unsuccessful_credentials: unsuccessful } : {}),
    header: { 'WWW-Authenticate': CHALLENGE },
  }, { 'www-authenticate': CHALLENGE });
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `elastic` is the reserved realm's superuser; other users are as the native realm shows them. */
function userIdentity(user: string): Identity {
  const realm = user === 'elastic' ? { name: 'reserved', type: 'reserved' } : { name: 'default_native', type: 'native' };
  return {
    username: user, roles: ['superuser'], full_name: null, email: null,
    metadata: user === 'elastic' ? { _reserved: true } : {}, enabled: true,
    authentication_realm: realm, lookup_realm: realm, authentication_type: 'realm',
  };
}

export function serviceAccount(tokenName: string): Identity {
  return {
    username: 'elastic/fleet-server',
    roles: [],
    full_name: 'Service account - elastic/fleet-server',
    email: null,
    token: { name: tokenName, type: '_service_account_index' },
    metadata: { _elastic_service_account: true },
    enabled: true,
    authentication_realm: { name: '_service_account', type: '_service_account' },
    lookup_realm: { name: '_service_account', type: '_service_account' },
    authentication_type: 'token',
  };
}

/** An API key authenticates as its owner, with the key's realm. */
function apiKeyIdentity(id: string, name: string, owner: Identity): Identity {
  return {
    username: owner.username,
    roles: [],
    full_name: owner.full_name ?? null,
    email: owner.email ?? null,
    metadata: {},
    enabled: true,
    authentication_realm: { name: '_es_api_key', type: '_es_api_key' },
    lookup_realm: { name: '_es_api_key', type: '_es_api_key' },
    authentication_type: 'api_key',
    api_key: { id, name },
  };
}
