/**
 * Who wants to see each connection a fake server accepts, as it is accepted (`serve --ui`).
 * Nobody, usually: then announcing costs one size check.
 */
import type { ServerConnection } from '../components/tls-listener.js';

export type ConnectionObserver = (component: string, connection: ServerConnection) => void;

const observers = new Set<ConnectionObserver>();

export function observeConnections(observer: ConnectionObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export function announceConnection(component: string, connection: ServerConnection): void {
  if (observers.size === 0) return;
  for (const observer of observers) observer(component, connection);
}
