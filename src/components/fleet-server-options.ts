import type { GoRelease } from '../dialects/go.js';
import type { Cert } from '../x509/certificate.js';
import type { ClientAuthentication, VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import type { GoClientTls } from './go-client-tls.js';
import type { GoExchange } from './go-http.js';
import type { ComponentLog } from './log.js';
import type { PolicyOutput } from './output.js';
import type { PolicyFleet } from './policy.js';

/** Every setting of {@link FakeFleetServer.start}, named after the install flags; {@link startFleetServer} fills them from a PKI. */
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
  /**
   * `server.timeouts.*` (fleet-server internal/pkg/config/timeouts.go, with Go's meaning in
   * components/http-deadlines.ts): `read` (default 60 s), `read_header` (5 s), `idle` (35 s),
   * `write` (10 m). The handshake must finish within the smallest of read_header, read and write.
   */
  readonly readTimeoutMs?: number;
  readonly readHeaderTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly writeTimeoutMs?: number;
  /** false: plain HTTP, as with --fleet-server-insecure-http. */
  readonly tls?: boolean;
  /** --fleet-server-es, its TLS settings (--fleet-server-es-ca, -cert, -insecure) and the service token. */
  readonly elasticsearch: {
    readonly url: string;
    readonly tls: GoClientTls;
    readonly serviceToken: string;
    /** Where Elasticsearch really listens, when the URL names a host that only exists in the customer's network. */
    readonly connectTo?: { readonly host: string; readonly port: number };
    /**
     * `output.elasticsearch.timeout` (default 90s): fleet-server makes it its Elasticsearch
     * transport's ResponseHeaderTimeout (internal/pkg/config/output.go ToESConfig).
     */
    readonly timeoutMs?: number;
  };
  /** The policy's `fleet` block handed to agents (Kibana's Fleet Server host); absent: this server's own URL. */
  readonly policyFleet?: PolicyFleet;
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
  /**
   * libs could not load --fleet-server-cert with its key (Go's text, e.g. `tls: private key does
   * not match public key`). fleet-server bootstraps against Elasticsearch first and loads its API
   * listener's certificate only when it starts that listener (internal/pkg/api/server.go Run), so it
   * fails then: `identity` stands in until that moment and serves nobody who waits for HEALTHY.
   */
  readonly certificateError?: string;
  /** What libs logged on its way to `certificateError` (default: Go's X509KeyPair failure line). */
  readonly certificateLogs?: readonly string[];
}

/** One request Fleet Server made to Elasticsearch, with what happened on its connection. */
export interface ElasticsearchCall {
  readonly method: string;
  readonly path: string;
  readonly exchange: GoExchange;
}
