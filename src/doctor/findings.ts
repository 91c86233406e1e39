/** What the doctor says about one file or one leg: severity, where, a stable code, and the fix. */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly severity: Severity;
  /** The install flag that gave the file (`--fleet-server-cert`), or the leg for trust findings. */
  readonly flag: string;
  readonly file: string | null;
  readonly code: FindingCode;
  readonly message: string;
  readonly fix: string;
}

export type FindingCode =
  | 'FORMAT_DER' | 'FORMAT_PKCS12' | 'KEY_LABEL_MISMATCH' | 'KEY_LEGACY_ENCRYPTED' | 'KEY_ENCRYPTION_UNSUPPORTED'
  | 'KEY_NO_PASSPHRASE' | 'PASSPHRASE_TRAILING_NEWLINE' | 'PASSPHRASE_WRONG' | 'KEY_MISMATCH' | 'KEY_UNREADABLE'
  | 'CERT_MALFORMED' | 'CERT_EXPIRED' | 'CERT_NOT_YET_VALID' | 'CERT_EXPIRES_SOON' | 'CERT_EKU' | 'CA_NOT_CA'
  | 'CHAIN_INCOMPLETE' | 'CHAIN_UNTRUSTED' | 'HOST_MISMATCH' | 'HOST_CN_ONLY'
  | 'FINGERPRINT_FORMAT' | 'FINGERPRINT_NOT_CA' | 'FINGERPRINT_NO_MATCH' | 'FINGERPRINT_CA_NOT_SENT' | 'CA_SHA256_NO_MATCH'
  | 'CLIENT_CERT_MISSING' | 'CLIENT_CERT_UNTRUSTED' | 'FINGERPRINTS' | 'TRUST_SYSTEM_ROOTS'
  | 'PROXY_CERT_UNTRUSTED' | 'PROXY_UPSTREAM_UNTRUSTED' | 'PROXY_UPSTREAM_CLIENT_CERT' | 'PROXY_INTERCEPTED' | 'PROXY_CONNECT_DENIED' | 'HEALTH_CHECK_HANDSHAKE_ERRORS';

export const finding = (severity: Severity, flag: string, file: string | null, code: FindingCode, message: string, fix = ''): Finding =>
  ({ severity, flag, file, code, message, fix });

/** Shell-quoted when it needs to be, so a fix can be pasted. */
export function sh(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

const stem = (file: string) => file.replace(/\.(p12|pfx|der|cer|crt|pem|key)$/i, '');

/** How to turn what a customer brought into what the agent's flag reads (PEM). */
export function conversionFix(kind: 'der-certificate' | 'der-key' | 'pkcs12', role: 'certificate' | 'key' | 'authority' | 'key-entry-ca', file: string): string {
  const f = sh(file);
  const base = stem(file);
  if (kind === 'der-certificate') return `openssl x509 -inform der -in ${f} -out ${sh(`${base}.pem`)}`;
  if (kind === 'der-key') return `openssl pkey -inform der -in ${f} -out ${sh(`${base}.key.pem`)}`;
  if (role === 'authority') return `openssl pkcs12 -in ${f} -cacerts -nokeys -out ${sh(`${base}-ca.crt`)}`;
  if (role === 'key-entry-ca') return `openssl pkcs12 -in ${f} -clcerts -nokeys -out ${sh(`${base}-ca.crt`)}`;
  if (role === 'key') return `openssl pkcs12 -in ${f} -nocerts -nodes -out ${sh(`${base}.key`)}`;
  return `openssl pkcs12 -in ${f} -clcerts -nokeys -out ${sh(`${base}.crt`)} && openssl pkcs12 -in ${f} -nocerts -nodes -out ${sh(`${base}.key`)} && openssl pkcs12 -in ${f} -cacerts -nokeys -out ${sh(`${base}-ca.crt`)}`;
}

/** The PKCS#8 form libs reads without the deprecation warning (and FIPS agents read at all). */
export const toPkcs8Fix = (file: string) => `openssl pkcs8 -topk8 -v2 aes-256-cbc -in ${sh(file)} -out ${sh(`${stem(file)}.pkcs8.key`)}`;

export function worst(findings: readonly Finding[]): Severity | null {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return findings.length ? 'info' : null;
}
