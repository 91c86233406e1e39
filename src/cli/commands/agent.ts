import { hostname } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { enrollAgent, type EnrollResult } from '../../components/agent.js';
import { ComponentLog } from '../../components/log.js';
import { elasticsearchOutput, shipUntilConnected, type PolicyOutput } from '../../components/output.js';
import { HarnessError } from '../../errors.js';
import { parseProxyHeaders, parseProxyUrl } from '../../components/proxy/proxy-url.js';
import { proxyFromEnvironment } from '../../components/proxy/proxy-env.js';
import { writeFileOwned } from '../../load/results.js';
import { skippedLeg } from '../../components/legs.js';
import type { Leg } from '../../report/leg.js';
import { loadCertificateAuthorities, loadIdentity } from '../../tls/material.js';
import { applyElasticEnv } from '../elastic-env.js';
import type { Io } from '../io.js';
import { HARNESS_ENV, parseDurationFlag, parseUrlFlag, pathList, streamLogs, writeState, stateFileOf } from './component-shared.js';

interface AgentCliOptions {
  url?: string;
  enrollmentToken?: string;
  certificateAuthorities?: string;
  insecure?: boolean;
  elasticAgentCert?: string;
  elasticAgentCertKey?: string;
  elasticAgentCertKeyPassphrase?: string;
  proxyUrl?: string;
  proxyDisabled?: boolean;
  proxyHeader?: string[];
  enrollTimeout: string;
  outputTimeout: string;
  result?: string;
  stateFile?: string;
  json?: boolean;
}

/** What one agent writes: its legs in the report's vocabulary, and when it enrolled. */
export interface AgentResult {
  readonly kind: 'agent';
  readonly agent: string;
  readonly ok: boolean;
  readonly agentId: string | null;
  readonly startedAt: string;
  readonly enrolledAt: string | null;
  readonly attempts: number;
  readonly legs: readonly Leg[];
  readonly logs: readonly string[];
}

