import { describe, expect, it } from 'vitest';
import { Explainer } from '../../../src/explain/match.js';
import { words } from '../../../src/explain/templates.js';
import { normaliseTemplate } from '../../../src/explain/normalise.js';
import { presented } from '../../../src/explain/unwrap.js';
import { loadCatalog } from '../../../src/scenarios/catalog.js';
import { LEG_KEYS } from '../../../src/scenarios/schema.js';
import { accessLine, acceptFailureLine, errorAnswer } from '../../../src/components/proxy/squid-words.js';

/*
 * Every line a proxy fake writes or answers, as the catalog's proxy scenarios record them and as
 * the fakes' own word modules make them, pasted with a customer's numbers and addresses: explain
 * finds the scenario that reproduces it.
 */
const catalog = loadCatalog();
const explainer = new Explainer(catalog);
const ids = (line: string) => explainer.explain(line).matches.map((m) => m.scenario.id);

/** A template line made concrete, as a component would have written it on a customer's machine. */
const concrete = (template: string) => template.replaceAll('{address}', '10.20.0.9:51234').replaceAll('{any}', '17');

/** Each line every proxy scenario (and flow) records on any leg, for any component and TLS version. */
function proxyScenarioLines(): Array<[string, string, string]> {
  const lines: Array<[string, string, string]> = [];
  for (const scenario of catalog.scenarios.filter((s) => s.id.startsWith('proxy.') || s.id.startsWith('policy.fleet-proxy') || /proxy/.test(s.flow ?? ''))) {
    for (const leg of LEG_KEYS) {
      for (const [component, value] of Object.entries(scenario.expect[leg]?.logs ?? {})) {
        const texts = value === undefined ? [] : typeof value === 'string' ? [value] : [value['1.2'], value['1.3']];
        for (const text of new Set(texts)) {
          for (const line of text.split('\n')) {
            // A line of fewer than two words of its own (`{any}`) says nothing: explain keeps no template for it.
            if (words(presented(normaliseTemplate(line)).replaceAll('<any>', ' ')) >= 2) lines.push([scenario.id, `${leg} ${component}`, concrete(line)]);
          }
        }
      }
    }
  }
  return lines;
}

describe('explain finds the proxy scenario for every line it records', () => {
  const lines = proxyScenarioLines();
  it('covers the catalog\'s proxy scenarios: the forward, SOCKS, secure, intercepting and health-check ones', () => {
    const scenarios = new Set(lines.map(([id]) => id.split('.').slice(0, 2).join('.')));
    expect([...scenarios].filter((s) => s.startsWith('proxy.')).sort()).toEqual(['proxy.es', 'proxy.forward', 'proxy.intercept', 'proxy.lb', 'proxy.secure']);
    expect(lines.length).toBeGreaterThan(100);
  });

  it.each(lines)('%s (%s): %s', (id, _where, line) => {
    expect(ids(line)).toContain(id);
  });
});

