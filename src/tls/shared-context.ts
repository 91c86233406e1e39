/**
 * TLS contexts by what goes into them. Building one is OpenSSL's SSL_CTX_new, a parse of the key
 * and of every certificate and CA: a few milliseconds each time, and a catalog run made hundreds
 * for the same few settings (every proxy connection, every upstream dial).
 *
 * Sharing one changes no handshake: Node keeps no session cache inside a context (it sets
 * SSL_SESS_CACHE_NO_INTERNAL_STORE and only resumes through a `session` option or the server's
 * session events), and no client of the harness offers a session or ticket, so every handshake is
 * a full one, as each real component's first connection is.
 */
import tls from 'node:tls';
import { Remembered, TextIds } from '../remember.js';

/** The context options the harness sets: text, numbers and flags only, so that they compare by value. */
export interface SharedContextOptions {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: readonly string[];
  readonly minVersion?: tls.SecureVersion;
  readonly maxVersion?: tls.SecureVersion;
  readonly ciphers?: string;
  readonly sigalgs?: string;
  readonly secureOptions?: number;
  readonly honorCipherOrder?: boolean;
  readonly sessionIdContext?: string;
}

const contexts = new Remembered<string, tls.SecureContext>(256);

/** Each distinct text (a PEM, a cipher list) by a short stand-in: hashing several kilobytes of PEM on every connection was a twentieth of a catalog run. */
const texts = new TextIds(4_096);
const textId = (text: string | undefined) => (text === undefined ? '-' : texts.id(text));

/** tls.createSecureContext(options), made once per distinct options (a failure is not remembered). */
export function sharedContext(options: SharedContextOptions): tls.SecureContext {
  const { ca, ...rest } = options;
  const key = [
    textId(options.cert), textId(options.key), ca ? ca.map(textId).join(',') : '-', options.minVersion, options.maxVersion,
    textId(options.ciphers), textId(options.sigalgs), options.secureOptions, options.honorCipherOrder, textId(options.sessionIdContext),
  ].join('|');
  return contexts.get(key, () => tls.createSecureContext({ ...rest, ...(ca ? { ca: [...ca] } : {}) }));
}