export function registerAgent(program: Command, io: Io, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('agent')
    .description('run one fake Elastic Agent on its own: enroll with a Fleet Server (fake or real), check in, ship to the policy\'s output, write the JSON result; takes the flags of `elastic-agent enroll` and the FLEET_*/ELASTIC_AGENT_* variables of Elastic\'s agent image')
    .option('--url <url>', 'Fleet Server URL (FLEET_URL)')
    .option('--enrollment-token <token>', 'enrollment token (FLEET_ENROLLMENT_TOKEN)')
    .option('--certificate-authorities <files>', 'comma-separated CAs trusted for Fleet Server (FLEET_CA; default the system roots)')
    .option('--insecure', 'do not verify Fleet Server (FLEET_INSECURE)')
    .option('--elastic-agent-cert <file>', 'client certificate for mutual TLS (ELASTIC_AGENT_CERT)')
    .option('--elastic-agent-cert-key <file>', 'its private key (ELASTIC_AGENT_CERT_KEY)')
    .option('--elastic-agent-cert-key-passphrase <file>', 'file holding the key\'s passphrase (ELASTIC_AGENT_CERT_KEY_PASSPHRASE)')
    // elastic-agent internal/pkg/agent/cmd/enroll.go: --proxy-url, --proxy-disabled and --proxy-header
    // (a string slice of key=value) for the agent's own connection to Fleet Server. Elastic's image
    // has no variable for them (internal/pkg/agent/cmd/container.go reads none); without the flag,
    // HTTPS_PROXY and NO_PROXY apply, as to any Go client (docker/compose.yaml gives those).
    .option('--proxy-url <url>', 'the proxy the agent reaches Fleet Server through: http://, https:// or socks5://, with user:pass@ for Basic or SOCKS5 authentication; empty: none')
    .option('--proxy-disabled', 'no proxy for Fleet Server, whatever --proxy-url says')
    .option('--proxy-header <key=value>', 'header sent to the proxy with CONNECT (repeatable, or comma-separated as the agent takes it)', (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--enroll-timeout <time>', 'how long to keep retrying while Fleet Server cannot be reached or is not healthy yet', '120s')
    .option('--output-timeout <time>', 'how long the Beats keep reconnecting while Elasticsearch cannot be reached (name not resolved, connection refused)', '120s')
    .option('--result <file>', `where to write the JSON result (default <$${HARNESS_ENV.resultDir}>/<host name>.json when that is set)`)
    .option('--state-file <file>', `where to record that it finished, for \`fleet-tls healthcheck\` (default $${HARNESS_ENV.stateFile})`)
    .option('--json', 'log as JSON lines')
    .action(async (options: AgentCliOptions, command: Command) => {
      applyElasticEnv(command, 'agent', env);
      if (!options.url) throw new HarnessError('FTH_USAGE', 'agent needs --url (or FLEET_URL)');
      if (!options.enrollmentToken) throw new HarnessError('FTH_USAGE', 'agent needs --enrollment-token (or FLEET_ENROLLMENT_TOKEN)');
      const url = parseUrlFlag(options.url, '--url');
      if (Boolean(options.elasticAgentCert) !== Boolean(options.elasticAgentCertKey)) {
        throw new HarnessError('FTH_USAGE', '--elastic-agent-cert and --elastic-agent-cert-key go together');
      }
      const proxyHeaders = parseProxyHeaders(options.proxyHeader ?? []);
      // An empty --proxy-url is no proxy, as the agent's own `fProxyURL != ""`; a bad one is refused before any dial.
      // Without --proxy-url, libs' transport takes HTTPS_PROXY / NO_PROXY from the environment, as Go does.
      const proxyUrl = options.proxyUrl || (options.proxyDisabled ? undefined : proxyFromEnvironment(env, url));
      const proxy = proxyUrl ? { url: proxyUrl, headers: proxyHeaders, disable: options.proxyDisabled === true } : undefined;
      if (proxy && !proxy.disable) parseProxyUrl(proxy.url, options.proxyUrl ? '--proxy-url' : 'HTTPS_PROXY', proxyHeaders);
      else if (options.proxyHeader?.length && !options.proxyDisabled) throw new HarnessError('FTH_USAGE', '--proxy-header needs --proxy-url');
      const timeoutMs = parseDurationFlag(options.enrollTimeout, '--enroll-timeout');
      const outputTimeoutMs = parseDurationFlag(options.outputTimeout, '--output-timeout');
      const abs = (file: string) => path.resolve(io.cwd, file);
      const cas = pathList(options.certificateAuthorities, io);
      const tls = {
        verificationMode: options.insecure ? 'none' as const : 'full' as const,
        ...(cas.length ? { certificateAuthorities: loadCertificateAuthorities(cas) } : {}),
        ...(options.elasticAgentCert ? {
          certificate: loadIdentity(abs(options.elasticAgentCert), abs(options.elasticAgentCertKey!),
            options.elasticAgentCertKeyPassphrase ? abs(options.elasticAgentCertKeyPassphrase) : undefined),
        } : {}),
      };
      const resultFile = options.result ? abs(options.result) : env[HARNESS_ENV.resultDir] ? path.join(env[HARNESS_ENV.resultDir]!, `${hostname()}.json`) : undefined;
      const stateFile = stateFileOf(io, options.stateFile, env);
      const log = new ComponentLog('agent');
      streamLogs(io, [log], options.json);
      const startedAt = new Date();

      // Like the real agent, wait out a Fleet Server that is not there or not healthy yet; a TLS
      // rejection is an answer, and ends the run at once with the agent's words.
      let enrolled: EnrollResult;
      let attempts = 0;
      for (;;) {
        attempts += 1;
        const attempt = new ComponentLog('agent');
        enrolled = await enrollAgent({ url: url.href.replace(/\/$/, ''), enrollmentToken: options.enrollmentToken, tls, log: attempt, ...(proxy ? { proxy } : {}) });
        // Through a proxy, a tunnel that did not open (the proxy's name not resolved yet, the proxy
        // refusing, or answering CONNECT with 5xx because it could not resolve or reach Fleet Server)
        // gets no answer from Fleet Server: the real agent retries it like any such error
        // (elastic-agent internal/pkg/agent/application/enroll/enroll.go retryEnroll), as it does
        // ErrTemporaryServerError, a 502/503/504 (a secure proxy whose upstream is not up yet).
        const throughProxyFailed = enrolled.proxyLeg !== undefined && !enrolled.proxyLeg.ok;
        const status = enrolled.leg.http?.status;
        const transient = !enrolled.ok && !enrolled.agentId
          && (enrolled.leg.phase === 'connect' || throughProxyFailed || status === 502 || status === 503 || status === 504);
        const last = !transient || Date.now() - startedAt.getTime() > timeoutMs;
        // A retried attempt says only that it will retry; the last one says how it ended.
        for (const entry of attempt.entries) {
          if (last || (entry.level === 'warn' && !entry.message.startsWith('fail to enroll'))) log.write(entry.level, entry.message, entry.fields ? { ...entry.fields } : undefined);
        }
        if (last) break;
        if (!attempt.entries.some((e) => e.message.startsWith('Error detected'))) {
          log.write('warn', `Error detected: ${attempt.entries.at(-1)?.message ?? 'no answer'}, will retry in a moment.`);
        }
        // Backs off to 2 s between tries, so a Fleet Server that comes up is found soon.
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 250 * 2 ** attempts)));
      }
      const enrolledAt = enrolled.agentId ? new Date() : null;
      const output = elasticsearchOutput(enrolled.policy?.outputs);
      const shipped = enrolled.ok && output
        ? await shipUntilConnected({ output: withEnvironmentProxy(output, env), log }, outputTimeoutMs)
        : skippedLeg('agent', 'elasticsearch', output?.hosts?.[0] ?? '', enrolled.ok ? 'the policy has no Elasticsearch output' : 'the agent did not enroll, so it has no policy to ship data with');
      const ok = enrolled.ok && shipped.ok;
      const result: AgentResult = {
        kind: 'agent', agent: hostname(), ok, agentId: enrolled.agentId ?? null, startedAt: startedAt.toISOString(),
        enrolledAt: enrolledAt?.toISOString() ?? null, attempts,
        // The proxy hop first (agent → proxy), then agent → Fleet Server through it, then the output.
        legs: [...(enrolled.proxyLeg ? [enrolled.proxyLeg] : []), enrolled.leg, shipped],
        logs: log.entries.map((e) => e.message),
      };
      if (resultFile) await writeFileOwned(resultFile, `${JSON.stringify(result, null, 2)}\n`);
      await writeState(stateFile, { component: 'agent', pid: process.pid, done: true, ok });
      io.out(`[agent] ${ok ? 'enrolled, checked in and shipped' : 'failed'}${resultFile ? `; result in ${resultFile}` : ''}\n`);
      io.exitCode = ok ? 0 : 1;
    });
}

/** The Beats' libs transport honours the environment's proxy too, when the output names none. */
function withEnvironmentProxy(output: PolicyOutput, env: NodeJS.ProcessEnv): PolicyOutput {
  const host = output.hosts?.[0];
  if (output.proxy_url || output.proxy_disable || !host || !URL.canParse(host)) return output;
  const proxy = proxyFromEnvironment(env, new URL(host));
  return proxy ? { ...output, proxy_url: proxy } : output;
}
