import { readFileSync } from 'node:fs';
import net from 'node:net';

const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range: every `listen(0)` and outgoing connection takes ports above it. */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port for a program that must be told its port in advance (prefer port 0 and reading the
 * port back wherever the program allows it). A kernel-picked port, freed and handed over, races
 * every other `listen(0)` and outgoing connection on the machine; this one comes from below the
 * ephemeral range, which the kernel never hands out by itself, is checked free on 127.0.0.1 and
 * all addresses, and is never handed out twice by this process.
 */
export async function freePort(): Promise<number> {
  const top = ephemeralStart();
  const bottom = Math.max(1024, top - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (handedOut.has(port)) continue;
    if (await canListen(port, '127.0.0.1') && await canListen(port, '::')) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${bottom} and ${top} after 200 tries`);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on the port (polled, bounded). */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}
