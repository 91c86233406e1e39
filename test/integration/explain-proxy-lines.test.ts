import { describe, expect, it } from 'vitest';
import { cliInProcess } from '../helpers/cli.js';

/**
 * Proxy lines pasted as the components print them, with their own log format and a customer's
 * addresses: Go's errors as the agent wraps them, nginx's error log, tinyproxy's and dante's
 * logs (formats as test/helpers/proxy-peers.ts reads them from the real programs), and the
 * nginx pages as the agent quotes them. Each finds the scenario that reproduces it, first.
 */
const LINES: ReadonlyArray<readonly [string, string, string]> = [
  // [what, pasted line, scenario]
  ['a refused proxy', '{"log.level":"error","@timestamp":"2026-12-06T10:00:00.000Z","message":"fail to enroll: fail to execute request to fleet-server: proxyconnect tcp: dial tcp 10.20.0.5:3128: connect: connection refused"}', 'proxy.forward.proxy-refused'],
  ['CONNECT answered 407', 'Error: fail to enroll: fail to execute request to fleet-server: Proxy Authentication Required', 'proxy.forward.missing-credentials'],
  ['CONNECT answered 403 by tinyproxy', 'Error detected: fail to execute request to fleet-server: Access violation, will retry in a moment.', 'proxy.forward.connect-port-forbidden'],
  ['tinyproxy refusing the port', 'INFO      Dec 06 19:49:50.243 [15724]: Refused CONNECT method on port 8220', 'proxy.forward.connect-port-forbidden'],
  ['SOCKS without credentials', 'fail to enroll: fail to execute request to fleet-server: socks connect tcp 10.20.0.5:1080->fleet.corp.example:8220: no acceptable authentication methods', 'proxy.forward.socks-no-credentials'],
  ['dante refusing the method', 'Dec  6 19:50:15 (1796586615.790249) danted[16291]: info: block(1): tcp/accept ]: 10.20.0.9.51234 10.20.0.5.1080: error after reading 3 bytes in 0 seconds: client offered no acceptable authentication method', 'proxy.forward.socks-no-credentials'],
  ['SOCKS wrong password', 'fail to enroll: fail to execute request to fleet-server: socks connect tcp 10.20.0.5:1080->fleet.corp.example:8220: username/password authentication failed', 'proxy.forward.socks-wrong-password'],
  ['SOCKS ruleset', 'fail to enroll: fail to execute request to fleet-server: socks connect tcp 10.20.0.5:1080->fleet.corp.example:8220: unknown error connection not allowed by ruleset', 'proxy.forward.socks-port-blocked'],
  ['https:// at a plain proxy', 'fail to enroll: fail to execute request to fleet-server: proxyconnect tcp: tls: first record does not look like a TLS handshake', 'proxy.forward.https-url-plain-proxy'],
  ['socks5:// at an HTTP proxy', 'fail to enroll: fail to execute request to fleet-server: socks connect tcp 10.20.0.5:3128->fleet.corp.example:8220: unexpected protocol version 72', 'proxy.forward.socks-url-http-proxy'],
  ['an untrusted https proxy', 'fail to enroll: fail to execute request to fleet-server: proxyconnect tcp: x509: certificate signed by unknown authority', 'proxy.forward.https-proxy-untrusted'],
  ['nginx: no client certificate', '2026/12/06 10:00:00 [info] 2211#2211: *17 client sent no required SSL certificate while reading client request headers, client: 10.20.0.9, server: fleet.corp.example, request: "POST /api/fleet/agents/enroll HTTP/1.1", host: "fleet.corp.example:8220"', 'proxy.secure.proxy-trusts-another-ca'],
  ['nginx: an expired client certificate', '2026/12/06 10:00:00 [info] 2211#2211: *17 client SSL certificate verify error: (10:certificate has expired) while reading client request headers, client: 10.20.0.9, server: fleet.corp.example, request: "POST /api/fleet/agents/enroll HTTP/1.1", host: "fleet.corp.example:8220"', 'proxy.secure.agent-cert-expired'],
  ['nginx: an upstream it cannot verify', '2026/12/06 10:00:00 [error] 2211#2211: *17 upstream SSL certificate verify error: (21:unable to verify the first certificate) while SSL handshaking to upstream, client: 10.20.0.9, server: , request: "POST /api/fleet/agents/enroll HTTP/1.1", upstream: "https://10.20.0.7:8220/api/fleet/agents/enroll", host: "fleet.corp.example:8220"', 'proxy.secure.upstream-untrusted'],
  ['nginx: an upstream that wants its certificate', '2026/12/06 10:00:00 [crit] 2211#2211: *17 SSL_read() failed (SSL: error:0A00045C:SSL routines::tlsv13 alert certificate required:SSL alert number 116) while reading response header from upstream, client: 10.20.0.9, server: , request: "POST /api/fleet/agents/enroll HTTP/1.1", upstream: "https://10.20.0.7:8220/api/fleet/agents/enroll", host: "fleet.corp.example:8220"', 'proxy.secure.upstream-needs-client-cert'],
  ['the agent quoting nginx\'s 400 page for a bad certificate', 'fail to enroll: fail to execute request to fleet-server: could not decode the response, raw response: <html>\\r\\n<head><title>400 The SSL certificate error</title></head>', 'proxy.secure.agent-cert-expired'],
  ['the agent quoting nginx\'s 400 page for no certificate', 'fail to enroll: fail to execute request to fleet-server: could not decode the response, raw response: <html>\\r\\n<head><title>400 No required SSL certificate was sent</title></head>', 'proxy.secure.agent-has-no-cert'],
];

describe('explain on proxy lines as customers paste them', () => {
  it.each(LINES)('%s: the first match is the scenario that reproduces it', async (_what, line, scenario) => {
    const { status, out } = await cliInProcess(['explain', '--json', line]);
    const result = JSON.parse(out) as { matches: Array<{ scenario: string; match: string }> };
    expect([status, result.matches[0]?.scenario]).toEqual([0, scenario]);
  });
});
