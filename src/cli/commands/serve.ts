import type { Command } from 'commander';
import { FakeElasticsearch } from '../../components/elasticsearch.js';
import { FakeFleetServer } from '../../components/fleet-server.js';
import { newServiceToken } from '../../components/elasticsearch-api.js';
import type { LogEntry } from '../../components/log.js';
import { HarnessError } from '../../errors.js';
import { identityFromPem } from '../../tls/material.js';
import { DEFAULT_VERSIONS, only, parseClientAuthentication, type ClientAuthentication } from '../../tls/settings.js';
import { parsePemCertificates } from '../../x509/certificate.js';
import type { Io } from '../io.js';
import { parsePort, parseVersions, pkiFor } from './shared.js';

interface ServeOptions {
  certs: string;
  host: string;
  fleetServerPort: string;
  esPort: string;
  fleetServerClientAuth: string;
  esClientAuth: string;
  tls: string;
  serviceToken?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerServe(program: Command, io: Io): void {
  program
    .command('serve')
    .description('start a fake Elasticsearch and a fake Fleet Server for outside clients (curl, openssl, a real agent) until interrupted')
    .option('--certs <dir>', 'PKI directory (generated if missing)', 'certs')
    .option('--host <address>', 'address both listen on', '127.0.0.1')
    .option('--fleet-server-port <n>', 'Fleet Server port', '8220')
    .option('--es-port <n>', 'Elasticsearch port', '9200')
    .option('--fleet-server-client-auth <mode>', 'none, optional or required; client certificates are checked against fleet-ca and agent-ca', 'none')
    .option('--es-client-auth <mode>', 'none, optional or required; client certificates are checked against es-ca', 'optional')
    .option('--tls <version>', '1.2, 1.3 or both', 'both')
    .option('--service-token <token>', 'the service token Elasticsearch accepts (default: a new one)')
    .option('--json', 'print the endpoints as one JSON line when ready, then logs as JSON lines')
    .option('--quiet', 'do not print the components\' log lines')
    .action(async (options: ServeOptions) => {
      const fleetServerClientAuth = mode(options.fleetServerClientAuth, '--fleet-server-client-auth');
      const esClientAuth = mode(options.esClientAuth, '--es-client-auth');
      const fleetPort = parsePort(options.fleetServerPort, '--fleet-server-port');
      const esPort = parsePort(options.esPort, '--es-port');
      const versions = parseVersions(options.tls);
      const range = versions.length === 1 ? only(versions[0]!) : DEFAULT_VERSIONS;
      const { pki } = await pkiFor(io, options.certs);
      const identity = (name: 'fleet-cert' | 'es-cert' | 'fleet-es-cert') => identityFromPem(pki.leaves[name].pem, pki.leaves[name].key);
      const cas = (...names: Array<'fleet-ca' | 'agent-ca' | 'es-ca'>) => names.flatMap((n) => parsePemCertificates(pki.cas[n].pem));
      const serviceToken = options.serviceToken ?? newServiceToken();
      const print = (entry: LogEntry) => {
        if (options.quiet) return;
        io.out(options.json ? `${JSON.stringify({ component: entry.component, level: entry.level, message: entry.message })}\n` : `[${entry.component}] ${entry.message}\n`);
      };

      const es = await FakeElasticsearch.start({
        identity: identity('es-cert'), host: options.host, port: esPort, clientAuthentication: esClientAuth,
        clientCertificateAuthorities: cas('es-ca'), versions: range, serviceToken,
      });
      let fleet: FakeFleetServer;
      try {
        fleet = await FakeFleetServer.start({
          identity: identity('fleet-cert'), host: options.host, port: fleetPort,
          certificateAuthorities: cas('fleet-ca', 'agent-ca'), clientAuthentication: fleetServerClientAuth, versions: range,
          elasticsearch: { url: es.url, serviceToken, tls: { certificateAuthorities: cas('es-ca'), certificate: identity('fleet-es-cert') } },
        });
      } catch (error) {
        await es.close();
        throw error;
      }
      // Logs start once both listen: a refused start prints nothing but its one error line.
      for (const log of [es.log, fleet.log]) {
        log.entries.forEach(print);
        log.on('entry', print);
      }
      const ready = {
        elasticsearch: es.url,
        fleetServer: fleet.url,
        fleetServerStatus: fleet.state,
        serviceToken,
        enrollmentToken: fleet.enrollmentToken ?? null,
        certs: pki.dir,
      };
      io.out(options.json ? `${JSON.stringify({ ready })}\n` : [
        `fake Elasticsearch  ${es.url}  (client authentication: ${esClientAuth})`,
        `fake Fleet Server   ${fleet.url}  (client authentication: ${fleetServerClientAuth}; ${fleet.state})`,
        `service token       ${serviceToken}`,
        `enrollment token    ${fleet.enrollmentToken ?? '(none: Fleet Server is not healthy)'}`,
        `PKI                 ${pki.dir}`,
        'ready; Ctrl-C stops',
        '',
      ].join('\n'));
      const signal = await io.untilStopped();
      await Promise.all([fleet.close(), es.close()]);
      if (!options.json) io.out(`stopped (${signal})\n`);
    });
}

function mode(value: string, flag: string): ClientAuthentication {
  try {
    return parseClientAuthentication(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `${flag} must be one of [none, optional, required]`);
  }
}
