/**
 * The report's vocabulary. Field names are stable: tests and other tools read them
 * (PRODUCT.md, "The report").
 */
export type ComponentName = 'agent' | 'fleet-server' | 'elasticsearch' | 'proxy';

/** A certificate as the report shows it. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly san: readonly string[];
  readonly notBefore?: string;
  readonly notAfter: string;
  readonly sha256: string;
}

/** Whether the client presented a certificate on a leg, and which. */
export interface ClientCertificateSummary {
  readonly presented: boolean;
  readonly subject?: string;
  /** Why a certificate was or was not presented, in a sentence. */
  readonly why?: string;
}

/** When the rejection surfaced, from the client's point of view. */
export type Phase = 'connect' | 'handshake' | 'after-handshake' | 'http';

/**
 * One connection between two components, leg by leg as Elastic's page draws them: who presented
 * what, who refused, at which phase, with which alert, and what each side logged in its own words.
 */
export interface Leg {
  /** A proxy is a hop of its own: agent → proxy, then proxy → fleet-server or elasticsearch. */
  readonly from: 'agent' | 'fleet-server' | 'proxy';
  readonly to: 'fleet-server' | 'elasticsearch' | 'proxy';
  readonly url: string;
  readonly ok: boolean;
  readonly tls: { readonly version: string; readonly cipher: string } | null;
  readonly serverCertificate: CertificateSummary | null;
  readonly clientCertificate: ClientCertificateSummary | null;
  readonly rejectedBy: 'client' | 'server' | null;
  readonly phase: Phase | null;
  /** The fatal alert that ended the handshake, by its RFC name, or null. */
  readonly alert: string | null;
  /** The line each real component would have written about this connection, in its own words. */
  readonly logs: Partial<Record<ComponentName, string>>;
  /** What Node itself reported, for transparency; the components' words are in `logs`. */
  readonly node: { readonly code: string; readonly message: string } | null;
  /** What the leg did at the HTTP layer, when it got that far. */
  readonly http?: { readonly method: string; readonly path: string; readonly status: number };
  /** The wire, record by record (handshake messages, alerts, closes), for timelines. */
  readonly timeline?: ReadonlyArray<{ readonly at: number; readonly sender: 'client' | 'server'; readonly what: string; readonly detail?: unknown }>;
  /** The output leg's data: the events the agent's _bulk carried, and how many Elasticsearch's answer says it stored. */
  readonly events?: { readonly index: string; readonly shipped: number; readonly stored: number };
  /**
   * Who checks whom with what: the client's verification mode and CAs (null: the system roots),
   * and the CA names the server's CertificateRequest listed (null: it asked for no certificate).
   */
  readonly verifiedWith?: {
    readonly client: { readonly mode: string; readonly authorities: readonly string[] | null } | null;
    readonly server: readonly string[] | null;
  };
  /** The hop the connection went through (a forward proxy tunnels it; TLS stays end to end). */
  readonly via?: 'proxy';
  /** Set when the leg could not be attempted, with the reason (e.g. Fleet Server never became healthy). */
  readonly skipped?: string;
  /**
   * `policy`: the connection was made after the policy took over (the agent's next checkin with the
   * policy's Fleet Server settings, Fleet Server's test of the policy's output); absent: enrollment.
   */
  readonly stage?: 'policy';
}

/** How a scenario file names a leg: `from->to`, with ` (policy)` once the policy has taken over. */
export function legKey(leg: Pick<Leg, 'from' | 'to' | 'stage'>): string {
  return `${leg.from}->${leg.to}${leg.stage === 'policy' ? ' (policy)' : ''}`;
}
