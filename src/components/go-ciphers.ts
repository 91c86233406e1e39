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
