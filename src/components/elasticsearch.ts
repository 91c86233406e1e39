/**
 * The fake Elasticsearch: a TLS listener speaking JSSE's alerts and words on the handshake, with
 * the REST API of elasticsearch-api.ts behind it. (Over 250 lines: the JSSE judgement of each
 * handshake event sits with the listener it configures.)
 */
import { ALERT, alertName } from '../wire/alerts.js';
import { HarnessError } from '../errors.js';
import {
  DEFAULT_JSSE, handshakeFailure as jsseHandshakeFailure, JSSE_MAX_HANDSHAKE, jsseMalformedHandshake, jsseUnparsableCertificate, judgeClientCertificate, receivedAlert,
  unsupportedVersions, type JsseWording,
} from '../dialects/java.js';
import type { Cert } from '../x509/certificate.js';
import { DEFAULT_VERSIONS, type ClientAuthentication, type VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import { ComponentLog } from './log.js';
import { TlsListener } from './tls-listener.js';
import type { ServerConnection, ServerDialect } from './server-dialect.js';
import { jsseServerRecords } from '../dialects/jsse-records.js';
import { newElasticsearchState, responseParts, route, send, type ElasticsearchState } from './elasticsearch-api.js';
import type { DirectRequest } from '../load/direct-http.js';
import { exception } from './elasticsearch/errors.js';
import type { StoredDocument } from './elasticsearch/store.js';

/** Every setting of {@link FakeElasticsearch.start}; {@link startElasticsearch} fills them from a PKI. */
export interface ElasticsearchOptions {
  /** Its HTTPS certificate (es-cert), leaf first; intermediates in the chain are sent too. */
  readonly identity: Identity;
  readonly host?: string;
  /** 0 picks a free port; `serve` and `install` use 9200. */
  readonly port?: number;
  /** `xpack.security.http.ssl.client_authentication`; Elasticsearch's own default is none. */
  readonly clientAuthentication?: ClientAuthentication;
  /** CAs trusted for client certificates (es-ca by default in the harness). */
  readonly clientCertificateAuthorities?: readonly Cert[];
  readonly versions?: VersionRange;
  readonly serviceToken?: string;
  readonly version?: string;
  readonly nodeName?: string;
  /** Users for Basic authentication (name: password); `elastic` gets a new password when not given. */
  readonly users?: Readonly<Record<string, string>>;
  /** index.refresh_interval in ms (default 1000, Elasticsearch's); -1 leaves searches to explicit refreshes. */
  readonly refreshIntervalMs?: number;
  readonly log?: ComponentLog;
  readonly jsse?: JsseWording;
  /**
   * `http.read_timeout` (HttpTransportSettings; default 0: none): close a connection that sent
   * nothing for this long. Elasticsearch keeps idle and slowly-dribbling connections open otherwise.
   */
  readonly readTimeoutMs?: number;
  /** Serve without the record tap (load tests: Fleet Server's calls while agents enroll); see TlsListenerOptions.direct. */
  readonly direct?: boolean;
}

/** `http.max_content_length`'s default, 100mb. */
const MAX_CONTENT_LENGTH = 100 * 1024 * 1024;

const internalError = () => exception(500, { type: 'exception', reason: 'the fake Elasticsearch failed to answer' });

/** JSSE's server cipher order as Elasticsearch configures it (AES-256 first, server order wins). */
const JSSE_CIPHERS = [
  'TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * A fake Elasticsearch: HTTPS with Elasticsearch's client authentication modes, answering the
 * REST calls Fleet Server and the agent make, and logging TLS trouble the way Elasticsearch's
 * Netty HTTP transport does.
 */
export class FakeElasticsearch implements AsyncDisposable {
  readonly log: ComponentLog;
  readonly state: ElasticsearchState;
  private closing?: Promise<void>;

  private constructor(private readonly listener: TlsListener, state: ElasticsearchState, log: ComponentLog, private readonly host: string) {
    this.state = state;
    this.log = log;
  }

  /**
   * Listens (on 127.0.0.1 and a free port unless told otherwise) and resolves once it accepts connections.
   *
   * @example
   * ```ts
   * await using es = await FakeElasticsearch.start({
   *   identity: loadIdentity('es.crt', 'es.key'),
   *   clientAuthentication: 'required',
   *   clientCertificateAuthorities: loadCertificateAuthorities(['es-ca.crt']),
   * });
   * ```
   */
  static async start(options: ElasticsearchOptions): Promise<FakeElasticsearch> {
    const host = options.host ?? '127.0.0.1';
    const state = newElasticsearchState(options);
    const log = options.log ?? new ComponentLog('elasticsearch');
    const clientAuthentication = options.clientAuthentication ?? 'none';
    const trusted = options.clientCertificateAuthorities ?? [];
    if (clientAuthentication !== 'none' && trusted.length === 0) {
      throw new HarnessError('FTH_CONFIG_VALUE', 'elasticsearch: client authentication needs CAs to trust for client certificates');
    }
    const listener = await TlsListener.start({
      component: 'elasticsearch',
      host,
      port: options.port ?? 0,
      identity: options.identity,
      clientCertificateAuthorities: trusted,
      clientAuthentication,
      versions: options.versions ?? DEFAULT_VERSIONS,
      dialect: nettyDialect(state.nodeName, trusted, options.versions ?? DEFAULT_VERSIONS, options.jsse ?? DEFAULT_JSSE),
      log,
      timeouts: { kind: 'netty', readTimeoutMs: options.readTimeoutMs ?? 0 },
      ...(options.direct ? {
        direct: true,
        // The direct path's requests are small and whole: the same routes and the same bytes, without node:http.
        directHandler: (request: DirectRequest) => route(state, { method: request.method, uri: request.url, headers: request.headers, body: request.body })
          .then((reply) => responseParts(reply, request.headers.accept), () => responseParts(internalError())),
      } : {}),
      handler: (req, res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_CONTENT_LENGTH) chunks.push(chunk);
        });
        req.on('end', () => {
          // http.max_content_length: Netty refuses a larger body before any handler sees it.
          if (size > MAX_CONTENT_LENGTH) return send(res, { status: 413, body: undefined });
          const request = { method: req.method ?? 'GET', uri: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
          route(state, request).then((reply) => send(res, reply, req.headers.accept), () => send(res, internalError()));
        });
      },
    });
    log.write('info', `[INFO ][o.e.h.AbstractHttpServerTransport] [${state.nodeName}] publish_address {${host}:${listener.port}}, bound_addresses {${bracketed(host)}:${listener.port}}`);
    return new FakeElasticsearch(listener, state, log, host);
  }

  get port(): number {
    return this.listener.port;
  }

  /** Where to connect to it from this machine, whatever host name a URL gives. */
  get endpoint(): { host: string; port: number } {
    return this.listener.endpoint;
  }

  get url(): string {
    return `https://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get serviceToken(): string {
    return this.state.serviceToken;
  }

  /** The `elastic` superuser's password (given at start, or made up as auto-configuration does). */
  get password(): string {
    return this.state.users.get('elastic')!;
  }

  /**
   * What arrived in an index or data stream (its name, or a backing index's), refreshed or not,
   * in write order: what a test asserts after shipping.
   */
  documents(index: string): StoredDocument[] {
    return this.state.store.documents(index);
  }

  /** @internal The server side of the connection a client made from `localPort`. */
  connection(localPort: number | undefined): Promise<ServerConnection | undefined> {
    if (this.closing) return Promise.reject(new HarnessError('FTH_CLOSED', 'FakeElasticsearch.connection: the fake Elasticsearch was closed'));
    return this.listener.connection(localPort);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Stops listening and closes every connection; calling it again returns the same promise. */
  close(): Promise<void> {
    this.closing ??= this.listener.close();
    return this.closing;
  }

  /** `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Netty4HttpChannel's toString: Java's InetSocketAddress renderings with their leading slash. */
function channel(connection: ServerConnection): string {
  const java = (goStyle: string) => {
    const ipv6 = /^\[(.*)\]:(\d+)$/.exec(goStyle);
    return ipv6 ? `/[${expandIpv6(ipv6[1]!)}]:${ipv6[2]}` : `/${goStyle}`;
  };
  return `Netty4HttpChannel{localAddress=${java(connection.local)}, remoteAddress=${java(connection.remote)}}`;
}

function expandIpv6(address: string): string {
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

function nettyDialect(node: string, trusted: readonly Cert[], versions: VersionRange, jsse: JsseWording): ServerDialect {
  // JSSE names what it accepts, newest first.
  const accepted = (['1.3', '1.2'] as const).filter((v) => v >= versions.min && v <= versions.max).map((v) => `TLSv${v}`);
  const warn = (logger: string, message: string) => `[WARN ][${logger}] [${node}] ${message}`;
  const caught = (connection: ServerConnection, exception: string) =>
    `${warn('o.e.h.AbstractHttpServerTransport', `caught exception while handling client http traffic, closing connection ${channel(connection)}`)}\n` +
    `io.netty.handler.codec.DecoderException: ${exception}`;
  return {
    ciphers: JSSE_CIPHERS,
    verifyClient: (chain, tls13, clientAuthentication) => judgeClientCertificate(chain, clientAuthentication === 'required', trusted, new Date(), { wording: jsse, tls13 }),
    notTls: (_first, connection) => ({
      // Netty rejects the record before JSSE sees it, closes, and answers nothing.
      log: warn('o.e.h.n.Netty4HttpServerTransport', `received plaintext http traffic on an https channel, closing connection ${channel(connection)}`),
    }),
    handshakeLimit: () => JSSE_MAX_HANDSHAKE,
    records: jsseServerRecords(jsse),
    ownRefusal(alert, connection) {
      if (alert !== ALERT.missing_extension) return null;
      // JSSE names the extension it missed (SignatureScheme and SupportedGroups/KeyShare consumers,
      // checked against OpenJDK 17 in test/integration/jsse-records.test.ts).
      const has = new Set(connection.tap.clientHelloExtensions);
      const message = !has.has(13) ? 'No mandatory signature_algorithms extension in the received ClientHello handshake message'
        : !has.has(51) && has.has(10) ? 'No key_share extension to work with the supported_groups extension'
          : !has.has(10) && has.has(51) ? 'No supported_groups extension to work with the key_share extension' : undefined;
      return message ? jsseHandshakeFailure(ALERT.missing_extension, message, jsse) : null;
    },
    malformed: (fault) => jsseMalformedHandshake(fault, jsse),
    unparsableCertificate: (parseError) => jsseUnparsableCertificate(parseError, jsse),
    handshakeFailure(connection) {
      const tap = connection.tap;
      if (tap.rejection?.by === 'server') {
        const chain = (tap.rejection.error as { chain?: readonly string[] }).chain ?? [tap.rejection.error.message];
        // SecurityHttpExceptionHandler logs a close during the handshake only at DEBUG.
        if (chain[0]!.endsWith('Received close_notify during handshake')) return undefined;
        return caught(connection, chain[0]!);
      }
      const fromClient = tap.alerts.find((a) => a.sender === 'client' && a.description !== ALERT.close_notify);
      if (fromClient?.description === ALERT.certificate_unknown && jsse === 'jdk17') {
        return warn('o.e.h.n.Netty4HttpServerTransport', `http client did not trust this server's certificate, closing connection ${channel(connection)}`);
      }
      if (fromClient) return caught(connection, receivedAlert(fromClient.description, jsse).message);
      const ours = tap.alerts.find((a) => a.sender === 'server' && !a.emulated);
      if (ours?.description === ALERT.protocol_version) {
        return caught(connection, unsupportedVersions(tap.offeredVersions, accepted, jsse).message);
      }
      if (ours) return caught(connection, `javax.net.ssl.SSLHandshakeException: ${alertName(ours.description)}`);
      // A peer that closes mid-handshake is logged only at DEBUG (`closed during ssl handshake`).
      return undefined;
    },
  };
}
