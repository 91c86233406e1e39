import { Command, Option, CommanderError } from 'commander';
import { HarnessError, oneLine } from '../errors.js';
import { POLICY_FLAG_SPECS } from './policy-flags.js';

/**
 * The flags of `elastic-agent install` that touch TLS, with their real meaning, and the
 * harness's own flags for the fake Elasticsearch (Elastic's command does not configure it).
 * Descriptions are ours; names, shorthands and value shapes are the agent's.
 */
interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly kind: 'string' | 'boolean';
  readonly description: string;
  /** Accepted so a real command line parses, but it changes nothing the harness emulates. */
  readonly inert?: boolean;
}

export const AGENT_FLAGS: readonly FlagSpec[] = [
  { name: 'url', kind: 'string', description: 'Fleet Server URL the agent enrolls through' },
  { name: 'enrollment-token', short: 't', kind: 'string', description: 'enrollment API key (default: the fake Fleet Server policy\'s own)' },
  { name: 'certificate-authorities', short: 'a', kind: 'string', description: 'comma-separated CA files: the agent trusts them for Fleet Server, and Fleet Server trusts them for agent client certificates' },
  { name: 'ca-sha256', short: 'p', kind: 'string', description: 'comma-separated CA pins: base64 SHA-256 of a CA public key (SPKI)' },
  { name: 'insecure', short: 'i', kind: 'boolean', description: 'agent skips verifying Fleet Server (verification_mode none); does not touch Fleet Server to Elasticsearch' },
  { name: 'elastic-agent-cert', kind: 'string', description: 'agent client certificate for mutual TLS with Fleet Server' },
  { name: 'elastic-agent-cert-key', kind: 'string', description: 'private key of --elastic-agent-cert' },
  { name: 'elastic-agent-cert-key-passphrase', kind: 'string', description: 'path of a file holding the passphrase of --elastic-agent-cert-key (read as-is: a trailing newline is part of it)' },
  { name: 'fleet-server-es', kind: 'string', description: 'Elasticsearch URL Fleet Server connects to' },
  { name: 'fleet-server-es-ca', kind: 'string', description: 'CA Fleet Server trusts for Elasticsearch' },
  { name: 'fleet-server-es-ca-trusted-fingerprint', kind: 'string', description: 'hex SHA-256 of the Elasticsearch CA certificate (it must be in the chain Elasticsearch sends)' },
  { name: 'fleet-server-es-insecure', kind: 'boolean', description: 'Fleet Server skips verifying Elasticsearch' },
  { name: 'fleet-server-es-cert', kind: 'string', description: 'client certificate Fleet Server presents to Elasticsearch' },
  { name: 'fleet-server-es-cert-key', kind: 'string', description: 'private key of --fleet-server-es-cert' },
  { name: 'fleet-server-cert', kind: 'string', description: 'certificate Fleet Server presents to agents (absent: a self-signed one for this host, as the agent makes)' },
  { name: 'fleet-server-cert-key', kind: 'string', description: 'private key of --fleet-server-cert' },
  { name: 'fleet-server-cert-key-passphrase', kind: 'string', description: 'path of a file holding the passphrase of --fleet-server-cert-key' },
  { name: 'fleet-server-insecure-http', kind: 'boolean', description: 'Fleet Server listens on plain HTTP, without TLS (for use behind a TLS-terminating proxy)' },
  { name: 'fleet-server-client-auth', kind: 'string', description: 'none, optional or required: whether Fleet Server asks agents for a client certificate (default none)' },
  { name: 'fleet-server-service-token', kind: 'string', description: 'service token Fleet Server sends to Elasticsearch (the fake Elasticsearch accepts it)' },
  { name: 'fleet-server-service-token-path', kind: 'string', description: 'file holding the service token' },
  { name: 'fleet-server-policy', kind: 'string', description: 'Fleet Server policy id' },
  { name: 'fleet-server-host', kind: 'string', description: 'address the fake Fleet Server binds (default 127.0.0.1; the real default is 0.0.0.0)' },
  { name: 'fleet-server-port', kind: 'string', description: 'port the fake Fleet Server binds (default 8220)' },
  { name: 'fleet-server-timeout', kind: 'string', description: 'how long the agent waits for Fleet Server', inert: true },
  { name: 'enroll-timeout', kind: 'string', description: 'how long enrollment retries', inert: true },
  { name: 'proxy-url', kind: 'string', description: 'proxy the agent dials Fleet Server through: http:// or https:// (CONNECT, credentials as user:pass@) or socks5://; the harness runs a fake one there. Unused while the agent bootstraps its own Fleet Server (--fleet-server-es), as the real agent does' },
  { name: 'proxy-header', kind: 'string', description: 'header k=v sent to the proxy on CONNECT (repeatable, comma-separated pairs)' },
  { name: 'proxy-disabled', kind: 'boolean', description: 'ignore --proxy-url and the proxy environment variables' },
  { name: 'header', kind: 'string', description: 'extra request header k=v', inert: true },
  { name: 'force', short: 'f', kind: 'boolean', description: 'install without asking', inert: true },
  { name: 'non-interactive', short: 'n', kind: 'boolean', description: 'install without prompts', inert: true },
  { name: 'tag', kind: 'string', description: 'agent tags', inert: true },
  { name: 'delay-enroll', kind: 'boolean', description: 'enroll on first start', inert: true },
  { name: 'unprivileged', kind: 'boolean', description: 'install as an unprivileged user', inert: true },
];

