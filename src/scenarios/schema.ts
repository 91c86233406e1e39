import { createRequire } from 'node:module';
import type { z as Z } from 'zod';

export { LEG_KEYS, type LegKey } from './leg-keys.js';

/**
 * The catalog's file format (harness/README.md documents it for users). A scenario starts
 * from a flow (an install command of Elastic's page), changes flags and certificates, and
 * says what each leg must show.
 * (Over 250 lines: the whole file format as one schema, in the order harness/README.md documents it.)
 */

/** The schemas, built with the zod `z` passes in (see {@link scenarioSchemas}). */
function build(z: typeof Z) {
  const duration = z.string().regex(/^[+-]?\d+[smhd]$/, 'a duration such as -1d, +30d, 12h');
  const leafBase = z.enum(['fleet-cert', 'agent-cert', 'es-cert', 'fleet-es-cert']);

  /** A certificate made for the scenario: a variant of a PKI leaf, or a CA of its own. */
  const CertificateVariant = z.strictObject({
    /** The leaf it varies: its issuer, names, usage and key, unless changed below. */
    from: leafBase.optional(),
    /** A new self-signed CA instead of a leaf. */
    ca: z.literal(true).optional(),
    /** fleet-ca, agent-ca, es-ca, or a CA defined in the same scenario. */
    issuer: z.string().optional(),
    commonName: z.string().optional(),
    dnsNames: z.array(z.string()).optional(),
    ipAddresses: z.array(z.string()).optional(),
    /** false: the names go in the Common Name only, with no subjectAltName extension. */
    subjectAltName: z.boolean().optional(),
    notBefore: duration.optional(),
    notAfter: duration.optional(),
    extendedKeyUsage: z.union([z.array(z.enum(['serverAuth', 'clientAuth'])), z.literal('none')]).optional(),
    keyType: z.enum(['rsa', 'ecdsa']).optional(),
    /** Another certificate's key (a PKI leaf or one of the scenario's): the key then does not match. */
    keyOf: z.string().optional(),
    /** How the key file is written (default: encrypted PKCS#8 for agent-cert variants, PKCS#8 otherwise). */
    keyFormat: z.enum(['pkcs8', 'pkcs8-encrypted', 'pkcs1', 'legacy-encrypted']).optional(),
    /** For `ca: true`: false issues it with CA:FALSE, a certificate that signs others without the right to. */
    isCA: z.boolean().optional(),
    /** For `ca: true`: basicConstraints pathLenConstraint, how many intermediates may follow it. */
    pathLength: z.number().int().min(0).optional(),
    /** For `ca: true`: nameConstraints (critical); DNS names cover their subdomains, IPs are CIDR ranges. */
    nameConstraints: z.strictObject({
      permittedDns: z.array(z.string().min(1)).optional(),
      excludedDns: z.array(z.string().min(1)).optional(),
      permittedIps: z.array(z.string().regex(/^[\d.:a-fA-F]+\/\d{1,3}$/, 'an IP range such as 10.0.0.0/8')).optional(),
      excludedIps: z.array(z.string().regex(/^[\d.:a-fA-F]+\/\d{1,3}$/, 'an IP range such as 10.0.0.0/8')).optional(),
    }).optional(),
    /** An extension of this OID marked critical, which no verifier knows (Go: `x509: unhandled critical extension`). */
    criticalExtension: z.string().regex(/^\d+(\.\d+)+$/, 'an OID such as 1.3.6.1.4.1.99999.1').optional(),
    /** 1: an X.509 v1 certificate, without any extension (`openssl x509 -req` without `-extfile` before OpenSSL 3). */
    version: z.literal(1).optional(),
    /** What the .crt file holds: the leaf alone, with its intermediates (default), or up to the root. */
    chain: z.enum(['leaf', 'with-intermediates', 'with-root']).optional(),
  }).refine((v) => Boolean(v.from) !== Boolean(v.ca), { message: 'a certificate is either `from` a PKI leaf or `ca: true`' });

  /** A passphrase file made for the scenario; the PKI's passphrase unless `value` is given. */
  const PassphraseFile = z.strictObject({
    value: z.string().optional(),
    /** As `echo` writes it: the agent reads the file untrimmed, so the newline is part of the passphrase. */
    trailingNewline: z.boolean().optional(),
  });

  /**
   * A file made for the scenario as it is, read through `/path/to/<name>` (the exact name wins over
   * the `.crt`/`.key` mapping): a component's file gone wrong.
   */
  const MadeFile = z.strictObject({
    /** A certificate's DER bytes, as `openssl x509 -outform der` or a Windows export writes them, instead of PEM. */
    derOf: z.string().min(1).optional(),
    /** This text; empty for an empty file. */
    text: z.string().optional(),
  }).refine((f) => (f.derOf === undefined) !== (f.text === undefined), { message: 'a file has either `derOf` or `text`' });

  const protocols = z.array(z.enum(['TLSv1.2', 'TLSv1.3'])).min(1);
  const verificationMode = z.enum(['full', 'strict', 'certificate', 'none']);

  /** The ssl settings of a Go client of elastic-agent-libs, beyond what install flags say. */
  const GoClientSettings = z.strictObject({
    'ssl.verification_mode': verificationMode.optional(),
    'ssl.supported_protocols': protocols.optional(),
  });

  /**
   * Component settings that install flags do not reach, in each component's own configuration
   * names, plus the harness's `client` knobs.
   */
  /** A Go or Elasticsearch duration as these settings take it: `250ms`, `60s`, `1m`. */
  const timeout = z.string().regex(/^\d+(ms|s|m)$/, 'a duration such as 250ms, 60s, 1m');
  const networkFault = z.enum(['refused', 'silent']);

  const Settings = z.strictObject({
    /** The agent's `fleet.ssl` (its connection to Fleet Server). */
    agent: GoClientSettings.extend({
      /**
       * `go` (default): withhold a certificate whose issuer the server does not list, as Go does.
       * `always`: send it anyway, as curl and OpenSSL clients do.
       */
      'client.send_certificate': z.enum(['go', 'always']).optional(),
      /** true: connect and send nothing, as a load balancer's TCP health check does. */
      'client.stall': z.boolean().optional(),
      /** Its fleet client's `timeout` (http.Client.Timeout; the agent's default is 10m). */
      timeout: timeout.optional(),
    }).optional(),
    'fleet-server': z.strictObject({
      'server.ssl.supported_protocols': protocols.optional(),
      /** `unset`: CAs configured without the key, which libs reads as required. */
      'server.ssl.client_authentication': z.enum(['none', 'optional', 'required', 'unset']).optional(),
      'output.elasticsearch.ssl.verification_mode': verificationMode.optional(),
      'output.elasticsearch.ssl.supported_protocols': protocols.optional(),
      /** Whether the listener speaks TLS at all (`--fleet-server-insecure-http` makes it false). */
      'server.tls': z.boolean().optional(),
      /** How long a client may take over its handshake and request, as Go durations read: `250ms`, `60s`. */
      'server.timeouts.read': timeout.optional(),
      /** The rest of fleet-server's `server.timeouts` (Go http.Server ReadHeaderTimeout, IdleTimeout, WriteTimeout). */
      'server.timeouts.read_header': timeout.optional(),
      'server.timeouts.idle': timeout.optional(),
      'server.timeouts.write': timeout.optional(),
      /** Its Elasticsearch transport's ResponseHeaderTimeout (default 90s). */
      'output.elasticsearch.timeout': timeout.optional(),
    }).optional(),
    elasticsearch: z.strictObject({
      'xpack.security.http.ssl.supported_protocols': protocols.optional(),
      /** false: Elasticsearch does not know Fleet Server's service token (deleted, or from another cluster). */
      knows_service_token: z.boolean().optional(),
      /** Close a connection that sent nothing for this long (Netty's ReadTimeoutHandler); Elasticsearch's default is none. */
      'http.read_timeout': timeout.optional(),
    }).optional(),
    /**
     * What a client finds where its URL points instead of the component, per leg: `refused` (the
     * port is closed) or `silent` (the TLS handshake completes, the request is never answered).
     */
    network: z.strictObject({
      'agent->fleet-server': networkFault.optional(),
      'fleet-server->elasticsearch': networkFault.optional(),
      'agent->elasticsearch': networkFault.optional(),
    }).optional(),
  });

  /** The Elasticsearch output of the agent's policy (Kibana: Fleet → Settings → Outputs). */
  const Output = z.strictObject({
    hosts: z.array(z.url()).min(1).optional(),
    /** Paths or `/path/to/<name>` placeholders; read by the harness and handed to the agent inline, as Kibana does. */
    'ssl.certificate_authorities': z.array(z.string()).nullable().optional(),
    'ssl.verification_mode': verificationMode.nullable().optional(),
    'ssl.ca_trusted_fingerprint': z.string().nullable().optional(),
    'ssl.certificate': z.string().nullable().optional(),
    'ssl.key': z.string().nullable().optional(),
    'ssl.supported_protocols': protocols.nullable().optional(),
    /** The output's proxy (Fleet → Settings → Proxies): agents and Fleet Server's output test go through it. */
    proxy_url: z.string().nullable().optional(),
    proxy_headers: z.record(z.string(), z.string()).nullable().optional(),
    proxy_disable: z.boolean().nullable().optional(),
    /** libbeat's `timeout` (http.Client.Timeout; default 90s). */
    timeout: timeout.nullable().optional(),
  });

  /** A value, or one value per TLS version; a wrong value says what the plain form wanted. */
  const perVersion = <T extends Z.ZodType>(schema: T) =>
    z.union([schema, z.strictObject({ '1.2': schema, '1.3': schema })], {
      error: (issue) => {
        const first = (issue as { errors?: Array<Array<{ message: string }>> }).errors?.[0]?.[0]?.message ?? 'Invalid input';
        return `${first} (or one value per TLS version: { '1.2': ..., '1.3': ... })`;
      },
    });

  const LegExpectation = z.strictObject({
    ok: perVersion(z.boolean()),
    rejectedBy: perVersion(z.enum(['client', 'server']).nullable()).optional(),
    phase: perVersion(z.enum(['connect', 'handshake', 'after-handshake', 'http']).nullable()).optional(),
    alert: perVersion(z.string().nullable()).optional(),
    clientCertificatePresented: perVersion(z.boolean()).optional(),
    /** Not attempted, and why (e.g. Fleet Server never became healthy). */
    skipped: z.boolean().optional(),
    /** Each component's line; `{address}` stands for an IP:port, `{any}` for any text. */
    logs: z.strictObject({
      agent: perVersion(z.string()).optional(),
      'fleet-server': perVersion(z.string()).optional(),
      elasticsearch: perVersion(z.string()).optional(),
      proxy: perVersion(z.string()).optional(),
    }).optional(),
  });


  const ScenarioFile = z.strictObject({
    /** Matches the file name; what `fleet-tls run ID` takes. */
    id: z.string().regex(/^[a-z0-9]+(?:[.-][a-z0-9]+)*$/, 'lowercase words joined by . and -'),
    title: z.string().min(1),
    /** The base install command, from harness/flows/<flow>.yaml. */
    flow: z.string().min(1),
    description: z.string().optional(),
    /** What is wrong, in a sentence a support engineer would say to the customer. */
    cause: z.string().min(1).optional(),
    /** The fix, in install-flag (or policy) terms. */
    fix: z.string().min(1).optional(),
    /** Which releases' wording the expected logs follow, where older releases worded it differently. */
    emulates: z.string().min(1).optional(),
    /**
     * The same failure as other releases (or modes) word it, as log templates (`{address}`,
     * `{any}`): `fleet-tls explain` matches them a little below the current wording and says so.
     */
    alsoSeenAs: z.array(z.string().min(1)).optional(),
    /** Install flags to set (a string or true) or remove (null), in the agent's own names without `--`. */
    flags: z.record(z.string(), z.union([z.string(), z.boolean(), z.null()])).optional(),
    certificates: z.record(z.string().regex(/^[a-z0-9-]+$/), CertificateVariant).optional(),
    passphraseFiles: z.record(z.string().regex(/^[a-z0-9-]+$/), PassphraseFile).optional(),
    files: z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/), MadeFile).optional(),
    settings: Settings.optional(),
    /** Changes to the flow's output (null removes a setting). */
    output: Output.optional(),
    /** The TLS versions it runs under (default both). */
    tls: z.array(z.enum(['1.2', '1.3'])).min(1).optional(),
    expect: z.strictObject({
      /** A proxy in the path: the agent's hop to it, then the proxy's to Fleet Server. */
      'agent->proxy': LegExpectation.optional(),
      'proxy->fleet-server': LegExpectation.optional(),
      /** Absent only where a secure proxy stands between the agent and Fleet Server. */
      'agent->fleet-server': LegExpectation.optional(),
      /** Absent only where a secure proxy stands between Fleet Server and Elasticsearch. */
      'fleet-server->elasticsearch': LegExpectation.optional(),
      /** A secure proxy in front of Elasticsearch: Fleet Server's hop to it, then the proxy's to Elasticsearch. */
      'fleet-server->proxy': LegExpectation.optional(),
      'proxy->elasticsearch': LegExpectation.optional(),
      /** After the policy took over: the agent's next checkin with the policy's Fleet Server settings (through its proxy, if any). */
      'agent->proxy (policy)': LegExpectation.optional(),
      'agent->fleet-server (policy)': LegExpectation.optional(),
      /** Behind a secure or intercepting proxy the agent's policy connection ends at the proxy: the proxy's own hop to Fleet Server. */
      'proxy->fleet-server (policy)': LegExpectation.optional(),
      /** Fleet Server's test of its policy's output (merged with the keys missing from its bootstrap). */
      'fleet-server->elasticsearch (policy)': LegExpectation.optional(),
      /** The same test behind a secure proxy in front of Elasticsearch: Fleet Server's hop to the proxy, then the proxy's. */
      'fleet-server->proxy (policy)': LegExpectation.optional(),
      'proxy->elasticsearch (policy)': LegExpectation.optional(),
      /** The agent's output: it ships data to Elasticsearch with the policy's ssl settings. */
      'agent->elasticsearch': LegExpectation.optional(),
    }).refine((legs) => legs['fleet-server->elasticsearch'] !== undefined || legs['fleet-server->proxy'] !== undefined, {
      path: ['fleet-server->elasticsearch'],
      message: 'required (fleet-server->proxy in its place, behind a secure proxy in front of Elasticsearch)',
    }),
    /** Where the scenario's facts come from (reference files, issues, recordings). */
    sources: z.array(z.string()).optional(),
  });


  const FlowFile = z.strictObject({
    title: z.string(),
    description: z.string().optional(),
    /** The `elastic-agent install` arguments, one per item, as on Elastic's page. */
    command: z.array(z.string().startsWith('-')).min(1),
    /** The Elasticsearch output Fleet hands the agent in its policy. */
    output: Output.optional(),
  });

  return { CertificateVariant, PassphraseFile, MadeFile, Settings, Output, LegExpectation, ScenarioFile, FlowFile };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/**
 * The file format's schemas. zod is loaded and the schemas built on first use: a run of the
 * built-in catalog takes its files precompiled (precompiled.ts) and never needs them, and
 * loading zod was a third of every thread's start.
 */
export function scenarioSchemas(): Schemas {
  return (built ??= build(createRequire(import.meta.url)('zod') as typeof Z));
}

/** A scenario file, validated (harness/README.md documents every key). */
export type ScenarioData = Z.infer<Schemas['ScenarioFile']>;
export type LegExpectationData = Z.infer<Schemas['LegExpectation']>;
export type CertificateVariantData = Z.infer<Schemas['CertificateVariant']>;
export type SettingsData = Z.infer<Schemas['Settings']>;
export type OutputData = Z.infer<Schemas['Output']>;
export type PassphraseFileData = Z.infer<Schemas['PassphraseFile']>;
export type MadeFileData = Z.infer<Schemas['MadeFile']>;

/** A flow file, validated: the install command every scenario of the flow starts from. */
export type FlowData = Z.infer<Schemas['FlowFile']>;
