/**
 * Turns what varies between two sightings of the same failure (addresses, host names, URLs,
 * paths, fingerprints, pins, times, token names, ids, versions, long numbers) into placeholders,
 * so a customer's line and a scenario's expected line can be compared as text.
 *
 * Both sides go through the same function, so a rule that over-reaches (a Java package read as a
 * host name, say) costs a little discrimination, never a match. Placeholders are fixed points:
 * normalising twice gives the same text.
 */

/** What a placeholder stands for; `any` only ever comes from a template's `{any}`. */
export const PLACEHOLDERS = ['address', 'host', 'url', 'path', 'fp', 'base64', 'time', 'num', 'token', 'id', 'version', 'any'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const P = (name: Placeholder) => `<${name}>`;

/** How people write placeholders when they paste a line into an issue (`<ip>:<port>`, `<fp>`). */
const PASTED_PLACEHOLDERS: Readonly<Record<string, Placeholder>> = {
  ip: 'host', ipaddress: 'host', hostname: 'host', host: 'host', server: 'host',
  port: 'num', num: 'num', number: 'num', pid: 'num',
  addr: 'address', address: 'address',
  url: 'url', uri: 'url',
  path: 'path', file: 'path', filename: 'path',
  fp: 'fp', fingerprint: 'fp', hex: 'fp', sha256: 'fp', hash: 'fp',
  pin: 'base64', base64: 'base64', key: 'base64',
  time: 'time', date: 'time', timestamp: 'time', duration: 'time',
  token: 'token', tokenname: 'token',
  id: 'id', uuid: 'id',
  version: 'version',
};

/** File names are not hosts: `tls_config.go`, `fleet-ca.crt`, `elastic-agent.yml`. */
const FILE_EXTENSIONS = 'go|java|js|mjs|ts|py|rb|rs|c|h|cc|cpp|hpp|kt|scala|cs|crt|pem|key|p12|pfx|jks|csr|der|cer|yml|yaml|json|log|txt|conf|cfg|ini|sh|md|html|xml|exe|zip|gz|tgz|tar|deb|rpm';

const HEX4 = '[0-9A-Fa-f]{1,4}';
const IPV4 = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}';
/**
 * Full (eight groups, or six and an IPv4) or compressed (with `::`) IPv6. Every group is
 * followed by a colon or ends the address, so a long run of hex cannot be split many ways.
 */
const IPV6 = `(?:(?:${HEX4}:){7}${HEX4}|(?:${HEX4}:){6}${IPV4}|(?:${HEX4}(?::${HEX4}){0,6})?::(?:(?:${HEX4}:){0,5}${IPV4}|${HEX4}(?::${HEX4}){0,6})?)`;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const LOWER_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const PORT = '(?:\\d+|<num>)';
const NOT_FILE = `(?!(?:${FILE_EXTENSIONS})(?![A-Za-z0-9-]))`;

/**
 * In order: each rule sees the text the previous ones left. A placeholder counts as a word in
 * the look-arounds, so that what sits beside one reads the same on a second pass.
 */
