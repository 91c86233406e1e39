import { describe, expect, it } from 'vitest';
import { explainDocument } from '../../../src/explain/report.js';
import { Explainer } from '../../../src/explain/match.js';
import { loadCatalog } from '../../../src/scenarios/catalog.js';

const catalog = loadCatalog();
const explainer = new Explainer(catalog);
const best = (line: string) => explainDocument(catalog, explainer.explain(line)).matches[0];

describe('older releases\' wordings of the lines the catalog writes', () => {
  it('recognises Elasticsearch\'s missing-certificate line as a JDK before JDK-8311644 writes it, without the alert name', () => {
    const found = best('io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: Empty client certificate chain');
    expect(found).toMatchObject({ scenario: 'fleet-es.one-way.es-requires-client-cert', score: 0.97, match: 'exact', olderWording: true });
    expect(found!.note).toBe('the line is the wording of Elasticsearch on a JDK before JDK-8311644 (JDK 17.0.15 and other JDK 17 and 21 updates without it); ' +
      '`fleet-tls run` writes the current wording');
  });

  it('puts Fleet Server\'s connection first for a bare "Received fatal alert: bad_certificate" from an older JDK', () => {
    const found = best('javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate');
    expect(found).toMatchObject({ match: 'contains', olderWording: true });
    expect(found!.scenario.startsWith('fleet-es.')).toBe(true);
  });

  it('ranks the agent\'s enrollment before its output for a bare x509 error pasted alone', () => {
    expect(best('x509: certificate signed by unknown authority')).toMatchObject({ scenario: 'agent-fleet.one-way.agent-lacks-fleet-ca', leg: 'agent->fleet-server', score: 0.8 });
  });
});