export const HARNESS_FLAGS: readonly FlagSpec[] = [
  { name: 'certs', kind: 'string', description: 'PKI directory the fakes fall back on, and where /path/to/<name> placeholders point (default certs/)' },
  { name: 'es-cert', kind: 'string', description: 'certificate of the fake Elasticsearch (default: es-cert from --certs)' },
  { name: 'es-cert-key', kind: 'string', description: 'its private key (default: es-cert.key from --certs)' },
  { name: 'es-keystore', kind: 'string', description: 'PKCS#12 keystore of the fake Elasticsearch instead of --es-cert/--es-cert-key (elastic-certificates.p12, http.p12), read as Java reads it' },
  { name: 'es-keystore-password', kind: 'string', description: 'its password (default empty, as certutil allows)' },
  { name: 'es-client-ca', kind: 'string', description: 'comma-separated CAs the fake Elasticsearch trusts for client certificates, PEM, DER or a PKCS#12 with certificate entries (default: es-ca from --certs)' },
  { name: 'es-client-auth', kind: 'string', description: 'none, optional or required (default optional, so --fleet-server-es-cert is exercised when given)' },
  { name: 'tls', kind: 'string', description: 'TLS version the fake servers accept: 1.2, 1.3 or both (default both)' },
  { name: 'secure-proxy', kind: 'boolean', description: 'put a TLS-terminating proxy (nginx-like) in front of Fleet Server (--url names it) or Elasticsearch (--fleet-server-es names it, --fleet-server-es-ca is then its CA)' },
  { name: 'secure-proxy-in-front-of', kind: 'string', description: 'fleet-server (default) or elasticsearch: the component the secure proxy forwards to' },
  { name: 'secure-proxy-cert', kind: 'string', description: 'certificate the secure proxy presents (ssl_certificate; default: fleet-cert, or es-cert in front of Elasticsearch, from --certs)' },
  { name: 'secure-proxy-cert-key', kind: 'string', description: 'its private key (ssl_certificate_key)' },
  { name: 'secure-proxy-client-auth', kind: 'string', description: 'none, optional or required: ssl_verify_client off, optional or on (default none)' },
  { name: 'secure-proxy-client-ca', kind: 'string', description: 'comma-separated CAs the secure proxy trusts for client certificates (ssl_client_certificate; default: agent-ca from --certs)' },
  { name: 'secure-proxy-upstream-ca', kind: 'string', description: 'CA the secure proxy verifies its upstream with (proxy_ssl_verify on, proxy_ssl_trusted_certificate); absent: it does not verify, as nginx by default' },
  { name: 'secure-proxy-upstream-cert', kind: 'string', description: 'client certificate the secure proxy presents upstream (proxy_ssl_certificate), for a Fleet Server or Elasticsearch that asks for one' },
  { name: 'secure-proxy-upstream-cert-key', kind: 'string', description: 'its private key (proxy_ssl_certificate_key)' },
  { name: 'secure-proxy-upstream-name', kind: 'string', description: 'name the secure proxy checks the upstream certificate for (proxy_ssl_name; default localhost)' },
  { name: 'secure-proxy-upstream-scheme', kind: 'string', description: 'http or https: proxy_pass\'s scheme, when it differs from what the upstream speaks (default: what it speaks)' },
  { name: 'proxy-serves', kind: 'string', description: 'what really listens at --proxy-url: http (a CONNECT proxy), https (one over TLS), socks5, or none (nothing: a refused proxy); default: a proxy of the URL\'s scheme' },
  { name: 'proxy-allow-ports', kind: 'string', description: 'comma-separated target ports the fake --proxy-url proxy lets a tunnel reach (tinyproxy\'s ConnectPort, a dante socks pass rule); others get 403, or a SOCKS ruleset refusal (default: every port)' },
  { name: 'proxy-cert', kind: 'string', description: 'certificate an https fake --proxy-url proxy presents (default: fleet-cert from --certs, which the agent\'s CAs already trust)' },
  { name: 'proxy-cert-key', kind: 'string', description: 'its private key' },
  { name: 'proxy-intercept', kind: 'boolean', description: 'the --proxy-url proxy intercepts TLS (squid ssl-bump-like): it answers CONNECT, presents a certificate it mints for the host, signed by its root, and opens its own TLS to Fleet Server' },
  { name: 'proxy-intercept-ca', kind: 'string', description: 'root CA certificate the intercepting proxy signs with (default: one it makes; add it to --certificate-authorities to trust it)' },
  { name: 'proxy-intercept-ca-key', kind: 'string', description: 'private key of --proxy-intercept-ca' },
  { name: 'proxy-intercept-upstream-ca', kind: 'string', description: 'comma-separated CAs the intercepting proxy verifies Fleet Server with (default: the system roots, as squid\'s tls_outgoing_options)' },
  { name: 'proxy-intercept-cert', kind: 'string', description: 'client certificate the intercepting proxy presents to Fleet Server when asked (default: none)' },
  { name: 'proxy-intercept-cert-key', kind: 'string', description: 'private key of --proxy-intercept-cert' },
  { name: 'health-check', kind: 'string', description: 'tcp, tls or http: a load balancer probes Fleet Server this way before the agent enrolls (tcp: connect and close, which Fleet Server logs as a TLS handshake error, EOF)' },
  { name: 'health-check-interval', kind: 'string', description: 'time between health-check probes, a Go duration (default 5s; scenarios use milliseconds)' },
  { name: 'health-check-count', kind: 'string', description: 'how many probes run before the agent enrolls (default 2)' },
  { name: 'proxy-target-refused', kind: 'boolean', description: 'the fake --proxy-url proxy cannot reach Fleet Server: its own dial is refused (nothing listens there)' },
  { name: 'proxy-parent-refused', kind: 'boolean', description: 'the fake --proxy-url proxy sends CONNECT on through a parent proxy (tinyproxy\'s Upstream) that refuses it: the agent gets 502 "Unable to connect to upstream proxy"' },
  { name: 'proxy-require-auth', kind: 'string', description: 'user:pass the fake --proxy-url proxy, and any proxy of the policy, demands (default: the URL\'s own credentials, if any); others get 407, or a SOCKS5 authentication failure' },
  ...POLICY_FLAG_SPECS,
  { name: 'json', kind: 'boolean', description: 'print { ok, legs } as JSON' },
];