/** [what, the line as the proxy writes or answers it, the scenario explain must rank first]. */
const FAKES: ReadonlyArray<readonly [string, string, string]> = [
  // squid (the intercepting fake's words, squid-words.ts), as its access.log and cache.log carry them.
  ['squid bumping a CONNECT it denies', `1796607179.252 ${accessLine({ elapsedMs: 46, client: '10.20.0.9', result: 'TCP_DENIED', status: 200, bytes: 0, method: 'CONNECT', url: 'fleet.corp.example:8220' })}`, 'proxy.intercept.connect-port-denied'],
  ['squid\'s 403 over the bumped connection', accessLine({ elapsedMs: 2, client: '10.20.0.9', result: 'NONE_NONE', status: 403, bytes: 3394, method: 'POST', url: 'https://fleet.corp.example:8220/api/fleet/agents/enroll', contentType: 'text/html' }), 'proxy.intercept.connect-port-denied'],
  ['squid\'s 503 over the bumped connection', accessLine({ elapsedMs: 23, client: '10.20.0.9', result: 'NONE_NONE', status: 503, bytes: 4077, method: 'POST', url: 'https://fleet.corp.example:8220/api/fleet/agents/enroll', contentType: 'text/html' }), 'proxy.intercept.upstream-untrusted'],
  ['squid refused the minted certificate', `2026/12/06 22:34:53| ${acceptFailureLine({ id: 11, local: '10.20.0.5:3128', remote: '10.20.0.9:51234', fd: 14, detail: '0x55d0c2a3e1c0' })}`, 'proxy.intercept.root-not-trusted'],
  ['squid\'s 403 page header', errorAnswer(403, 'ERR_ACCESS_DENIED 0', { url: 'fleet.corp.example:8220', message: 'Access Denied' }).head.split('\r\n').find((h) => h.startsWith('X-Squid-Error'))!, 'proxy.intercept.connect-port-denied'],
  ['squid\'s 503 page header', errorAnswer(503, 'ERR_SECURE_CONNECT_FAIL 0', { url: 'https://fleet.corp.example:8220/', message: 'x' }).head.split('\r\n').find((h) => h.startsWith('X-Squid-Error'))!, 'proxy.intercept.upstream-untrusted'],
  ['squid\'s 503 for a refused server', 'X-Squid-Error: ERR_CONNECT_FAIL 111', 'proxy.forward.target-refused'],
  ['squid\'s 407 page header', errorAnswer(407, 'ERR_CACHE_ACCESS_DENIED 0', { url: 'fleet.corp.example:8220', message: 'x' }).head.split('\r\n').find((h) => h.startsWith('X-Squid-Error'))!, 'proxy.forward.missing-credentials'],
  ['squid\'s 407 in access.log', accessLine({ elapsedMs: 0, client: '10.20.0.9', result: 'TCP_DENIED', status: 407, bytes: 3991, method: 'CONNECT', url: 'fleet.corp.example:8220', contentType: 'text/html' }), 'proxy.forward.missing-credentials'],
  // The agent quoting squid's pages: the real page's first lines and body id (squid 5.7's templates).
  ['the agent quoting squid\'s 403 page', 'Error: fail to enroll: fail to execute request to fleet-server: could not decode the response, raw response: <!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\\n<html><head>\\n<title>ERROR: The requested URL could not be retrieved</title>\\n</head><body id=ERR_ACCESS_DENIED>\\n<div id="titles">', 'proxy.intercept.connect-port-denied'],
  ['the agent on squid\'s 503 page', '{"log.level":"error","message":"fail to enroll: fail to execute request to fleet-server: received status code 503 (ServiceUnavailable): temporary server error, please retry later"}', 'proxy.intercept.upstream-untrusted'],
  // squid without ssl-bump answering CONNECT itself (observed with squid 5.7): Go's words are the status text.
  ['squid (no bump) denying the port', 'Error: fail to enroll: fail to execute request to fleet-server: Forbidden', 'proxy.forward.connect-port-forbidden'],
  ['squid (no bump) denying the port, access.log', '1796607179.252      0 10.20.0.9 TCP_DENIED/403 3397 CONNECT fleet.corp.example:8220 - HIER_NONE/- text/html', 'proxy.forward.connect-port-forbidden'],
  ['squid (no bump) unable to reach Fleet Server', 'Error: fail to enroll: fail to execute request to fleet-server: Service Unavailable', 'proxy.forward.target-refused'],
  ['squid (no bump) unable to reach Fleet Server, access.log', '1796605979.962      1 10.20.0.9 NONE_NONE/503 0 CONNECT fleet.corp.example:8220 - HIER_DIRECT/10.20.0.7 -', 'proxy.forward.target-refused'],
  // A CONNECT answered 502: tinyproxy's parent proxy refused, or a parent's own 502 relayed.
  ['CONNECT answered 502 by tinyproxy', 'Error: fail to enroll: fail to execute request to fleet-server: Unable to connect to upstream proxy', 'proxy.forward.parent-proxy-refused'],
  ['tinyproxy\'s warning', 'WARNING   Dec 07 01:14:00.138 [22422]: Could not connect to upstream proxy.', 'proxy.forward.parent-proxy-refused'],
  ['a parent\'s 502 relayed', 'fail to enroll: fail to execute request to fleet-server: Bad Gateway', 'proxy.forward.parent-proxy-refused'],
];

describe('explain on the lines the proxy fakes write and answer, as customers paste them', () => {
  it.each(FAKES)('%s: the first match is the scenario that reproduces it', (_what, line, id) => {
    expect(ids(line)[0]).toBe(id);
  });
});
