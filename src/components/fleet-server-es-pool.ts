import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { GoClientTls } from './go-client-tls.js';
import type { GoExchange } from './go-http.js';
import { failedConnection } from './client-connection.js';

/**
 * Fleet Server's Elasticsearch client on the direct path (load tests): keep-alive connections,
 * as the real go-elasticsearch client pools them, so enrolling ten thousand agents does not
 * cost ten thousand extra handshakes. Exchanges carry no handshake report.
 */
export class ElasticsearchPool {
  private readonly agent: https.Agent;
  private readonly remote: string;

  constructor(private readonly url: URL, tls: GoClientTls, private readonly connectTo?: { readonly host: string; readonly port: number }) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      ...(tls.certificateAuthorities ? { ca: tls.certificateAuthorities.map((c) => c.pem) } : {}),
      ...(tls.certificate ? { cert: tls.certificate.certPem, key: tls.certificate.keyPem } : {}),
      rejectUnauthorized: (tls.verificationMode ?? 'full') !== 'none',
    });
    // Node's agent drops a socket whose server announces `keep-alive: timeout=1` (the fakes'
    // http servers do); Go's transport keeps it, so this one does too.
    Object.assign(this.agent, {
      keepSocketAlive: (socket: Socket) => {
        socket.setKeepAlive(true, 1_000);
        socket.unref();
        return true;
      },
    });
    const target = connectTo ?? { host: url.hostname, port: Number(url.port || 443) };
    this.remote = `${target.host}:${target.port}`;
  }

  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<GoExchange> {
    const connection = failedConnection(this.remote, null);
    return new Promise((resolve) => {
      const req = https.request({
        agent: this.agent, method, path,
        host: this.connectTo?.host ?? this.url.hostname, port: this.connectTo?.port ?? this.url.port,
        // Go sends SNI only for host names.
        servername: net.isIP(this.url.hostname.replace(/^\[|\]$/g, '')) ? '' : this.url.hostname,
        headers: { ...headers, host: this.url.host, ...(body ? { 'content-type': 'application/json' } : {}) },
      });
      req.on('error', (error) => resolve({ error: error.message, connection }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ response: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }, connection }));
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
