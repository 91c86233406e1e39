/**
 * The accepted connection whose client used `localPort`, once the server settled its handshake.
 * A client may finish before the server has even accepted (or settled) its side, so this waits
 * for both, bounded by `timeoutMs`: a connection that never comes is `undefined`, not a hang.
 */
export async function settledConnection<T extends { readonly done: Promise<void> }>(
  connections: ReadonlyMap<number, T>, waiters: Map<number, (connection: T) => void>, localPort: number, timeoutMs: number,
): Promise<T | undefined> {
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number) => new Promise<undefined>((resolve) => { timers.push(setTimeout(() => resolve(undefined), ms)); });
  const accepted = connections.get(localPort) ?? new Promise<T>((resolve) => waiters.set(localPort, resolve));
  try {
    const connection = await Promise.race([accepted, after(timeoutMs)]);
    // An accepted connection always settles (secure, closed, or the server's handshake timeout
    // destroys it), so this bound is only against a bug; a tight one returned it unsettled, its
    // log line not yet written, when a loaded machine delayed the server's close.
    if (connection) await Promise.race([connection.done, after(Math.max(timeoutMs, SETTLE_BOUND_MS))]);
    return connection;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    waiters.delete(localPort);
  }
}

const SETTLE_BOUND_MS = 30_000;