const RULES: ReadonlyArray<readonly [RegExp, string | ((...groups: string[]) => string)]> = [
  // First, so no rule sees a line break or a double space that a second pass would not.
  [/\s+/g, ' '],
  // Typographic quotes and spaces that survive a trip through a web page.
  [/[\u2018\u2019]/g, "'"],
  [/[\u201C\u201D]/g, '"'],
  [/[\u00A0\u2007\u202F]/g, ' '],
  // A template's own placeholder, should someone paste one.
  [/\{address\}/g, P('address')],
  // Placeholders as people type them in issues: <ip>, <port>, <fp>, <path>.
  [/<([A-Za-z][A-Za-z _-]{0,20})>/g, (whole, name) => {
    const known = PASTED_PLACEHOLDERS[name!.toLowerCase().replace(/[ _-]/g, '')];
    return known ? P(known) : whole!;
  }],
  // Go's unknown-authority hint quotes the candidate CA's name (CN, O or serial): the customer's own.
  [/\bcandidate authority certificate "(?:[^"\\]|\\.)*"/g, `candidate authority certificate "${P('id')}"`],
  // A URL whole, with a template's {address} for its host and port.
  [/(?<![\w+.-])[a-z][a-z0-9+.-]*:\/\/(?:\[[0-9A-Fa-f:.]+\](?::\d+)?|<address>|<host>)?[^\s"'<>()[\]{}`,]*/g, P('url')],
  [/(?<![\w-]|<[a-z][a-z0-9]*>)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-]|<[a-z][a-z0-9]*>)/gi, P('id')],
  // Fingerprints: hex SHA-1/SHA-256 digests, bare or in openssl's colon form.
  [/(?<![\w:]|<[a-z][a-z0-9]*>)[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,}(?![\w:]|<[a-z][a-z0-9]*>)/g, P('fp')],
  [/(?<![\w+/]|<[a-z][a-z0-9]*>)[0-9A-Fa-f]{32,}(?![\w+/]|<[a-z][a-z0-9]*>)/g, P('fp')],
  // IPv6 before times: a full IPv6 address may hold what looks like 10:20:30.
  [new RegExp(`\\[${IPV6}\\]:${PORT}(?![\\w]|<[a-z][a-z0-9]*>)`, 'g'), P('address')],
  [new RegExp(`\\[${IPV6}\\]`, 'g'), `[${P('host')}]`],
  [new RegExp(`(?<![\\w:.]|<[a-z][a-z0-9]*>)${IPV6}(?![\\w:]|<[a-z][a-z0-9]*>)`, 'g'), P('host')],
  // Times: ISO 8601 and Go's time.Time (with its monotonic reading), Go's log date, Elasticsearch's comma.
  [/(?<![\w]|<[a-z][a-z0-9]*>)\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|\s?[+-]\d{2}:?\d{2})?(?: [A-Z]{2,5})?(?: m=[+-]\d+(?:\.\d+)?)?)?(?![\w]|<[a-z][a-z0-9]*>)/g, P('time')],
  [/(?<![\w:]|<[a-z][a-z0-9]*>)\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\w:]|<[a-z][a-z0-9]*>)/g, P('time')],
  // Addresses (a host or an IP with a port), then bare IPs and host names.
  [new RegExp(`(?<![\\w.:-]|<[a-z][a-z0-9]*>)(?:${IPV4}|<host>|(?:${LABEL}\\.)*${NOT_FILE}${LABEL}):${PORT}(?![\\w.]|<[a-z][a-z0-9]*>)`, 'g'), P('address')],
  // dante writes an address as IP.port (`10.0.0.9.51234`).
  [new RegExp(`(?<![\\w.-]|<[a-z][a-z0-9]*>)${IPV4}\\.\\d{1,5}(?![\\w.]|<[a-z][a-z0-9]*>)`, 'g'), P('address')],
  [new RegExp(`(?<![\\w.-]|<[a-z][a-z0-9]*>)${IPV4}(?![\\w]|[.-]+(?:\\w|<[a-z][a-z0-9]*>)|<[a-z][a-z0-9]*>)`, 'g'), P('host')],
  [new RegExp(`(?<![\\w.@/-]|<[a-z][a-z0-9]*>)(?:${LOWER_LABEL}\\.)+${NOT_FILE}[a-z]{2,24}(?![\\w-]|<[a-z][a-z0-9]*>|\\.\\w|\\.<[a-z][a-z0-9]*>)`, 'g'), P('host')],
  [/(?<![\w.-]|<[a-z][a-z0-9]*>)localhost(?![\w-]|<[a-z][a-z0-9]*>|\.\w|\.<[a-z][a-z0-9]*>)/g, P('host')],
  // Go's host name error lists the certificate's names, however many and whatever they are.
  [/\bcertificate is valid for (?:[^\s,]+, )*[^\s,]+, not [^\s,]+/g, `certificate is valid for ${P('host')}, not ${P('host')}`],
  [/\bbut wanted to match (?!<host>)[^\s,]+/g, `but wanted to match ${P('host')}`],
  // Absolute paths, POSIX and Windows (Elasticsearch's /127.0.0.1:9200 is an address by now).
  [/(?<![\w.:/-]|<[a-z][a-z0-9]*>)\/[\w.@%+~-]+(?:\/[\w.@%+~-]*)*/g, P('path')],
  [/\b[A-Za-z]:\\[^\s"'<>]+/g, P('path')],
  // Durations (`5s`, `10m0s`), after host names and paths, which may hold one (`0s.example`, `/7h`).
  [/(?<![\w./-]|<[a-z][a-z0-9]*>)\d+(?:\.\d+)?(?:ns|us|\u00B5s|ms|s|m|h)(?:\d+(?:\.\d+)?(?:ns|us|\u00B5s|ms|s|m|h))*(?![\w-]|<[a-z][a-z0-9]*>|\.\w|\.<[a-z][a-z0-9]*>)/g, P('time')],
  // Base64 (CA pins, service tokens, enrollment keys): long, with digits and both cases.
  [/(?<![\w+/-]|<[a-z][a-z0-9]*>)(?=[\w+/-]*\d)(?=[\w+/-]*[a-z])(?=[\w+/-]*[A-Z])[\w+/-]{20,}={0,2}(?![\w+/=]|<[a-z][a-z0-9]*>)/g, P('base64')],
  [/\btoken name \[(?!<)[^\]\s]+\]/g, `token name [${P('token')}]`],
  [/(?<![\w-]|<[a-z][a-z0-9]*>)token-\d+(?![\w]|<[a-z][a-z0-9]*>)/g, P('token')],
  [/(?<![\w.]|<[a-z][a-z0-9]*>)v?\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?(?![\w]|<[a-z][a-z0-9]*>|\.\d)/g, P('version')],
  [/(?<![\w.]|<[a-z][a-z0-9]*>)\d{4,}(?![\w.]|<[a-z][a-z0-9]*>)/g, P('num')],
  // nginx names its server block (`server: fleet.example.com`), empty when it matched none: which is configuration, not the failure.
  [/(, )server: [^\s,]*(?=, request: )/g, '$1server: '],
  [/\s+/g, ' '],
];

/** The line with what varies replaced by placeholders; never throws, idempotent. */
export function normalise(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement as string);
  return out.trim();
}

/** A scenario's template: `{any}` becomes the wildcard `<any>`, the rest is normalised like a line. */
export function normaliseTemplate(template: string): string {
  return normalise(template.replace(/\{any\}/g, P('any')));
}