export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | boolean>>;
  /** Flags given more than once, with every value in order (pflag keeps the last). */
  readonly repeated: Readonly<Record<string, readonly string[]>>;
  readonly inert: readonly string[];
}

/** Parses an install command line as the agent's pflag does: `--a=b`, `--a b`, `-a b`, `-a=b`, `--bool=false`; last value wins. */
export function parseInstallFlags(argv: readonly string[]): ParsedFlags {
  const seen = new Map<string, string[]>();
  const command = new Command('install').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }).allowExcessArguments(false);
  for (const spec of SPECS) {
    const flags = `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}${spec.kind === 'string' ? ' <value>' : ''}`;
    const option = new Option(flags, spec.description);
    if (spec.kind === 'string') {
      option.argParser((value: string) => {
        seen.set(spec.name, [...(seen.get(spec.name) ?? []), value]);
        return value;
      });
    }
    command.addOption(option);
  }
  const { args, booleans } = pflagForms(argv);
  try {
    command.parse(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new HarnessError('FTH_USAGE', oneLine(error.message));
    throw error;
  }
  const values: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(command.opts<Record<string, string | boolean>>())) {
    values[key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value;
  }
  for (const [name, value] of booleans) values[name] = value;
  const repeated = Object.fromEntries([...seen].filter(([, list]) => list.length > 1));
  const inert = [...AGENT_FLAGS].filter((f) => f.inert && values[f.name] !== undefined && values[f.name] !== false).map((f) => `--${f.name}`);
  return { values, repeated, inert };
}

const SPECS = [...AGENT_FLAGS, ...HARNESS_FLAGS];
const BY_SHORT = new Map(SPECS.filter((f) => f.short).map((f) => [f.short!, f]));
const BY_NAME = new Map(SPECS.map((f) => [f.name, f]));
/** strconv.ParseBool's spellings, which pflag accepts after `=`. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Takes out what commander does not read as pflag does: every boolean flag (`--insecure`,
 * `-i`, `--insecure=false`; the last occurrence wins) and `-a=value` for a string shorthand.
 */
function pflagForms(argv: readonly string[]): { args: string[]; booleans: Map<string, boolean> } {
  const args: string[] = [];
  const booleans = new Map<string, boolean>();
  let valueNext = false;
  for (const argument of argv) {
    const match = /^(--?)([^=]+)(?:=(.*))?$/s.exec(argument);
    const spec = match ? (match[1] === '--' ? BY_NAME.get(match[2]!) : BY_SHORT.get(match[2]!)) : undefined;
    if (valueNext || !match || !spec) {
      // A string flag without `=` takes the next argument, whatever it looks like.
      args.push(argument);
      valueNext = false;
    } else if (spec.kind === 'string') {
      args.push(`--${spec.name}`, ...(match[3] === undefined ? [] : [match[3]]));
      valueNext = match[3] === undefined;
    } else {
      const value = match[3];
      if (value === undefined || TRUE.has(value)) booleans.set(spec.name, true);
      else if (FALSE.has(value)) booleans.set(spec.name, false);
      else throw new HarnessError('FTH_USAGE', `invalid argument "${value}" for "${match[1]}${match[2]}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
    }
  }
  return { args, booleans };
}
