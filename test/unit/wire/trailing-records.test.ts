import net from 'node:net';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goRequest } from '../../../src/components/go-client.js';
import { loadCertificateAuthorities } from '../../../src/tls/material.js';
import type { Pki } from '../../../src/pki/store.js';
import { sharedPki } from '../../helpers/pki.js';

/**
 * What a client tap records of the server's last records must not depend on how TCP (or a
 * proxy's tunnel) cut the bytes into reads: a server that answers `Connection: close` sends its
 * response and then its close_notify, and a relay here delivers them in one read or in two.
 */
type Delivery = 'one read' | 'two reads';

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}';
let pki: Pki;
let server: tls.Server;
let serverPort: number;

beforeAll(async () => {
  pki = await sharedPki();
  server = tls.createServer({
    cert: await readFile(pki.certPath('fleet-cert')), key: await readFile(pki.keyPath('fleet-cert')),
    minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3',
  }, (socket) => {
    socket.on('error', () => socket.destroy());
    // The response, then close_notify: two records, written back to back.
    socket.once('data', () => socket.end(RESPONSE));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverPort = (server.address() as net.AddressInfo).port;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

/**
 * A TCP relay that frames the server's TLS 1.3 records. Once the client has sent its second
 * flight it holds the server's records back until the close_notify (the 19-byte sealed alert,
 * 24 bytes with its header) comes, then delivers them all in one write, or the alert in a write
 * of its own a moment later. The server's FIN is passed on only once the client has closed, so
 * no close of the server's races the client's.
 */
async function relay(delivery: Delivery): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const front = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: serverPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    let flights = 0;
    client.on('data', (chunk: Buffer) => { flights++; upstream.write(chunk); });
    client.on('close', () => upstream.destroy());
    let pending = Buffer.alloc(0);
    const held: Buffer[] = [];
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        const record = pending.subarray(0, 5 + pending.readUInt16BE(3));
        pending = pending.subarray(record.length);
        if (flights < 2) client.write(record);
        else if (record.length !== 24) held.push(record);
        else if (delivery === 'one read') client.write(Buffer.concat([...held.splice(0), record]));
        else {
          client.write(Buffer.concat(held.splice(0)));
          setTimeout(() => { if (!client.destroyed) client.write(record); }, 50);
        }
      }
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    port: (front.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

async function exchange(delivery: Delivery) {
  const path = await relay(delivery);
  try {
    const result = await goRequest({
      method: 'GET', url: 'https://localhost:8220/api/status', headers: {},
      tls: { certificateAuthorities: loadCertificateAuthorities([pki.certPath('fleet-ca')]) },
      connectTo: { host: '127.0.0.1', port: path.port },
    });
    const timeline = result.connection.tap!.timeline;
    return { status: result.response?.status, records: timeline.events.map((e) => `${e.sender} ${e.what}`), wire: timeline.wire };
  } finally {
    await path.close();
  }
}

describe('a client tap and the server\'s trailing records', () => {
  it('records the same records whether the response and the close_notify after it come in one read or two: the timeline ends with the response', async () => {
    const together = await exchange('one read');
    const apart = await exchange('two reads');
    expect([together.status, apart.status]).toEqual([200, 200]);
    expect(together.records).toEqual(apart.records);
    expect(together.records.slice(-4)).toEqual(['client ApplicationData', 'server NewSessionTicket', 'server NewSessionTicket', 'server ApplicationData']);
  });

  it('still keeps the close_notify\'s bytes for the capture when it came in the response\'s read', async () => {
    const together = await exchange('one read');
    const last = together.wire.filter((chunk) => chunk.sender === 'server').at(-1)!.bytes;
    // The response record, then the 24-byte sealed close_notify.
    expect(last.subarray(-24, -19)).toEqual(Buffer.from([23, 3, 3, 0, 19]));
  });
});
