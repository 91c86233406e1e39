import { execa, type ResultPromise } from 'execa';
import { requireTool } from './tools.js';

/**
 * A parent proxy that records each request head (and body) it receives and answers it (200 Connection
 * established to CONNECT, a small 200 page to anything else), then reports when the connection
 * ends. `held`: its accept queue is full until `release()` (a listen backlog of 0 that one
 * connection of its own fills), so a proxy dialling it stays in the kernel's SYN retries, the
 * one state Node's listeners cannot produce since they accept at once. Python's socket module,
 * for the backlog.
 */
const SCRIPT = String.raw`
import json, socket, sys, threading
held = sys.argv[1] == 'held'
server = socket.socket()
server.bind(('127.0.0.1', 0))
server.listen(0)
lock = threading.Lock()
def say(**event):
    with lock:
        print(json.dumps(event), flush=True)
filler = socket.create_connection(server.getsockname()) if held else None
say(port=server.getsockname()[1])
if held:
    sys.stdin.readline()
    server.accept()[0].close()
    filler.close()
def serve(conn, n):
    data = b''
    try:
        while b'\r\n\r\n' not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b'\r\n\r\n')
        say(n=n, head=(head + b'\r\n\r\n').decode('latin1') if data else '')
        length = next((int(l.split(b':', 1)[1]) for l in head.split(b'\r\n')[1:] if l.lower().startswith(b'content-length:')), 0)
        while len(body) < length:
            chunk = conn.recv(4096)
            if not chunk:
                break
            body += chunk
        if length:
            say(n=n, body=body.decode('latin1'))
        if data.startswith(b'CONNECT '):
            conn.sendall(b'HTTP/1.0 200 Connection established\r\n\r\n')
        elif data:
            conn.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nparent')
        while conn.recv(4096):
            pass
    except OSError:
        pass
    say(n=n, closed=True)
    conn.close()
n = 0
while True:
    conn, _ = server.accept()
    n += 1
    threading.Thread(target=serve, args=(conn, n), daemon=True).start()
`;

export interface ParentEvent {
  readonly n: number;
  readonly head?: string;
  readonly closed?: boolean;
  /** A request's body, read (Content-Length) before the parent answers, as a real proxy does. */
  readonly body?: string;
}

export interface RecordingParent {
  readonly port: number;
  readonly events: ParentEvent[];
  release(): void;
  /** The first event that `match` accepts, waiting up to `timeoutMs`. */
  next(match: (event: ParentEvent) => boolean, timeoutMs?: number): Promise<ParentEvent>;
  stop(): Promise<void>;
}

export async function startRecordingParent(held: boolean): Promise<RecordingParent> {
  const python = requireTool(['/usr/bin/python3'], 'python3');
  const child: ResultPromise = execa(python, ['-c', SCRIPT, held ? 'held' : 'open'], { reject: false, buffer: false, stdin: 'pipe' });
  const events: ParentEvent[] = [];
  const wake = new Set<() => void>();
  let port: number | undefined;
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let at: number;
    while ((at = pending.indexOf('\n')) >= 0) {
      const event = JSON.parse(pending.slice(0, at)) as ParentEvent & { port?: number };
      pending = pending.slice(at + 1);
      if (event.port !== undefined) port = event.port;
      else events.push(event);
      for (const w of wake) w();
    }
  });
  const next = async (match: (event: ParentEvent) => boolean, timeoutMs = 15_000): Promise<ParentEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the recording parent saw no such event within ${timeoutMs} ms: ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        const w = () => { wake.delete(w); resolve(); };
        wake.add(w);
        setTimeout(w, 100);
      });
    }
  };
  for (let i = 0; i < 200 && port === undefined; i++) await new Promise((r) => setTimeout(r, 50));
  if (port === undefined) {
    child.kill();
    throw new Error('the recording parent did not start');
  }
  return {
    port,
    events,
    release: () => void child.stdin!.write('release\n'),
    next,
    async stop() {
      child.kill();
      await child;
    },
  };
}
