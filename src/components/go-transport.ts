import type http from 'node:http';
import type tls from 'node:tls';
import type { ClientConnection } from './client-connection.js';
import type { GoClientTls } from './go-client-tls.js';

/** An open connection a transport keeps for the next request. */
export interface KeptConnection {
  readonly key: string;
  readonly tls: GoClientTls | undefined;
  readonly socket: tls.TLSSocket;
  readonly agent: http.Agent;
  readonly connection: ClientConnection;
}

/**
 * A Go http.Client's connection reuse: after a response the connection stays open, and the
 * next request to the same place goes over it without a new handshake (so one leg may carry
 * several requests, as Fleet Server's connection to Elasticsearch does).
 */
export class GoTransport {
  private kept?: KeptConnection;

  /** The kept connection, if it fits the request and is still open. */
  take(key: string, settings: GoClientTls | undefined): KeptConnection | undefined {
    const kept = this.kept;
    this.kept = undefined;
    if (kept && kept.key === key && kept.tls === settings && !kept.socket.destroyed && kept.socket.writable) return kept;
    kept?.agent.destroy();
    return undefined;
  }

  keep(connection: KeptConnection): void {
    this.kept?.agent.destroy();
    this.kept = connection;
  }

  close(): void {
    this.kept?.agent.destroy();
    this.kept = undefined;
  }
}
