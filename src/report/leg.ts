/**
 * The report's vocabulary. Field names are stable: tests and other tools read them
 * (PRODUCT.md, "The report").
 */
export type ComponentName = 'agent' | 'fleet-server' | 'elasticsearch';

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly san: readonly string[];
  readonly notAfter: string;
  readonly sha256: string;
}

export interface ClientCertificateSummary {
  readonly presented: boolean;
  readonly subject?: string;
  /** Why a certificate was or was not presented, in a sentence. */
  readonly why?: string;
}

/** When the rejection surfaced, from the client's point of view. */
export type Phase = 'connect' | 'handshake' | 'after-handshake' | 'http';

export interface Leg {
  readonly from: 'agent' | 'fleet-server';
  readonly to: 'fleet-server' | 'elasticsearch';
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
  /** Set when the leg could not be attempted, with the reason (e.g. Fleet Server never became healthy). */
  readonly skipped?: string;
}
