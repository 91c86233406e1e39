import path from 'node:path';
import type { Command } from 'commander';
import { identity, authorities } from '../../api.js';
import { FakeElasticsearch } from '../../components/elasticsearch.js';
import { newServiceToken } from '../../components/elasticsearch-api.js';
import { serviceAccount } from '../../components/elasticsearch/security.js';
import { HarnessError } from '../../errors.js';
import { loadCertificateAuthorities, loadIdentity } from '../../tls/material.js';
import { DEFAULT_VERSIONS, only, parseClientAuthentication } from '../../tls/settings.js';
import { applyElasticEnv } from '../elastic-env.js';
import type { Io } from '../io.js';
import { apiKeyOf, defaultBindHost, HARNESS_ENV, localUrl, pathList, streamLogs, writeStateOrClose, stateFileOf } from './component-shared.js';
import { named, parsePort, parseVersions, pkiFor } from './shared.js';

interface ElasticsearchCliOptions {
  certs: string;
  cert?: string;
  key?: string;
  certificateAuthorities?: string;
  clientAuth: string;
  host?: string;
  port: string;
  tls: string;
  serviceToken?: string;
  enrollmentToken?: string;
  stateFile?: string;
  json?: boolean;
}

export function registerElasticsearch(program: Command, io: Io, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('elasticsearch')
    .description('start the fake Elasticsearch on its own until stopped; also reads the TLS settings of Elastic\'s Elasticsearch image (xpack.security.http.ssl.*) from the environment')
    .option('--certs <dir>', 'PKI directory for what no flag gives (es-cert, es-ca); generated if missing', 'certs')
    .option('--cert <file>', 'its HTTPS certificate (xpack.security.http.ssl.certificate; default es-cert)')
    .option('--key <file>', 'its private key (xpack.security.http.ssl.key)')
    .option('--certificate-authorities <files>', 'comma-separated CAs trusted for client certificates (xpack.security.http.ssl.certificate_authorities; default es-ca)')
    .option('--client-auth <mode>', 'none, optional or required (xpack.security.http.ssl.client_authentication)', 'none')
    .option('--host <address>', `address to listen on (network.host; default $${HARNESS_ENV.bindHost} or 127.0.0.1)`)
    .option('--port <n>', 'port (http.port)', '9200')
    .option('--tls <version>', '1.2, 1.3 or both', 'both')
    .option('--service-token <token>', 'the Fleet Server service token it accepts (FLEET_SERVER_SERVICE_TOKEN; default a new one, printed)')
    .option('--enrollment-token <token>', 'an enrollment token it knows as an API key (FLEET_ENROLLMENT_TOKEN): stands in for the one Kibana would create')
    .option('--state-file <file>', `where to record that it listens, for \`fleet-tls healthcheck\` (default $${HARNESS_ENV.stateFile})`)
    .option('--json', 'log as JSON lines')
    .action(async (options: ElasticsearchCliOptions, command: Command) => {
      applyElasticEnv(command, 'elasticsearch', env);
      const clientAuthentication = oneOfModes(options.clientAuth);
      const port = parsePort(options.port, '--port');
      const versions = parseVersions(options.tls);
      if (Boolean(options.cert) !== Boolean(options.key)) throw new HarnessError('FTH_USAGE', '--cert and --key go together');
      const apiKey = options.enrollmentToken ? apiKeyOf(options.enrollmentToken, '--enrollment-token') : undefined;
      // The files the flags name are read before a PKI is written for what they leave out: bad input writes nothing.
      const given = options.cert ? named({ certificate: '--cert', key: '--key' }, () => loadIdentity(path.resolve(io.cwd, options.cert!), path.resolve(io.cwd, options.key!))) : undefined;
      const givenCas = options.certificateAuthorities ? named('--certificate-authorities', () => loadCertificateAuthorities(pathList(options.certificateAuthorities, io))) : undefined;
      const pki = !given || !givenCas ? (await pkiFor(io, options.certs)).pki : undefined;
      const host = options.host ?? defaultBindHost(env);
      const serviceToken = options.serviceToken ?? newServiceToken();
      const es = await FakeElasticsearch.start({
        identity: given ?? identity(pki!, 'es-cert'),
        clientCertificateAuthorities: givenCas ?? authorities(pki!, 'es-ca'),
        clientAuthentication,
        versions: versions.length === 1 ? only(versions[0]!) : DEFAULT_VERSIONS,
        serviceToken,
        host,
        port,
      });
      if (apiKey) es.state.apiKeys.set(apiKey.id, { secret: apiKey.secret, name: 'enrollment-key (FLEET_ENROLLMENT_TOKEN)', owner: serviceAccount('token') });
      streamLogs(io, [es.log], options.json);
      if (!options.serviceToken) io.out(`[elasticsearch] service token for Fleet Server: ${serviceToken}\n`);
      const stateFile = stateFileOf(io, options.stateFile, env);
      await writeStateOrClose(stateFile, { component: 'elasticsearch', pid: process.pid, url: localUrl('https', host, es.port) }, () => es.close());
      const signal = await io.untilStopped();
      await es.close();
      io.out(`[elasticsearch] stopped (${signal})\n`);
    });
}

export function oneOfModes(value: string, flag = '--client-auth') {
  try {
    return parseClientAuthentication(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `${flag} must be one of [none, optional, required]`);
  }
}
