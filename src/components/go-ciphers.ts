/**
 * Go's cipher suite preference on hardware with AES support (crypto/tls cipher_suites.go,
 * `cipherSuitesPreferenceOrder` and the TLS 1.3 `defaultCipherSuitesTLS13`), in OpenSSL names.
 * The same order serves both roles: a Go client offers it, so a server that honours the client's
 * order picks what it would pick for the real agent, and a Go server imposes it.
 */
export const GO_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * crypto/tls `defaultSupportedSignatureAlgorithms` (common.go, Go 1.19 to 1.24), in OpenSSL
 * names and Go's order (OpenSSL knows ecdsa_sha1 only as ECDSA+SHA1): what a Go client offers in its ClientHello and what a Go server lists in
 * its CertificateRequest (handshake_server.go and handshake_server_tls13.go).
 */
export const GO_SIGNATURE_ALGORITHMS = [
  'rsa_pss_rsae_sha256', 'ecdsa_secp256r1_sha256', 'ed25519', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512',
  'rsa_pkcs1_sha256', 'rsa_pkcs1_sha384', 'rsa_pkcs1_sha512', 'ecdsa_secp384r1_sha384', 'ecdsa_secp521r1_sha512',
  'rsa_pkcs1_sha1', 'ECDSA+SHA1',
].join(':');
