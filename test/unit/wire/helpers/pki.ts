/**
 * A throwaway PKI for live handshakes, made with the openssl CLI in a temporary directory:
 * an RSA server chain (the ECDHE-RSA suites need an RSA leaf) and a separate EC client CA,
 * so the CertificateRequest's CA list can be told apart from the server's issuer.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface TestPki {
  dir: string;
  serverCa: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  clientCa: Buffer;
  clientKey: Buffer;
  clientCert: Buffer;
  der: { serverCa: Buffer; serverCert: Buffer; clientCa: Buffer; clientCert: Buffer };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fth-wire-'));
  const ca = (name: string, key: string[], subject: string): void =>
    openssl(dir, ['req', '-x509', '-new', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', subject, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = (name: string, issuer: string, key: string[], subject: string, extensions: string): void => {
    openssl(dir, ['req', '-new', ...key, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-set_serial', '0x' + Date.now().toString(16),
      '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
  };
  const rsa = ['-newkey', 'rsa:2048'];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  ca('server-ca', rsa, '/CN=FTH Wire Test Server CA');
  leaf('server', 'server-ca', rsa, '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  ca('client-ca', ec, '/O=fleet-tls-harness/OU=wire tests/CN=FTH Wire Test Client CA');
  leaf('client', 'client-ca', ec, '/CN=fth-agent', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  const read = (file: string): Buffer => readFileSync(join(dir, file));
  const der = (file: string): Buffer => new X509Certificate(read(file)).raw;
  return {
    dir,
    serverCa: read('server-ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientCa: read('client-ca.crt'),
    clientKey: read('client.key'),
    clientCert: read('client.crt'),
    der: { serverCa: der('server-ca.crt'), serverCert: der('server.crt'), clientCa: der('client-ca.crt'), clientCert: der('client.crt') },
  };
}

export function removePki(pki: TestPki | undefined): void {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
}

/** One DER TLV's header: tag, and where its contents start and end. */
function tlv(der: Buffer, offset: number): { tag: number; start: number; end: number } {
  const tag = der[offset]!;
  const first = der[offset + 1]!;
  if (first < 0x80) return { tag, start: offset + 2, end: offset + 2 + first };
  const count = first & 0x7f;
  const length = der.readUIntBE(offset + 2, count);
  return { tag, start: offset + 2 + count, end: offset + 2 + count + length };
}

function children(der: Buffer, element: { start: number; end: number }): Array<{ tag: number; start: number; end: number; from: number }> {
  const out = [];
  for (let at = element.start; at < element.end; ) {
    const child = tlv(der, at);
    out.push({ ...child, from: at });
    at = child.end;
  }
  return out;
}

/** The subject Name of a certificate as raw DER, as it appears in a CA list on the wire. */
export function subjectDer(certificate: Buffer): Buffer {
  const tbs = children(certificate, tlv(certificate, 0))[0]!;
  const fields = children(certificate, tbs);
  const subject = fields[fields[0]!.tag === 0xa0 ? 5 : 4]!;
  return certificate.subarray(subject.from, subject.end);
}
