import type { GoExchange } from './go-http.js';

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
