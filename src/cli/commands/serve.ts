import type { Command } from 'commander';
import { startFleetServer } from '../../api.js';
import { FakeElasticsearch } from '../../components/elasticsearch.js';
import { elasticsearchMaterial } from '../../flows/install-plan.js';
import { DEFAULT_VERSIONS, only } from '../../tls/settings.js';
import type { FakeFleetServer } from '../../components/fleet-server.js';
import { newServiceToken } from '../../components/elasticsearch-api.js';
import type { LogEntry } from '../../components/log.js';
import { HarnessError } from '../../errors.js';
import { parseClientAuthentication, type ClientAuthentication } from '../../tls/settings.js';
import { checkServiceToken } from '../../tokens.js';
import type { Io } from '../io.js';
import { parsePort, parseVersions, pkiFor } from './shared.js';
import type { Pki } from '../../pki/store.js';
import { startLiveView, type LiveView } from '../../ui/live.js';
import { addProxyOptions, planProxies, proxyLine, startProxies, type ServeProxyFlags, type StartedProxies } from './serve-proxies.js';

interface ServeOptions extends ServeProxyFlags {
  certs: string;
  host: string;
  fleetServerPort: string;
  esPort: string;
  fleetServerClientAuth: string;
  esClientAuth: string;
  tls: string;
  serviceToken?: string;
  esCert?: string;
  esCertKey?: string;
  esKeystore?: string;
  esKeystorePassword?: string;
  esClientCa?: string;
  esPassword?: string;
  json?: boolean;
  quiet?: boolean;
  ui?: string;
  uiHost: string;
}

export function registerServe(program: Command, io: Io): void {
  const command = program
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
    .option('--es-cert <file>', 'certificate (and chain) Elasticsearch presents, sent as the file holds it (default: es-cert and es-ca from --certs, as auto-configured security presents its HTTP CA)')
    .option('--es-cert-key <file>', 'its private key (default: es-cert.key from --certs)')
    .option('--es-keystore <file>', 'PKCS#12 keystore instead of --es-cert/--es-cert-key (http.p12, elastic-certificates.p12)')
    .option('--es-keystore-password <password>', 'its password (default empty)')
    .option('--es-client-ca <files>', 'comma-separated CAs Elasticsearch trusts for client certificates (default: es-ca from --certs)')
    .option('--es-password <password>', 'password of the elastic user for Basic authentication (default: a new one, printed when ready)')
    .option('--json', 'print the endpoints as one JSON line when ready, then logs as JSON lines')
    .option('--quiet', 'do not print the components\' log lines')
    .option('--ui <port>', 'also serve a page showing each connection to the fakes as it happens, with its ladder (0: any free port)')
    .option('--ui-host <address>', 'address the --ui page listens on', '127.0.0.1');
  addProxyOptions(command)
    .action(async (options: ServeOptions) => {
      const fleetServerClientAuth = mode(options.fleetServerClientAuth, '--fleet-server-client-auth');
      const esClientAuth = mode(options.esClientAuth, '--es-client-auth');
      const fleetPort = parsePort(options.fleetServerPort, '--fleet-server-port');
      const esPort = parsePort(options.esPort, '--es-port');
      const uiPort = options.ui === undefined ? undefined : parsePort(options.ui, '--ui');
      const versions = parseVersions(options.tls);
      const tls = versions.length === 1 ? { tls: versions[0]! } : {};
      const serviceToken = options.serviceToken === undefined ? newServiceToken() : checkServiceToken(options.serviceToken, '--service-token');
      const flag: Record<string, string | undefined> = {
        'es-cert': options.esCert, 'es-cert-key': options.esCertKey, 'es-keystore': options.esKeystore,
        'es-keystore-password': options.esKeystorePassword, 'es-client-ca': options.esClientCa,
      };
      const esMaterial = (from: Pki) => elasticsearchMaterial({
        str: (name) => flag[name],
        file: (name) => flag[name],
        list: (name) => flag[name]?.split(',').filter(Boolean),
      }, from);
      // Every file a flag names is checked against the PKI before that PKI is written: bad input writes nothing.
      const { pki } = await pkiFor(io, options.certs, (candidate) => {
        planProxies(options, candidate);
        esMaterial(candidate);
      });
      const proxyPlan = planProxies(options, pki);
      const print = (entry: LogEntry) => {
        if (options.quiet) return;
        const message = proxyLine(entry);
        io.out(options.json ? `${JSON.stringify({ component: entry.component, level: entry.level, message })}\n` : `[${entry.component}] ${message}\n`);
      };

      const material = esMaterial(pki);
      const es = await FakeElasticsearch.start({
        ...material, host: options.host, port: esPort, clientAuthentication: esClientAuth, serviceToken,
        versions: tls.tls ? only(tls.tls) : DEFAULT_VERSIONS,
        ...(options.esPassword !== undefined ? { users: { elastic: options.esPassword } } : {}),
      });
      let fleet: FakeFleetServer;
      try {
        fleet = await startFleetServer({ pki, elasticsearch: es, host: options.host, port: fleetPort, clientAuthentication: fleetServerClientAuth, ...tls });
      } catch (error) {
        await es.close();
        throw error;
      }
      let proxies: StartedProxies;
      try {
        proxies = await startProxies(proxyPlan, options.host, fleet.url, tls.tls ? only(tls.tls) : DEFAULT_VERSIONS);
      } catch (error) {
        await Promise.all([fleet.close(), es.close()]);
        throw error;
      }
      let ui: LiveView | undefined;
      if (uiPort !== undefined) {
        try {
          ui = await startLiveView({ host: options.uiHost, port: uiPort, endpoints: [es.url, fleet.url] });
        } catch (error) {
          await Promise.all([fleet.close(), es.close(), proxies.close()]);
          throw error;
        }
      }
      // Logs start once everything listens: a refused start prints nothing but its one error line.
      for (const log of [es.log, fleet.log, ...proxies.logs]) {
        log.entries.forEach(print);
        log.on('entry', print);
      }
      const ready = {
        elasticsearch: es.url,
        fleetServer: fleet.url,
        fleetServerStatus: fleet.state,
        serviceToken,
        elasticPassword: es.password,
        enrollmentToken: fleet.enrollmentToken ?? null,
        certs: pki.dir,
        ...proxies.ready,
        ...(ui ? { ui: ui.url } : {}),
      };
      io.out(options.json ? `${JSON.stringify({ ready })}\n` : [
        `fake Elasticsearch  ${es.url}  (client authentication: ${esClientAuth})`,
        `fake Fleet Server   ${fleet.url}  (client authentication: ${fleetServerClientAuth}; ${fleet.state})`,
        `service token       ${serviceToken}`,
        `elastic password    ${es.password}`,
        `enrollment token    ${fleet.enrollmentToken ?? '(none: Fleet Server is not healthy)'}`,
        ...proxies.lines,
        `PKI                 ${pki.dir}`,
        ...(ui ? [`live view           ${ui.url}`] : []),
        'ready; Ctrl-C stops',
        '',
      ].join('\n'));
      const signal = await io.untilStopped();
      await Promise.all([proxies.close(), fleet.close(), es.close(), ui?.close()]);
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
