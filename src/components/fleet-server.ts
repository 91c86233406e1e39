import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { DEFAULT_GO, type GoRelease } from '../dialects/go.js';
import type { Cert } from '../x509/certificate.js';
import { DEFAULT_VERSIONS, type ClientAuthentication, type VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import { GoTransport, goRequest, type GoClientTls, type GoExchange } from './go-client.js';
import { goServerDialect } from './go-server.js';
import { ComponentLog } from './log.js';
import { TlsListener, type ServerConnection } from './tls-listener.js';
import { fleetRoutes, type FleetRouteContext } from './fleet-server-api.js';
import type { PolicyOutput } from './output.js';
import { ElasticsearchPool } from './fleet-server-es-pool.js';

/** elastic-agent-client unit states, uppercase as Fleet Server reports them. */
export type FleetServerState = 'STARTING' | 'HEALTHY' | 'DEGRADED' | 'FAILED' | 'STOPPING' | 'STOPPED';

export interface FleetServerOptions {
  /** --fleet-server-cert / --fleet-server-cert-key. */
  readonly identity: Identity;
  readonly host?: string;
  /** --fleet-server-port; 0 picks a free port. */
  readonly port?: number;
  /** --certificate-authorities: also the CAs Fleet Server trusts for client certificates. */
  readonly certificateAuthorities?: readonly Cert[];
  /** --fleet-server-client-auth; defaults to none, as the agent CLI does. */
  readonly clientAuthentication?: ClientAuthentication;
  readonly versions?: VersionRange;
  /** `server.timeouts.read`: how long a client may take to send its handshake and request (default 10 s here; Fleet Server's own default is longer). */
  readonly readTimeoutMs?: number;
  /** false: plain HTTP, as with --fleet-server-insecure-http. */
  readonly tls?: boolean;
  /** --fleet-server-es, its TLS settings (--fleet-server-es-ca, -cert, -insecure) and the service token. */
  readonly elasticsearch: {
    readonly url: string;
    readonly tls: GoClientTls;
    readonly serviceToken: string;
    /** Where Elasticsearch really listens, when the URL names a host that only exists in the customer's network. */
    readonly connectTo?: { readonly host: string; readonly port: number };
  };
  /** The Elasticsearch output handed to agents in their policy (hosts and ssl). */
  readonly output?: PolicyOutput & { readonly hosts: readonly string[] };
  readonly policyId?: string;
  readonly version?: string;
  readonly goRelease?: GoRelease;
  readonly log?: ComponentLog;
  /** Serve agents without the record tap (load tests); see TlsListenerOptions.direct. */
  readonly direct?: boolean;
  /**
   * How long a successful ApiKey authentication is trusted without asking Elasticsearch again,
   * as fleet-server's `cache.api_key_ttl` does; absent, every request asks.
   */
  readonly apiKeyCacheMs?: number;
  /**
   * The enrollment token of its policy, when one was made elsewhere (Kibana in a real stack, an
   * env file shared by containers here); absent, the fake creates one in Elasticsearch.
   */
  readonly enrollmentToken?: string;
}

/** One request Fleet Server made to Elasticsearch, with what happened on its connection. */
export interface ElasticsearchCall {
  readonly method: string;
  readonly path: string;
  readonly exchange: GoExchange;
}

/**
 * A fake Fleet Server. `start` listens, then bootstraps against Elasticsearch as the real one
 * does (version check, authentication with the service token, its policy's enrollment key)
 * and ends HEALTHY or FAILED with the reason; /api/status reports it either way.
 */
export class FakeFleetServer implements AsyncDisposable {
  readonly log: ComponentLog;
  readonly elasticsearchCalls: ElasticsearchCall[] = [];
  state: FleetServerState = 'STARTING';
  stateMessage = 'Starting';
  enrollmentToken?: string;
  readonly policyId: string;
  readonly version: string;
  private listener!: TlsListener;
  /** go-elasticsearch keeps its connection to Elasticsearch open between calls. */
  private readonly elasticsearchTransport = new GoTransport();
  /** Direct path only (load): pooled keep-alive connections to Elasticsearch, without handshake reports. */
  private readonly pool?: ElasticsearchPool;
  private readonly agents = new Map<string, { accessKeyId: string; ackToken?: string; outputKey?: string }>();
  /** ApiKey header to when its authentication expires (see apiKeyCacheMs). */
  readonly apiKeys = new Map<string, number>();
  /** Checkins held open until their poll timeout or until the server closes. */
  readonly polls = new Set<() => void>();

  private constructor(readonly options: FleetServerOptions, log: ComponentLog) {
    this.log = log;
    this.policyId = options.policyId ?? 'fleet-server-policy';
    this.version = options.version ?? '9.2.0';
    if (options.direct) this.pool = new ElasticsearchPool(new URL(options.elasticsearch.url), options.elasticsearch.tls, options.elasticsearch.connectTo);
  }

  static async start(options: FleetServerOptions): Promise<FakeFleetServer> {
    const server = new FakeFleetServer(options, options.log ?? new ComponentLog('fleet-server'));
    const host = options.host ?? '127.0.0.1';
    const clientCAs = options.certificateAuthorities ?? [];
    server.listener = await TlsListener.start({
      component: 'fleet-server',
      host,
      port: options.port ?? 0,
      identity: options.identity,
      clientCertificateAuthorities: clientCAs,
      clientAuthentication: options.clientAuthentication ?? 'none',
      versions: options.versions ?? DEFAULT_VERSIONS,
      ...(options.readTimeoutMs !== undefined ? { handshakeTimeoutMs: options.readTimeoutMs } : {}),
      dialect: goServerDialect(options.goRelease ?? DEFAULT_GO, clientCAs),
      log: server.log,
      handler: (req, res) => server.handle(req, res),
      ...(options.tls === false ? { plain: true } : {}),
      ...(options.direct ? { direct: true } : {}),
    });
    server.log.write('info', `Listening on ${host.includes(':') ? `[${host}]` : host}:${server.listener.port}`);
    await server.bootstrap();
    return server;
  }

  get port(): number {
    return this.listener.port;
  }

  /** Where to connect to it from this machine, whatever host name a URL gives. */
  get endpoint(): { host: string; port: number } {
    return this.listener.endpoint;
  }

  get url(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `${this.options.tls === false ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  get healthy(): boolean {
    return this.state === 'HEALTHY';
  }

  connection(localPort: number | undefined): Promise<ServerConnection | undefined> {
    return this.listener.connection(localPort);
  }

  /** A request to Elasticsearch with the bootstrap's TLS settings and the service token. */
  async elasticsearch(method: 'GET' | 'POST', path: string, body?: object, authorization?: string): Promise<GoExchange> {
    const headers = { authorization: authorization ?? `Bearer ${this.options.elasticsearch.serviceToken}`, 'user-agent': `Fleet-Server/${this.version}` };
    if (this.pool) return this.pool.request(method, path, headers, body ? JSON.stringify(body) : undefined);
    const exchange = await goRequest({
      method,
      url: new URL(path, this.options.elasticsearch.url).toString(),
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
      tls: this.options.elasticsearch.tls,
      transport: this.elasticsearchTransport,
      goRelease: this.options.goRelease ?? DEFAULT_GO,
      ...(this.options.elasticsearch.connectTo ? { connectTo: this.options.elasticsearch.connectTo } : {}),
    });
    for (const warning of exchange.connection.warnings) this.log.warnOnce(warning);
    this.elasticsearchCalls.push({ method, path, exchange });
    // A long `serve` makes calls for every agent: keep the bootstrap's and the most recent ones.
    if (this.elasticsearchCalls.length > 500) this.elasticsearchCalls.splice(3, 1);
    return exchange;
  }

  setState(state: FleetServerState, message: string): void {
    this.state = state;
    this.stateMessage = message;
    this.log.write(state === 'FAILED' ? 'error' : 'info', `state changed to ${state}: ${message}`, { state, message });
  }

  async close(): Promise<void> {
    this.state = 'STOPPED';
    this.elasticsearchTransport.close();
    for (const release of this.polls) release();
    this.pool?.close();
    await this.listener.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async bootstrap(): Promise<void> {
    // Current Fleet Server's first Elasticsearch call is the version check (GET /).
    const info = await this.elasticsearch('GET', '/');
    const versionProblem = checkElasticsearch(info, this.version);
    if (versionProblem) return this.fail(`failed version compatibility check with elasticsearch${versionProblem}`);
    // Fleet Server 7.x authenticated its service token here; current releases rely on the version
    // check already carrying it. Kept (issue 2 asks for it): it cannot fail where GET / succeeded.
    const auth = await this.elasticsearch('GET', '/_security/_authenticate');
    const authProblem = elasticError(auth);
    if (authProblem) return this.fail(`failed to authenticate with elasticsearch: ${authProblem}`);
    if (this.options.enrollmentToken) {
      this.enrollmentToken = this.options.enrollmentToken;
      this.setState('HEALTHY', `Running on policy with Fleet Server integration: ${this.policyId}`);
      return;
    }
    // Kibana creates a policy's enrollment key in the real stack; the fake makes its own.
    const key = await this.elasticsearch('POST', '/_security/api_key', { name: `enrollment-${this.policyId}` });
    const keyProblem = elasticError(key);
    if (keyProblem) return this.fail(`failed to create the enrollment key: ${keyProblem}`);
    this.enrollmentToken = (JSON.parse(key.response!.body) as { encoded: string }).encoded;
    this.setState('HEALTHY', `Running on policy with Fleet Server integration: ${this.policyId}`);
  }

  private fail(reason: string): void {
    this.log.write('error', `Fleet Server failed: ${reason}`, { 'error.message': reason });
    this.setState('FAILED', `Error - ${reason}`);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const context: FleetRouteContext = { server: this, agents: this.agents, requestId: randomUUID() };
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void fleetRoutes(context, req, Buffer.concat(chunks).toString('utf8')).then((reply) => {
        const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          'content-type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
          'elastic-api-version': '2023-06-01',
          'x-request-id': context.requestId,
          'content-length': Buffer.byteLength(payload),
        });
        res.end(payload);
      });
    });
  }
}

/** Why the version check failed, in fleet-server's words (the suffix after `...with elasticsearch`). */
function checkElasticsearch(info: GoExchange, fleetVersion: string): string | undefined {
  const problem = elasticError(info);
  if (problem) return `: ${problem}`;
  if (info.response!.headers['x-elastic-product'] !== 'Elasticsearch') {
    return ': the client noticed that the server is not Elasticsearch and we do not support this unknown product';
  }
  const reported = String((JSON.parse(info.response!.body) as { version?: { number?: string } }).version?.number ?? '').toLowerCase().replace(/-snapshot$/, '');
  const [major = 0, minor = 0] = fleetVersion.split('.').map(Number);
  const [esMajor = 0, esMinor = 0] = reported.split('-')[0]!.split('.').map(Number);
  if (esMajor < major || (esMajor === major && esMinor < minor)) {
    return ` (Agent: ${fleetVersion}, Elasticsearch: ${reported}): unsupported version`;
  }
  return undefined;
}

/** A failed Elasticsearch call as fleet-server's es client words it (`elastic fail 401: ...`). */
export function elasticError(exchange: GoExchange): string | undefined {
  if (!exchange.response) return exchange.error;
  const { status, body } = exchange.response;
  if (status >= 200 && status < 300) return undefined;
  try {
    const error = (JSON.parse(body) as { error?: { type?: string; reason?: string } }).error;
    return ['elastic fail ' + status, error?.type, error?.reason].filter(Boolean).join(': ');
  } catch {
    return `elastic fail ${status}`;
  }
}
