/**
 * TLS alerts: wire code, the RFC name (which Java and OpenSSL print), and Go's text
 * (crypto/tls alert.go, as in `remote error: tls: <text>`). One table, so a peer's
 * alert is named the same way in every dialect.
 */
export const ALERT = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  no_renegotiation: 100,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

export type AlertName = keyof typeof ALERT;

const GO_TEXT: Readonly<Record<AlertName, string>> = {
  close_notify: 'close notify',
  unexpected_message: 'unexpected message',
  bad_record_mac: 'bad record MAC',
  record_overflow: 'record overflow',
  handshake_failure: 'handshake failure',
  bad_certificate: 'bad certificate',
  unsupported_certificate: 'unsupported certificate',
  certificate_revoked: 'revoked certificate',
  certificate_expired: 'expired certificate',
  certificate_unknown: 'unknown certificate',
  illegal_parameter: 'illegal parameter',
  unknown_ca: 'unknown certificate authority',
  access_denied: 'access denied',
  decode_error: 'error decoding message',
  decrypt_error: 'error decrypting message',
  protocol_version: 'protocol version not supported',
  insufficient_security: 'insufficient security level',
  internal_error: 'internal error',
  inappropriate_fallback: 'inappropriate fallback',
  user_canceled: 'user canceled',
  no_renegotiation: 'no renegotiation',
  missing_extension: 'missing extension',
  unsupported_extension: 'unsupported extension',
  unrecognized_name: 'unrecognized name',
  bad_certificate_status_response: 'bad certificate status response',
  unknown_psk_identity: 'unknown PSK identity',
  certificate_required: 'certificate required',
  no_application_protocol: 'no application protocol',
};

const BY_CODE = new Map<number, AlertName>(Object.entries(ALERT).map(([name, code]) => [code, name as AlertName]));

/** The RFC name of an alert code, or `alert(<code>)` for one outside the table. */
export function alertName(code: number): string {
  return BY_CODE.get(code) ?? `alert(${code})`;
}

/** Go's wording of an alert, as `remote error: tls: <this>` shows it. */
export function goAlertText(code: number): string {
  const name = BY_CODE.get(code);
  return name ? GO_TEXT[name] : `alert(${code})`;
}

export const AlertLevel = { warning: 1, fatal: 2 } as const;
