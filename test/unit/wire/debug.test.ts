import { it } from 'vitest';
import { makePki, removePki } from './helpers/pki.js';
import { runSession } from './helpers/live.js';
import { decode } from './helpers/decode.js';
import { SecretStore, parseKeylogLine } from '../../../src/wire/keylog.js';
it('debug', async () => {
  const pki = makePki();
  const capture = await runSession(pki, { version: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256', clientMessage: Buffer.from('hi'), serverMessage: Buffer.from('yo') });
  const store = new SecretStore();
  for (const l of capture.keylog) store.set(parseKeylogLine(l));
  const d = decode(capture.c2s, capture.s2c, store);
  console.log('client', d.client.alerts, d.client.records.map(r => r.type), 'server', d.server.alerts, d.server.records.map(r => r.type));
  removePki(pki);
});
