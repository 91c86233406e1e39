/**
 * The fake Elasticsearch's files as `install` and `serve` take them (--es-*), read the way Java
 * reads them.
 */
import { loadJavaAuthorities, loadJavaIdentity, loadKeystoreIdentity } from '../tls/java-material.js';
import type { Identity } from '../tls/material.js';
import { parsePemCertificates, type Cert } from '../x509/certificate.js';
import { autoConfiguredChain } from '../components/elasticsearch/chain.js';
import type { Pki } from '../pki/store.js';
import { ES_PAIR, usage, withFlag, type FlagReader } from './plan-read.js';

/**
 * The fake Elasticsearch's certificate and client CAs from the harness's --es-* flags, falling
 * back on --certs; `install` and `serve` read them alike. Files are read as Java does (DER
 * certificates, PKCS#12 keystores), not as libs does.
 */
export function elasticsearchMaterial({ str, file, list }: FlagReader, pki: Pki): { identity: Identity; clientCertificateAuthorities: Cert[] } {
  const esKeystore = file('es-keystore');
  if (esKeystore && (str('es-cert') || str('es-cert-key'))) throw usage('--es-keystore and --es-cert/--es-cert-key are mutually exclusive, as ssl.keystore.path and ssl.certificate are');
  const esCert = file('es-cert') ?? pki.certPath('es-cert');
  const esKey = file('es-cert-key') ?? pki.keyPath('es-cert');
  const esClientCas = list('es-client-ca') ?? [pki.certPath('es-ca')];
  const esIdentity = esKeystore
    ? withFlag('--es-keystore', () => loadKeystoreIdentity(esKeystore, str('es-keystore-password') ?? ''))
    : withFlag(ES_PAIR, () => loadJavaIdentity(esCert, esKey));
  // Without --es-cert, Elasticsearch is as auto-configured security leaves it: es-ca rides in its chain.
  const identity = esKeystore || file('es-cert') ? esIdentity : autoConfiguredChain(esIdentity, parsePemCertificates(pki.cas['es-ca'].pem)[0]!);
  return {
    identity,
    clientCertificateAuthorities: withFlag('--es-client-ca', () => loadJavaAuthorities(esClientCas, str('es-keystore-password') ?? '')),
  };
}
