import type { ExtendedKeyUsage } from './issue.js';

/** The names of PRODUCT.md's PKI table; each is a `<name>.crt` and `<name>.key` in the PKI directory. */
export type CaName = 'fleet-ca' | 'agent-ca' | 'es-ca';
/** A leaf certificate of the PKI (see {@link LEAF_NAMES}). */
export type LeafName = 'fleet-cert' | 'agent-cert' | 'es-cert' | 'fleet-es-cert';
/** A CA or a leaf of the PKI. */
export type PkiObjectName = CaName | LeafName;

/** The three CAs of Elastic's page: fleet-ca signs Fleet Server's certificate, agent-ca the agent's, es-ca Elasticsearch's and Fleet Server's client certificate. */
export const CA_NAMES: readonly CaName[] = ['fleet-ca', 'agent-ca', 'es-ca'];
/** The four leaves of Elastic's page; fleet-es-cert is the client certificate Fleet Server presents to Elasticsearch. */
export const LEAF_NAMES: readonly LeafName[] = ['fleet-cert', 'agent-cert', 'es-cert', 'fleet-es-cert'];

/** Names every server leaf answers to: loopback in all its spellings, and the component's own host name. */
export const LOOPBACK_DNS = ['localhost'] as const;
export const LOOPBACK_IPS = ['127.0.0.1', '::1'] as const;

export interface LeafProfile {
  readonly name: LeafName;
  readonly issuer: CaName;
  readonly commonName: string;
  /** The component's host name in compose files and the SAN that matches it. */
  readonly hostName: string;
  readonly usage: ExtendedKeyUsage;
  /** What the certificate is for, in the words of Elastic's page. */
  readonly role: string;
}

export const LEAF_PROFILES: Readonly<Record<LeafName, LeafProfile>> = {
  'fleet-cert': {
    name: 'fleet-cert', issuer: 'fleet-ca', commonName: 'fleet-server', hostName: 'fleet-server', usage: 'serverAuth',
    role: 'presented by Fleet Server to agents (--fleet-server-cert)',
  },
  'agent-cert': {
    name: 'agent-cert', issuer: 'agent-ca', commonName: 'elastic-agent', hostName: 'elastic-agent', usage: 'clientAuth',
    role: 'presented by the agent to Fleet Server in mutual TLS (--elastic-agent-cert)',
  },
  'es-cert': {
    name: 'es-cert', issuer: 'es-ca', commonName: 'elasticsearch', hostName: 'elasticsearch', usage: 'serverAuth',
    role: 'presented by Elasticsearch to Fleet Server and agents',
  },
  'fleet-es-cert': {
    name: 'fleet-es-cert', issuer: 'es-ca', commonName: 'fleet-server', hostName: 'fleet-server', usage: 'clientAuth',
    role: 'presented by Fleet Server to Elasticsearch in mutual TLS (--fleet-server-es-cert)',
  },
};

export const CA_ROLES: Readonly<Record<CaName, string>> = {
  'fleet-ca': 'trusted by the agent to verify Fleet Server (--certificate-authorities)',
  'agent-ca': 'trusted by Fleet Server to verify agent client certificates (--certificate-authorities)',
  'es-ca': 'trusted by Fleet Server to verify Elasticsearch (--fleet-server-es-ca); Elasticsearch trusts it for client certificates',
};

/** The agent's key is the one encrypted key, as on Elastic's mutual TLS page. */
export const ENCRYPTED_KEY: LeafName = 'agent-cert';
export const PASSPHRASE_FILE = 'agent-cert-key-passphrase';

export const ORGANIZATION = 'fleet-tls-harness';
const DAY = 24 * 60 * 60 * 1000;
/** Backdated a little so a peer whose clock runs behind still accepts a fresh certificate. */
export const BACKDATE_MS = 5 * 60 * 1000;
export const CA_VALIDITY_MS = 5 * 365 * DAY;
export const LEAF_VALIDITY_MS = 397 * DAY;
/** A PKI this close to expiry is renewed rather than reused, so a run never straddles an expiry. */
export const RENEW_BEFORE_MS = 7 * DAY;
