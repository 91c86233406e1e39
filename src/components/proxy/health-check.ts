import net from 'node:net';
import tls from 'node:tls';
import { ComponentLog } from '../log.js';

/**
 * How a load balancer checks a backend (AWS NLB/ELB, HAProxy, F5 all offer the three):
 * - `tcp`: connect, then close without sending a byte (Layer 4). Go's net/http server reads EOF
 *   where it expected a ClientHello and logs `http: TLS handshake error from IP:PORT: EOF`.
 * - `tls`: a full TLS handshake, then close (Layer 6). The server read EOF where it expected a
 *   request, which net/http does not log.
 * - `http`: a TLS handshake and `GET /api/status` (Layer 7), up on a 200.
 */
export type HealthCheckKind = 'tcp' | 'tls' | 'http';

/** One probe: when, from which port, and the balancer's verdict. */
export interface HealthProbe {
  readonly kind: HealthCheckKind;
  readonly localPort?: number;
  readonly up: boolean;
  /** HAProxy's reason text (`Layer4 check passed`, `Layer7 wrong status`, ...). */
  readonly reason: string;
  readonly status?: number;
}

/** Which check a {@link HealthChecker} runs, against what, how often, and where it logs. */
export interface HealthCheckOptions {
  readonly kind: HealthCheckKind;
  /** Where the backend listens. */
  readonly target: { readonly host: string; readonly port: number };
  /** Between probes (a real balancer's default is 5 to 30 s; tests and scenarios use milliseconds). */
  readonly intervalMs: number;
  /** Server name for `tls` and `http` checks (none for an IP). */
  readonly serverName?: string;
  readonly path?: string;
  /** How the balancer names the backend in its log (`backend/server`). */
  readonly server?: string;
  readonly log?: ComponentLog;
}

/**
 * A load balancer's health checker against one backend, logging each probe as HAProxy does with
 * `option log-health-checks` (its configuration manual; src/check.c words the reasons). It does
 * not verify the backend's certificate, as balancers' TLS checks do not by default.
 */
export class HealthChecker implements AsyncDisposable {
  readonly log: ComponentLog;
  readonly probes: HealthProbe[] = [];
  private timer?: NodeJS.Timeout;
  private wake?: () => void;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: HealthCheckOptions) {
    this.log = options.log ?? new ComponentLog('proxy');
  }

  /** Probes `count` times, `intervalMs` apart, and resolves with those probes. */
  async run(count: number): Promise<HealthProbe[]> {
    const mine: HealthProbe[] = [];
    for (let i = 0; i < count && !this.stopped; i++) {
      if (i > 0) await this.pause();
      mine.push(await this.probe());
    }
    return mine;
  }

  /** Probes every `intervalMs` until closed (what `serve` runs). */
  start(): void {
    const loop = async () => {
      while (!this.stopped) {
        await this.probe();
        await this.pause();
      }
    };
    this.running = loop();
  }

  /** Stops probing (a probe under way finishes first); idempotent. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.running;
  }

  /** The interval between probes; close() ends it early. */
  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, this.options.intervalMs);
    });
  }

  /** `await using`: the same as {@link HealthChecker.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** One probe; never rejects. */
  async probe(): Promise<HealthProbe> {
    const started = performance.now();
    const outcome = await (this.options.kind === 'tcp' ? this.tcp() : this.secure());
    const probe: HealthProbe = { kind: this.options.kind, ...outcome };
    this.probes.push(probe);
    const ups = this.probes.slice(-3).filter((p) => p.up).length;
    const duration = Math.round(performance.now() - started);
    this.log.write(probe.up ? 'info' : 'warn',
      `Health check for server ${this.options.server ?? 'fleet/fleet-server'} ${probe.up ? 'succeeded' : 'failed'}, reason: ${probe.reason}, check duration: ${duration}ms, status: ${probe.up ? ups : 0}/3 ${probe.up ? 'UP' : 'DOWN'}.`,
      { healthCheck: probe.kind, ...(probe.localPort ? { clientPort: probe.localPort } : {}) });
    return probe;
  }

  private tcp(): Promise<Omit<HealthProbe, 'kind'>> {
    return new Promise((resolve) => {
      const socket = net.connect(this.options.target);
      socket.once('connect', () => {
        const localPort = socket.localPort;
        socket.end();
        socket.once('close', () => resolve({ up: true, reason: 'Layer4 check passed', ...(localPort ? { localPort } : {}) }));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        resolve({ up: false, reason: error.code === 'ECONNREFUSED' ? 'Layer4 connection problem, info: "Connection refused"' : `Layer4 connection problem, info: "${error.message}"` });
      });
    });
  }

  private secure(): Promise<Omit<HealthProbe, 'kind'>> {
    return new Promise((resolve) => {
      const name = this.options.serverName;
      const socket = tls.connect({ ...this.options.target, rejectUnauthorized: false, ...(name && net.isIP(name) === 0 ? { servername: name } : {}) });
      let localPort: number | undefined;
      let done = false;
      let secured = false;
      const finish = (result: Omit<HealthProbe, 'kind' | 'localPort'>) => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve({ ...result, ...(localPort ? { localPort } : {}) });
      };
      socket.once('connect', () => { localPort = socket.localPort; });
      socket.once('secureConnect', () => {
        secured = true;
        if (this.options.kind === 'tls') return void socket.end();
        let head = '';
        socket.on('data', (chunk: Buffer) => {
          head += chunk.toString('latin1');
          const status = /^HTTP\/\d\.\d (\d{3})/.exec(head);
          if (!status && head.length < 8_192 && !head.includes('\r\n')) return;
          const code = Number(status?.[1] ?? 0);
          finish(code >= 200 && code < 400 ? { up: true, reason: `Layer7 check passed, code: ${code}`, status: code } : { up: false, reason: `Layer7 wrong status, code: ${code}`, status: code });
        });
        socket.write(`GET ${this.options.path ?? '/api/status'} HTTP/1.1\r\nHost: ${name ?? this.options.target.host}\r\nUser-Agent: fleet-tls-harness-health-check\r\nConnection: close\r\n\r\n`);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        finish(localPort === undefined
          ? { up: false, reason: `Layer4 connection problem, info: "${error.code === 'ECONNREFUSED' ? 'Connection refused' : error.message}"` }
          : { up: false, reason: 'Layer6 invalid response, info: "SSL handshake failure"' });
      });
      socket.once('close', () => finish(secured && this.options.kind === 'tls'
        ? { up: true, reason: 'Layer6 check passed' }
        : { up: false, reason: secured ? 'Layer7 invalid response, info: "Connection closed"' : 'Layer6 invalid response, info: "SSL handshake failure"' }));
    });
  }
}
