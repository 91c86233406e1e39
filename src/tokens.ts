import { HarnessError } from './errors.js';

/**
 * Service tokens travel in an HTTP header (`Authorization: Bearer <token>`), where a line break
 * or a control character cannot go: a client refuses to send it, so a token with one would
 * fail far from its cause (as a failed handshake with Elasticsearch). Elasticsearch issues them
 * as base64 text (`AAEAA...`), so anything outside printable ASCII is a mistake in the input.
 */
export function checkServiceToken(token: string, where: string, code: 'FTH_USAGE' | 'FTH_FILE_MALFORMED' = 'FTH_USAGE'): string {
  const bad = /[^\x21-\x7e]/.exec(token);
  if (token === '' || bad) {
    const what = token === '' ? 'is empty' : /[\r\n]/.test(bad![0]) ? 'holds a line break' : /[\x00-\x1f\x7f]/.test(bad![0]) ? 'holds a control character (binary data?)' : 'holds a character a token never has (a space or non-ASCII)';
    throw new HarnessError(code, `${where} ${what}: a service token is one line of printable ASCII`);
  }
  return token;
}
