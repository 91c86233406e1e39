import { describe, expect, it } from 'vitest';
import { ensurePki } from '../../../src/pki/store.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { scratchDir } from '../../helpers/pki.js';

describe('certs --san: more host names for the server certificates', () => {
  it('puts them in fleet-cert and es-cert, keeps a PKI that has them, and reissues only the servers for a new one', async () => {
    const { dir, cleanup } = await scratchDir();
    try {
      const first = await ensurePki({ dir, keyType: 'ecdsa', extraDnsNames: ['proxy.corp'] });
      expect(parseCertificate(first.pki.leaves['fleet-cert'].der).dnsNames).toEqual(['localhost', 'fleet-server', 'proxy.corp']);
      expect(parseCertificate(first.pki.leaves['es-cert'].der).dnsNames).toEqual(['localhost', 'elasticsearch', 'proxy.corp']);
      expect(parseCertificate(first.pki.leaves['agent-cert'].der).dnsNames).toEqual(['localhost', 'elastic-agent']);

      const again = await ensurePki({ dir, extraDnsNames: ['PROXY.corp'] });
      expect(again.actions.every((a) => a.action === 'reused')).toBe(true);

      const more = await ensurePki({ dir, extraDnsNames: ['proxy.corp', 'fleet.corp'] });
      const generated = more.actions.filter((a) => a.action === 'generated');
      expect(generated).toEqual([
        { name: 'fleet-cert', action: 'generated', reason: 'it does not name fleet.corp' },
        { name: 'es-cert', action: 'generated', reason: 'it does not name fleet.corp' },
      ]);
      expect(parseCertificate(more.pki.leaves['fleet-cert'].der).dnsNames).toEqual(['localhost', 'fleet-server', 'proxy.corp', 'fleet.corp']);
    } finally {
      await cleanup();
    }
  });
});
