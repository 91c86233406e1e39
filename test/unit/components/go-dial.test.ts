import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { goRequest } from '../../../src/components/go-client.js';

/** A port on loopback that nothing listens on (bound, read, closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a dial nothing answers, in Go\'s words', () => {
  it('names the address Go dialled, not the host name the URL gave', async () => {
    const port = await closedPort();
    const exchange = await goRequest({ method: 'GET', url: `https://localhost:${port}/api/status`, headers: {} });
    expect(exchange.error).toBe(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
    expect(exchange.connection.remote).toBe(`127.0.0.1:${port}`);
  });

  it('keeps an IP URL\'s address as it is, bracketed for IPv6', async () => {
    const port = await closedPort();
    expect((await goRequest({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {} })).error).toBe(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
  });
});
