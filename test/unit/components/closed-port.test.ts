import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { closedPort } from '../../../src/components/network-faults.js';

describe('a closed port for the refused faults', () => {
  it('lies below the range the system hands out for port 0, so no other listener of the run lands on it, and refuses', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const { host, port } = await closedPort();
    expect(port).toBeLessThan(low);
    expect(port).toBeGreaterThan(1024);
    const code = await new Promise<string | undefined>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => { socket.destroy(); resolve('connected'); });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(code).toBe('ECONNREFUSED');
  });
});
