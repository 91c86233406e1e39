/**
 * The fake Fleet Server's lifecycle: listen, bootstrap against Elasticsearch, hold its state,
 * serve the routes through a narrow backend (fleet-server-backend.ts), close. (Over 250 lines:
 * the state the backend reads and the server that changes it are one object.)
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { DEFAULT_GO, GO_BAD_REQUEST } from '../dialects/go.js';
import { GO_HEAD_RULES } from './go-request-head.js';
import { goRefusesPathEscape } from '../request-target.js';
import { HarnessError } from '../errors.js';
import { DEFAULT_VERSIONS } from '../tls/settings.js';
import { GoTransport, goRequest, type GoExchange } from './go-client.js';
import { goServerDialect } from './go-server.js';
import { ComponentLog } from './log.js';
import { TlsListener } from './tls-listener.js';
import type { ServerConnection } from './server-dialect.js';
import { fleetRoutes } from './fleet-server-api.js';
import type { EnrolledAgent, FleetBackend, FleetRequest, FleetServerState } from './fleet-server-backend.js';
import type { DirectReply, DirectRequest } from '../load/direct-http.js';
import { bootstrapFleetServer } from './fleet-server-bootstrap.js';
import type { ElasticsearchCall, FleetServerOptions } from './fleet-server-options.js';
import { ElasticsearchPool } from './fleet-server-es-pool.js';
import { goHandshakeTimeoutMs, type GoServerTimeouts } from './http-deadlines.js';
import { responseHeaderTimeout } from './go-errors.js';

export type { FleetServerState, FleetServerOptions, ElasticsearchCall };
export { elasticError } from './elastic-error.js';

/**
 * A fake Fleet Server. `start` listens, then bootstraps against Elasticsearch as the real one
 * does (version check, authentication with the service token, its policy's enrollment key)
 * and ends HEALTHY or FAILED with the reason; /api/status reports it either way.
 */
export class FakeFleetServer implements AsyncDisposable {
  readonly log: ComponentLog;
  /** @internal */
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
  private readonly agents = new Map<string, EnrolledAgent>();
  /** ApiKey header to when its authentication expires (see apiKeyCacheMs). */
  private readonly apiKeys = new Map<string, number>();
  /** Checkins held open until their poll timeout or until the server closes. */
  private readonly polls = new Set<() => void>();
  /** What the routes see of this server. */
  private readonly backend: FleetBackend;
  private closing?: Promise<void>;

  private constructor(readonly options: FleetServerOptions, log: ComponentLog) {
    this.log = log;
    this.policyId = options.policyId ?? 'fleet-server-policy';
    this.version = options.version ?? '9.2.0';
    if (options.direct) this.pool = new ElasticsearchPool(new URL(options.elasticsearch.url), options.elasticsearch.tls, options.elasticsearch.connectTo);
    this.backend = this.makeBackend();
  }

