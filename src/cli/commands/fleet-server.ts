import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { authorities, identity } from '../../api.js';
import { FakeFleetServer } from '../../components/fleet-server.js';
import { HarnessError, systemErrorCode } from '../../errors.js';
import { loadCertificateAuthorities, loadIdentity } from '../../tls/material.js';
import { applyElasticEnv } from '../elastic-env.js';
import type { Io } from '../io.js';
import { apiKeyOf, defaultBindHost, HARNESS_ENV, localUrl, parseUrlFlag, pathList, streamLogs, tokenFrom, writeState, writeStateOrClose, stateFileOf } from './component-shared.js';
import { oneOfModes } from './elasticsearch.js';
import { named, parsePort, pkiFor } from './shared.js';

interface FleetServerCliOptions {
  certs: string;
  fleetServerEs?: string;
  fleetServerEsCa?: string;
  fleetServerEsCaTrustedFingerprint?: string;
  fleetServerEsInsecure?: boolean;
  fleetServerEsCert?: string;
  fleetServerEsCertKey?: string;
  fleetServerServiceToken?: string;
  fleetServerServiceTokenPath?: string;
  fleetServerPolicy: string;
  fleetServerHost?: string;
  fleetServerPort: string;
  fleetServerCert?: string;
  fleetServerCertKey?: string;
  fleetServerCertKeyPassphrase?: string;
  fleetServerClientAuth: string;
  fleetServerInsecureHttp?: boolean;
  certificateAuthorities?: string;
  enrollmentToken?: string;
  outputHosts?: string;
  outputCa?: string;
  stateFile?: string;
  json?: boolean;
}

