import path from 'node:path';
import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { KEY_TYPES, type KeyType } from '../../pki/keys.js';
import { CA_NAMES, ENCRYPTED_KEY, LEAF_NAMES, type CaName, type LeafName } from '../../pki/profiles.js';
import { ensurePki } from '../../pki/store.js';
import { writePlainKeys } from '../../pki/plain-keys.js';
import { caSha256Pin, caTrustedFingerprint } from '../../x509/libs-verify.js';
import { parseCertificate } from '../../x509/certificate.js';
import type { Io } from '../io.js';

interface CertsOptions {
  out: string;
  force?: boolean;
  keyType?: string;
  plainKeys?: boolean;
  json?: boolean;
}

export function registerCerts(program: Command, io: Io): void {
  program
    .command('certs')
    .description('write the PKI: fleet-ca, agent-ca, es-ca and the four certificates of Elastic\'s page (reuses a valid one)')
    .option('--out <dir>', 'where to write it', 'certs')
    .option('--force', 'regenerate everything, replacing files the harness did not write')
    .option('--key-type <type>', 'rsa (2048, the default) or ecdsa (P-256)')
    .option('--plain-keys', 'also write an unencrypted copy of the agent key (agent-cert.plain.key, mode 0600) for clients that cannot take a passphrase')
    .option('--json', 'print what was written as JSON')
    .action(async (options: CertsOptions) => {
      if (options.keyType !== undefined && !(KEY_TYPES as readonly string[]).includes(options.keyType)) {
        throw new HarnessError('FTH_USAGE', `--key-type: '${options.keyType}' is not one of ${KEY_TYPES.join(', ')}`);
      }
      const { pki, actions } = await ensurePki({
        dir: path.resolve(io.cwd, options.out),
        ...(options.keyType ? { keyType: options.keyType as KeyType } : {}),
        ...(options.force ? { force: true } : {}),
      });
      const rel = (file: string) => path.relative(io.cwd, file) || file;
      const plain = options.plainKeys ? await writePlainKeys(pki, options.force ? { force: true } : {}) : [];
      const plainKeys = plain.map((p) => ({ name: p.name, action: p.action, key: rel(p.file) }));
      const objects = [...CA_NAMES, ...LEAF_NAMES].map((name) => {
        const item = name in pki.cas ? pki.cas[name as CaName] : pki.leaves[name as LeafName];
        const cert = parseCertificate(item.der);
        const action = actions.find((a) => a.name === name)!;
        return {
          name,
          action: action.action,
          ...(action.reason ? { reason: action.reason } : {}),
          certificate: rel(pki.certPath(name)),
          key: rel(pki.keyPath(name)),
          subject: cert.subject,
          issuer: cert.issuer,
          notAfter: cert.notAfter.toISOString(),
          ...(cert.isCA ? { caTrustedFingerprint: caTrustedFingerprint(cert), caSha256: caSha256Pin(cert) } : {}),
          ...(name === ENCRYPTED_KEY ? { passphraseFile: rel(pki.passphrasePath) } : {}),
        };
      });
      if (options.json) {
        io.out(`${JSON.stringify({ dir: rel(pki.dir), keyType: pki.keyType, objects, ...(options.plainKeys ? { plainKeys } : {}) }, null, 2)}\n`);
        return;
      }
      io.out(`${rel(pki.dir)}/ (${pki.keyType === 'rsa' ? 'RSA 2048' : 'ECDSA P-256'}; keys mode 0600)\n`);
      for (const o of objects) {
        io.out(`  ${o.name.padEnd(14)}${o.action.padEnd(10)}${o.certificate}  ${o.subject}, issued by ${o.issuer}, until ${o.notAfter.slice(0, 10)}\n`);
        if (o.caTrustedFingerprint) io.out(`  ${''.padEnd(24)}ca_trusted_fingerprint ${o.caTrustedFingerprint}\n  ${''.padEnd(24)}ca_sha256              ${o.caSha256}\n`);
        if (o.passphraseFile) io.out(`  ${''.padEnd(24)}key encrypted (PKCS#8, AES-256); passphrase in ${o.passphraseFile}\n`);
        const copy = plainKeys.find((p) => p.name === o.name);
        if (copy) io.out(`  ${''.padEnd(24)}unencrypted copy ${copy.action}: ${copy.key} (mode 0600)\n`);
      }
    });
}
