import { describe, expect, it } from 'vitest';
import { compileGlob, findInside, insidePiece, matchWhole } from '../../../src/explain/glob.js';
import { formsOf, pastedMessages } from '../../../src/explain/unwrap.js';

describe('pastedMessages', () => {
  it('takes message and error.message from an ECS line', () => {
    expect(pastedMessages('{"log.level":"error","message":"Fleet Server failed","error":{"message":"x509: bad"},"ecs.version":"1.6.0"}'))
      .toEqual(['Fleet Server failed: x509: bad', 'Fleet Server failed', 'x509: bad', '{"log.level":"error","message":"Fleet Server failed","error":{"message":"x509: bad"},"ecs.version":"1.6.0"}']);
  });

  it('also reads message and error.message joined, as zerolog\'s text output would print them', () => {
    expect(pastedMessages('{"log.level":"error","message":"Fleet Server failed","error.message":"x509: bad"}').slice(0, 3))
      .toEqual(['Fleet Server failed: x509: bad', 'Fleet Server failed', 'x509: bad']);
  });

  it('reads the message of an ECS line cut short with … as issues quote it', () => {
    expect(pastedMessages('{"log.level":"warn",…,"message":"SSL/TLS verifications disabled.",…}')[0]).toBe('SSL/TLS verifications disabled.');
  });

  it('takes the error.message field of a flattened ECS line, unescaping its quotes', () => {
    expect(pastedMessages('{"message":"failed",…,"error.message":"say \\"no\\""')).toEqual(['failed: say "no"', 'failed', 'say "no"', '{"message":"failed",…,"error.message":"say \\"no\\""']);
  });

  it('takes logfmt\'s msg', () => {
    expect(pastedMessages('level=error msg="tls: bad certificate" component=x')[0]).toBe('tls: bad certificate');
  });

  it('splits lines, real or pasted as \\n, and drops the empty piece a trailing \\n leaves', () => {
    expect(pastedMessages('http: TLS handshake error from 10.0.0.1:1: EOF\\n')).toEqual(['http: TLS handshake error from 10.0.0.1:1: EOF']);
    expect(pastedMessages('Error: fail to enroll: x\nFor help, please see our troubleshooting guide at https://example.com')).toEqual(['Error: fail to enroll: x', 'For help, please see our troubleshooting guide at https://example.com']);
  });

  it('drops the quotes or backticks a chat put around the line', () => {
    expect(pastedMessages('`tls: bad certificate`')).toEqual(['tls: bad certificate']);
  });
});

describe('formsOf', () => {
  it.each([
    ['an ISO timestamp and an upper-case level', '2025-01-01T10:00:00.000Z ERROR x509: bad'],
    ['a Beats text line: timestamp, level, logger and caller', '2025-01-01T10:00:00.000Z\tERROR\t[esclientleg]\ttransport/logging.go:38\tx509: bad'],
    ['a bracketed level', '[ERROR] x509: bad'],
    ['a docker compose prefix and a lower-case level', 'fleet-server-1  | error x509: bad'],
    ['the agent CLI\'s Error: ', 'Error: x509: bad'],
  ])('peels %s from the message', (_what, line) => {
    expect(formsOf(line).presented).toBe('x509: bad');
  });

  it('peels Elasticsearch\'s timestamp, level, logger and node name, so the node name does not count', () => {
    expect(formsOf('[2025-01-01T10:00:00,123][WARN ][o.e.h.AbstractHttpServerTransport] [es01] caught exception').presented).toBe('caught exception');
  });

  it('keeps a capitalised word that is not a level (Beats\' Error dialing)', () => {
    expect(formsOf('Error dialing x509: bad')).toMatchObject({ presented: 'Error dialing x509: bad', canonical: '[output] x509: bad', bare: 'x509: bad', marker: '[output] ' });
  });

  it.each([
    ['the agent\'s retry line', 'Error detected: fail to execute request to fleet-server: x509: bad, will retry in a moment.', '[enroll] fail to execute request to fleet-server: x509: bad'],
    ['the agent\'s final error', 'Error: fail to enroll: fail to execute request to fleet-server: x509: bad', '[enroll] fail to execute request to fleet-server: x509: bad'],
    ['the installing agent relaying Fleet Server', 'Fleet Server - Error - failed version compatibility check with elasticsearch: x509: bad', '[fleet-server] failed version compatibility check with elasticsearch: x509: bad'],
    ['Fleet Server\'s own line', 'Fleet Server failed: failed version compatibility check with elasticsearch: x509: bad', '[fleet-server] failed version compatibility check with elasticsearch: x509: bad'],
    ['Beats\' backoff line with Go\'s *url.Error', 'Failed to connect to backoff(elasticsearch(https://es:9200)): Get "https://es:9200": x509: bad', '[output] x509: bad'],
    ['an older agent\'s *url.Error', 'fail to enroll: Post "https://fleet:8220/api/fleet/agents/enroll?": x509: bad', '[enroll] x509: bad'],
    ['a *url.Error after the agent\'s own words', 'fail to enroll: fail to execute request to fleet-server: Post "https://fleet:8220/api": x509: bad', '[enroll] fail to execute request to fleet-server: x509: bad'],
    ['Go 1.20\'s prefix on its own verification errors', 'fail to enroll: fail to execute request to fleet-server: tls: failed to verify certificate: x509: bad', '[enroll] fail to execute request to fleet-server: x509: bad'],
  ])('turns %s into a leg marker', (_what, line, canonical) => {
    expect(formsOf(line).canonical).toBe(canonical);
  });
});

describe('glob', () => {
  const glob = compileGlob('current time <any> is after <any>');

  it('matches a whole line and counts what the wildcards took', () => {
    expect(matchWhole(glob, 'current time <time> is after <time>')).toEqual({ start: 0, end: 35, wildcardChars: 12 });
    expect(matchWhole(glob, 'current time <time> is before <time>')).toBeNull();
    expect(matchWhole(compileGlob('exact'), 'exact')).toEqual({ start: 0, end: 5, wildcardChars: 0 });
  });

  it('finds a template inside a longer line only on word boundaries', () => {
    expect(findInside(compileGlob('x509: bad'), 'prefix: x509: bad (more)')).toEqual({ start: 8, end: 17, wildcardChars: 0 });
    expect(findInside(compileGlob('x509: bad'), 'prefix: x509: badly')).toBeNull();
    expect(findInside(compileGlob('<any> is after <any>'), 'it is after now')).toMatchObject({ start: 0, end: 15 });
  });

  it('finds a fragment inside one literal piece of a template', () => {
    const template = compileGlob('fail to execute request to fleet-server: x509: certificate signed by <any>');
    expect(insidePiece(template, 'x509: certificate signed')).toBe(true);
    expect(insidePiece(template, 'x509: certif')).toBe(false);
  });
});
