/**
 * The accepted connection whose client used `localPort`, once the server settled its handshake.
 * A client may finish before the server has even accepted (or settled) its side, so this waits
 * for both, bounded by `timeoutMs`: a connection that never comes is `undefined`, not a hang.
 */
export async function settledConnection<T extends { readonly done: Promise<void> }>(
  connections: ReadonlyMap<number, T>, waiters: Map<number, (connection: T) => void>, localPort: number, timeoutMs: number,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs); });
  const accepted = connections.get(localPort) ?? new Promise<T>((resolve) => waiters.set(localPort, resolve));
  try {
    const connection = await Promise.race([accepted, timeout]);
    if (connection) await Promise.race([connection.done, timeout]);
    return connection;
  } finally {
    clearTimeout(timer);
    waiters.delete(localPort);
  }
}
