import { X509Certificate, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { issueCa, issueLeaf, type KeyedCertificate } from '../../src/pki/generate.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { encodePrivateKey, generateKey } from '../../src/pki/keys.js';
import type { Pki } from '../../src/pki/store.js';
import type { CaName, LeafName } from '../../src/pki/profiles.js';
import { identityFromPem, type Identity } from '../../src/tls/material.js';

/** A certificate chain and its key as files for the real peers and as an Identity for the fakes. */
export interface Material {
  readonly certFile: string;
  readonly keyFile: string;
  readonly identity: Identity;
  /** The chain's PEM, leaf first. */
  readonly pem: string;
}

const DAY = 86_400_000;

/** Writes `chain` (leaf first) with the leaf's key, unencrypted: Go 1.19 cannot read encrypted PKCS#8. */
export async function writeMaterial(dir: string, name: string, chain: readonly KeyedCertificate[]): Promise<Material> {
  const pem = chain.map((c) => c.pem).join('');
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await writeFile(certFile, pem);
  await writeFile(keyFile, encodePrivateKey(chain[0]!.key, { format: 'pkcs8' }), { mode: 0o600 });
  return { certFile, keyFile, pem, identity: identityFromPem(pem, chain[0]!.key) };
}

export async function writeCa(dir: string, name: string, ca: KeyedCertificate): Promise<string> {
  const file = path.join(dir, `${name}.crt`);
  await writeFile(file, ca.pem);
  return file;
}

/** The PKI leaf's own key pair, so a variant differs from it only where it says. */
function sameKey(pki: Pki, leaf: LeafName): { privateKey: KeyObject; publicKey: KeyObject } {
  return { privateKey: pki.leaves[leaf].key, publicKey: new X509Certificate(pki.leaves[leaf].der).publicKey };
}

/**
 * A server certificate gone wrong the way customers' do, with the CA the client trusts for it.
 * Each is presented at https://localhost (or https://127.0.0.1 where the case says so).
 */
export interface ServerCertCase {
  readonly id: string;
  readonly material: Material;
  /** The CA file the client trusts. */
  readonly trust: string;
  readonly trustCa: KeyedCertificate;
  readonly host: 'localhost' | '127.0.0.1';
}

/** The server-certificate failures of go-behaviour.md, plus a good complete chain as control. */
export async function serverCertCases(pki: Pki, dir: string): Promise<ServerCertCase[]> {
  const now = Date.now();
  const key = sameKey(pki, 'fleet-cert');
  const fleetCa = pki.cas['fleet-ca'];
  const fleetCaFile = pki.certPath('fleet-ca');
  const [intermediateKey, nocaKey, nocaIntermediateKey] = await Promise.all([generateKey('ecdsa'), generateKey('ecdsa'), generateKey('ecdsa')]);
  const intermediate = issueCa('fleet-intermediate', intermediateKey, now, { issuer: { der: fleetCa.der, key: fleetCa.key } });
  // CA:FALSE (basicConstraints present, cA absent) but keyCertSign: only the CA bit is wrong.
  const notCa = { isCA: false, keyUsage: ['keyCertSign', 'cRLSign'] as const, extendedKeyUsage: null };
  const nocaRoot = issueCa('noca-ca', nocaKey, now, notCa);
  const nocaIntermediate = issueCa('noca-intermediate', nocaIntermediateKey, now, { ...notCa, issuer: { der: fleetCa.der, key: fleetCa.key } });
  const leaf = (overrides: Parameters<typeof issueLeaf>[3], issuer: KeyedCertificate = fleetCa) => issueLeaf('fleet-cert', issuer, key, overrides, now);
  const selfSigned: KeyedCertificate = {
    ...issueCertificate({
      subject: { commonName: 'fleet-server', organization: 'fleet-tls-harness' }, publicKey: key.publicKey, signingKey: key.privateKey,
      notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY), extendedKeyUsage: ['serverAuth'], dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'],
    }),
    key: key.privateKey,
  };
  const nocaRootFile = await writeCa(dir, 'noca-ca', nocaRoot);
  const make = async (id: string, chain: KeyedCertificate[], host: ServerCertCase['host'] = 'localhost', trust = fleetCaFile, trustCa = fleetCa): Promise<ServerCertCase> =>
    ({ id, material: await writeMaterial(dir, `server-${id}`, chain), trust, trustCa, host });
  return Promise.all([
    make('good-complete-chain', [leaf({}, intermediate), intermediate]),
    make('unknown-ca', [pki.leaves['fleet-cert']], 'localhost', pki.certPath('es-ca'), pki.cas['es-ca']),
    make('self-signed', [selfSigned]),
    make('hostname-mismatch', [leaf({ dnsNames: ['fleet.example.internal'], ipAddresses: [] })]),
    make('cn-only-no-san', [leaf({ subject: { commonName: 'localhost', organization: 'fleet-tls-harness' }, subjectAltName: false })]),
    make('ip-without-ip-san', [leaf({ ipAddresses: [] })], '127.0.0.1'),
    make('expired', [leaf({ notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) })]),
    make('not-yet-valid', [leaf({ notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) })]),
    make('no-serverauth-eku', [leaf({ extendedKeyUsage: ['clientAuth'] })]),
    make('ca-without-ca-true-as-root', [leaf({}, nocaRoot)], 'localhost', nocaRootFile, nocaRoot),
    make('ca-without-ca-true-as-intermediate', [leaf({}, nocaIntermediate), nocaIntermediate]),
    make('incomplete-chain', [leaf({}, intermediate)]),
  ]);
}

/** Client certificates for mutual TLS: the agent's own, and its broken variants. */
export interface ClientMaterials {
  readonly good: Material;
  readonly expired: Material;
  readonly noClientAuthEku: Material;
  /** Issued by a CA the server does not trust. */
  readonly untrusted: Material;
}

export async function clientMaterials(pki: Pki, dir: string, leaf: LeafName = 'agent-cert', issuerName: CaName = 'agent-ca'): Promise<ClientMaterials> {
  const now = Date.now();
  const key = sameKey(pki, leaf);
  const issuer = pki.cas[issuerName];
  const rogueCa = issueCa('rogue-ca', await generateKey('ecdsa'), now);
  return {
    good: await writeMaterial(dir, `${leaf}-good`, [pki.leaves[leaf]]),
    expired: await writeMaterial(dir, `${leaf}-expired`, [issueLeaf(leaf, issuer, key, { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) }, now)]),
    noClientAuthEku: await writeMaterial(dir, `${leaf}-serverauth-only`, [issueLeaf(leaf, issuer, key, { extendedKeyUsage: ['serverAuth'] }, now)]),
    untrusted: await writeMaterial(dir, `${leaf}-untrusted`, [issueLeaf(leaf, rogueCa, key, {}, now)]),
  };
}