  /**
   * Listens, bootstraps against `options.elasticsearch` and resolves HEALTHY or FAILED (never
   * rejects for a TLS failure towards Elasticsearch: that is the state and its message).
   */
  static async start(options: FleetServerOptions): Promise<FakeFleetServer> {
    const server = new FakeFleetServer(options, options.log ?? new ComponentLog('fleet-server'));
    const host = options.host ?? '127.0.0.1';
    const clientCAs = options.certificateAuthorities ?? [];
    const timeouts = fleetServerTimeouts(options);
    server.listener = await TlsListener.start({
      component: 'fleet-server',
      host,
      port: options.port ?? 0,
      identity: options.identity,
      clientCertificateAuthorities: clientCAs,
      clientAuthentication: options.clientAuthentication ?? 'none',
      versions: options.versions ?? DEFAULT_VERSIONS,
      handshakeTimeoutMs: goHandshakeTimeoutMs(timeouts),
      timeouts,
      dialect: goServerDialect(options.goRelease ?? DEFAULT_GO, clientCAs),
      log: server.log,
      handler: (req, res) => server.handle(req, res),
      // net/http's own 400s for a head it will not read (missing Host, bad field bytes), on both paths.
      headRules: GO_HEAD_RULES,
      ...(options.tls === false ? { plain: true } : {}),
      ...(options.direct ? { direct: true, directHandler: (request: DirectRequest) => server.handleDirect(request) } : {}),
    });
    server.log.write('info', `Listening on ${host.includes(':') ? `[${host}]` : host}:${server.listener.port}`);
    try {
      await server.bootstrap();
    } catch (error) {
      // A start that fails leaves nothing listening: the caller has no server to close.
      await server.close();
      throw error;
    }
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

  /** Checkins currently held open (long polls). */
  get heldPolls(): number {
    return this.polls.size;
  }

  /** @internal */
  connection(localPort: number | undefined): Promise<ServerConnection | undefined> {
    if (this.closing) return Promise.reject(new HarnessError('FTH_CLOSED', 'FakeFleetServer.connection: the fake Fleet Server was closed'));
    return this.listener.connection(localPort);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** @internal A request to Elasticsearch with the bootstrap's TLS settings and the service token. */
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
      ...(this.options.elasticsearch.timeoutMs !== undefined ? { deadline: responseHeaderTimeout(this.options.elasticsearch.timeoutMs) } : {}),
      ...(this.options.elasticsearch.connectTo ? { connectTo: this.options.elasticsearch.connectTo } : {}),
    });
    for (const warning of exchange.connection.warnings) this.log.warnOnce(warning);
    this.elasticsearchCalls.push({ method, path, exchange });
    // A long `serve` makes calls for every agent: keep the bootstrap's and the most recent ones.
    if (this.elasticsearchCalls.length > 500) this.elasticsearchCalls.splice(3, 1);
    return exchange;
  }

  /** @internal */
  setState(state: FleetServerState, message: string): void {
    this.state = state;
    this.stateMessage = message;
    this.log.write(state === 'FAILED' ? 'error' : 'info', `state changed to ${state}: ${message}`, { state, message });
  }

  /** Stops listening, releases held checkins and closes every connection; calling it again returns the same promise. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'STOPPED';
      this.elasticsearchTransport.close();
      for (const release of this.polls) release();
      this.pool?.close();
      await this.listener.close();
    })();
    return this.closing;
  }

  /** `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async bootstrap(): Promise<void> {
    const outcome = await bootstrapFleetServer((method, path, body) => this.elasticsearch(method, path, body), this.policyId, this.version, this.options.enrollmentToken);
    if ('failure' in outcome) return this.fail(outcome.failure);
    this.enrollmentToken = outcome.enrollmentToken;
    if (this.options.certificateError) {
      // libs' LoadCertificate logs before returning the error; the API server's run then ends the server.
      for (const line of this.options.certificateLogs ?? [`Failed loading client certificate ${this.options.certificateError}`]) this.log.write('error', line);
      return this.fail(this.options.certificateError);
    }
    this.setState('HEALTHY', `Running on policy with Fleet Server integration: ${this.policyId}`);
  }

  private fail(reason: string): void {
    this.log.write('error', `Fleet Server failed: ${reason}`, { 'error.message': reason });
    this.setState('FAILED', `Error - ${reason}`);
  }

  private makeBackend(): FleetBackend {
    const server = this;
    return {
      get state() { return server.state; },
      get healthy() { return server.healthy; },
      version: this.version,
      policyId: this.policyId,
      get url() { return server.url; },
      output: this.options.output ?? { hosts: [this.options.elasticsearch.url] },
      ...(this.options.policyFleet ? { fleet: this.options.policyFleet } : {}),
      agents: this.agents,
      elasticsearch: (method, path, body, authorization) => this.elasticsearch(method, path, body, authorization),
      apiKeyTrusted: (header) => (this.apiKeys.get(header) ?? 0) > Date.now(),
      trustApiKey: (header) => {
        if (this.options.apiKeyCacheMs) this.apiKeys.set(header, Date.now() + this.options.apiKeyCacheMs);
      },
      longPoll: (ms, req) => this.longPoll(ms, req),
      logInfo: (message, fields) => this.log.write('info', message, fields),
    };
  }

  /** Waits out a long poll: its timeout, the client going away, or the server closing. */
  private longPoll(ms: number, req: FleetRequest): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        this.polls.delete(release);
        req.socket.off('close', release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      this.polls.add(release);
      req.socket.once('close', release);
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // net/http refuses the request line before any handler runs, writes its 400 and closes.
    if (goRefusesPathEscape(req.url)) return void req.socket.end(GO_BAD_REQUEST);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.answer(req, Buffer.concat(chunks).toString('utf8')).then((reply) => {
        res.writeHead(reply.status, Object.fromEntries(reply.headers));
        res.end(reply.body);
        // A route that throws is a harness bug: it ends that connection, never the process.
      }).catch(() => res.destroy());
    });
  }

  /** The direct path's answer to a load agent's request; the refused path escape is node:http's (above). */
  private handleDirect(request: DirectRequest): Promise<DirectReply> | undefined {
    return goRefusesPathEscape(request.url) ? undefined : this.answer(request, request.body);
  }

  private async answer(req: FleetRequest, body: string): Promise<DirectReply> {
    const requestId = randomUUID();
    const reply = await fleetRoutes(this.backend, req, body);
    const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return {
      status: reply.status,
      headers: [
        ['content-type', typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'],
        ['elastic-api-version', '2023-06-01'],
        ['x-request-id', requestId],
        ['content-length', Buffer.byteLength(payload)],
      ],
      body: payload,
    };
  }
}

/** fleet-server's `server.timeouts` defaults (internal/pkg/config/timeouts.go, InitDefaults). */
export const FLEET_SERVER_TIMEOUT_DEFAULTS = { readMs: 60_000, readHeaderMs: 5_000, idleMs: 35_000, writeMs: 600_000 } as const;

function fleetServerTimeouts(options: FleetServerOptions): GoServerTimeouts {
  const d = FLEET_SERVER_TIMEOUT_DEFAULTS;
  return {
    kind: 'go',
    readMs: options.readTimeoutMs ?? d.readMs,
    readHeaderMs: options.readHeaderTimeoutMs ?? d.readHeaderMs,
    idleMs: options.idleTimeoutMs ?? d.idleMs,
    writeMs: options.writeTimeoutMs ?? d.writeMs,
  };
}