export function registerFleetServer(program: Command, io: Io, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('fleet-server')
    .description('start the fake Fleet Server on its own, bootstrapping against any Elasticsearch (fake or real); takes the --fleet-server-* flags of `elastic-agent install` and the FLEET_SERVER_* variables of Elastic\'s agent image')
    .option('--certs <dir>', 'PKI directory for what no flag gives (fleet-cert, fleet-ca, agent-ca); generated if missing', 'certs')
    .option('--fleet-server-es <url>', 'Elasticsearch URL (FLEET_SERVER_ELASTICSEARCH_HOST, ELASTICSEARCH_HOST)')
    .option('--fleet-server-es-ca <files>', 'comma-separated CAs trusted for Elasticsearch (FLEET_SERVER_ELASTICSEARCH_CA; default the system roots)')
    .option('--fleet-server-es-ca-trusted-fingerprint <hex>', 'SHA-256 of a CA in the chain Elasticsearch sends (FLEET_SERVER_ELASTICSEARCH_CA_TRUSTED_FINGERPRINT)')
    .option('--fleet-server-es-insecure', 'do not verify Elasticsearch (FLEET_SERVER_ELASTICSEARCH_INSECURE)')
    .option('--fleet-server-es-cert <file>', 'client certificate presented to Elasticsearch (FLEET_SERVER_ES_CERT)')
    .option('--fleet-server-es-cert-key <file>', 'its private key (FLEET_SERVER_ES_CERT_KEY)')
    .option('--fleet-server-service-token <token>', 'service token for Elasticsearch (FLEET_SERVER_SERVICE_TOKEN)')
    .option('--fleet-server-service-token-path <file>', 'file holding it (FLEET_SERVER_SERVICE_TOKEN_PATH)')
    .option('--fleet-server-policy <id>', 'its policy id (FLEET_SERVER_POLICY_ID)', 'fleet-server-policy')
    .option('--fleet-server-host <address>', `address to bind (FLEET_SERVER_HOST; default $${HARNESS_ENV.bindHost} or 127.0.0.1)`)
    .option('--fleet-server-port <n>', 'port to bind (FLEET_SERVER_PORT)', '8220')
    .option('--fleet-server-cert <file>', 'certificate presented to agents (FLEET_SERVER_CERT; default fleet-cert)')
    .option('--fleet-server-cert-key <file>', 'its private key (FLEET_SERVER_CERT_KEY)')
    .option('--fleet-server-cert-key-passphrase <file>', 'file holding the key\'s passphrase (FLEET_SERVER_CERT_KEY_PASSPHRASE)')
    .option('--fleet-server-client-auth <mode>', 'none, optional or required (FLEET_SERVER_CLIENT_AUTH)', 'none')
    .option('--fleet-server-insecure-http', 'plain HTTP instead of TLS (FLEET_SERVER_INSECURE_HTTP)')
    .option('--certificate-authorities <files>', 'comma-separated CAs trusted for agent client certificates (FLEET_CA; default fleet-ca and agent-ca)')
    .option('--enrollment-token <token>', 'the enrollment token of its policy (FLEET_ENROLLMENT_TOKEN): Elasticsearch must know it; absent, one is created in Elasticsearch and printed')
    .option('--output-hosts <urls>', 'comma-separated Elasticsearch hosts of the policy\'s output (Kibana\'s Fleet output setting; default --fleet-server-es)')
    .option('--output-ca <files>', 'comma-separated CAs of the output\'s ssl.certificate_authorities (default --fleet-server-es-ca)')
    .option('--state-file <file>', `where to record that it listens, for \`fleet-tls healthcheck\` (default $${HARNESS_ENV.stateFile})`)
    .option('--json', 'log as JSON lines')
    .action(async (options: FleetServerCliOptions, command: Command) => {
      applyElasticEnv(command, 'fleet-server', env);
      if (!options.fleetServerEs) throw new HarnessError('FTH_USAGE', 'fleet-server needs --fleet-server-es (or FLEET_SERVER_ELASTICSEARCH_HOST)');
      const esUrl = parseUrlFlag(options.fleetServerEs, '--fleet-server-es');
      const abs = (file: string) => path.resolve(io.cwd, file);
      const serviceToken = tokenFrom(options.fleetServerServiceToken, options.fleetServerServiceTokenPath && abs(options.fleetServerServiceTokenPath), '--fleet-server-service-token');
      if (!serviceToken) throw new HarnessError('FTH_USAGE', 'fleet-server needs --fleet-server-service-token or -path (or FLEET_SERVER_SERVICE_TOKEN)');
      if (options.enrollmentToken) apiKeyOf(options.enrollmentToken, '--enrollment-token');
      if (Boolean(options.fleetServerEsCert) !== Boolean(options.fleetServerEsCertKey)) throw new HarnessError('FTH_USAGE', '--fleet-server-es-cert and --fleet-server-es-cert-key go together');
      if (Boolean(options.fleetServerCert) !== Boolean(options.fleetServerCertKey)) throw new HarnessError('FTH_USAGE', '--fleet-server-cert and --fleet-server-cert-key go together');
      const clientAuthentication = oneOfModes(options.fleetServerClientAuth, '--fleet-server-client-auth');
      const port = parsePort(options.fleetServerPort, '--fleet-server-port');
      const host = options.fleetServerHost ?? defaultBindHost(env);
      // Every file the flags name is read before a PKI is written for what they leave out: bad input writes nothing.
      const given = options.fleetServerCert
        ? named({ certificate: '--fleet-server-cert', key: '--fleet-server-cert-key', passphrase: '--fleet-server-cert-key-passphrase' },
          () => loadIdentity(abs(options.fleetServerCert!), abs(options.fleetServerCertKey!), options.fleetServerCertKeyPassphrase ? abs(options.fleetServerCertKeyPassphrase) : undefined))
        : undefined;
      const givenCas = options.certificateAuthorities ? named('--certificate-authorities', () => loadCertificateAuthorities(pathList(options.certificateAuthorities, io))) : undefined;
      const esCaFiles = pathList(options.fleetServerEsCa, io);
      const outputCaFiles = options.outputCa ? pathList(options.outputCa, io) : esCaFiles;
      const esCas = esCaFiles.length ? named('--fleet-server-es-ca', () => loadCertificateAuthorities(esCaFiles)) : undefined;
      const esCertificate = options.fleetServerEsCert
        ? named({ certificate: '--fleet-server-es-cert', key: '--fleet-server-es-cert-key' }, () => loadIdentity(abs(options.fleetServerEsCert!), abs(options.fleetServerEsCertKey!)))
        : undefined;
      const outputCas = outputCaFiles.map(readPem);
      const pki = !given || !givenCas ? (await pkiFor(io, options.certs)).pki : undefined;

      const fleet = await FakeFleetServer.start({
        identity: given ?? identity(pki!, 'fleet-cert'),
        host,
        port,
        certificateAuthorities: givenCas ?? authorities(pki!, 'fleet-ca', 'agent-ca'),
        clientAuthentication,
        ...(options.fleetServerInsecureHttp ? { tls: false } : {}),
        policyId: options.fleetServerPolicy,
        ...(options.enrollmentToken ? { enrollmentToken: options.enrollmentToken } : {}),
        elasticsearch: {
          url: esUrl.href.replace(/\/$/, ''),
          serviceToken,
          tls: {
            ...(options.fleetServerEsInsecure ? { verificationMode: 'none' as const } : {}),
            ...(esCas ? { certificateAuthorities: esCas } : {}),
            ...(options.fleetServerEsCaTrustedFingerprint ? { caTrustedFingerprint: options.fleetServerEsCaTrustedFingerprint } : {}),
            ...(esCertificate ? { certificate: esCertificate } : {}),
          },
        },
        output: {
          type: 'elasticsearch',
          hosts: options.outputHosts ? options.outputHosts.split(',').map((h) => h.trim()).filter(Boolean) : [esUrl.href.replace(/\/$/, '')],
          // Inline PEM, as Fleet puts the output's CA in the policy: the agent's host need not have the file.
          ...(outputCas.length ? { ssl: { certificate_authorities: outputCas } } : {}),
        },
      });
      streamLogs(io, [fleet.log], options.json);
      if (fleet.enrollmentToken && !options.enrollmentToken) io.out(`[fleet-server] enrollment token for agents: ${fleet.enrollmentToken}\n`);
      const stateFile = stateFileOf(io, options.stateFile, env);
      const url = localUrl(options.fleetServerInsecureHttp ? 'http' : 'https', host, fleet.port);
      const current = () => ({ component: 'fleet-server' as const, pid: process.pid, url, state: fleet.state, clientAuthentication });
      const record = () => writeState(stateFile, current());
      await writeStateOrClose(stateFile, current(), () => fleet.close());
      // The recorded state is what `healthcheck` falls back on when a client certificate is required.
      fleet.log.on('entry', (entry) => { if (entry.fields?.state) void record().catch(() => {}); });
      const signal = await io.untilStopped();
      await fleet.close();
      io.out(`[fleet-server] stopped (${signal})\n`);
    });
}

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new HarnessError('FTH_FILE_UNREADABLE', `--output-ca ${file}: ${systemErrorCode(error) ?? (error as Error).message}`);
  }
}
