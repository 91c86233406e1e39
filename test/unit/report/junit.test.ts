import { describe, expect, it } from 'vitest';
import { junitReport } from '../../../src/report/junit.js';
import { FAILED, result } from './fixtures.js';

interface XmlElement { name: string; attributes: Record<string, string>; children: XmlElement[]; text: string }

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITY[name]!);
}

/**
 * A strict reader for the subset of XML 1.0 the report uses (declaration, elements, attributes
 * in double quotes, text): it throws on anything not well-formed instead of guessing.
 */
function parseXml(xml: string): XmlElement {
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(xml)) throw new Error('a control character XML 1.0 forbids');
  if (/&(?!(amp|lt|gt|quot|apos);)/.test(xml)) throw new Error('a bare &');
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack = [root];
  let match: RegExpExecArray | null;
  while (token.lastIndex < body.length) {
    const at = token.lastIndex;
    match = token.exec(body);
    if (!match) throw new Error(`not well-formed at ${at}: ${JSON.stringify(body.slice(at, at + 40))}`);
    const [, closing, name, attributeText, selfClosing, text] = match;
    const top = stack.at(-1)!;
    if (text !== undefined) {
      if (stack.length === 1 && text.trim()) throw new Error('text outside the root element');
      top.text += unescape(text);
    } else if (closing) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attributes: Record<string, string> = {};
      for (const [, key, value] of attributeText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
        if (key! in attributes) throw new Error(`attribute ${key} twice`);
        attributes[key!] = unescape(value!);
      }
      const element: XmlElement = { name: name!, attributes, children: [], text: '' };
      top.children.push(element);
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  if (root.children.length !== 1) throw new Error('not exactly one root element');
  return root.children[0]!;
}

describe('the XML reader these tests use', () => {
  it.each([
    ['<a><b></a>', '</a> closes <b>'],
    ['<a>x & y</a>', 'a bare &'],
    ['<a x="1" x="2"/>', 'attribute x twice'],
    ['<a>\u0007</a>', 'a control character XML 1.0 forbids'],
    ['<a/><b/>', 'not exactly one root element'],
    ['<a>', '<a> is never closed'],
  ])('rejects %j', (xml, message) => {
    expect(() => parseXml(xml)).toThrow(message);
  });
});

describe('junitReport', () => {
  const passed = result();
  const xml = junitReport([passed, FAILED]);
  const suites = parseXml(xml);
  const suite = suites.children[0]!;

  it('is well-formed XML with a testsuites root holding one testsuite', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(suites.name).toBe('testsuites');
    expect(suites.attributes).toEqual({ tests: '2', failures: '1', time: '1.290' });
    expect(suites.children.map((c) => c.name)).toEqual(['testsuite']);
    expect(suite.attributes).toEqual({ name: 'fleet-tls-harness', tests: '2', failures: '1', time: '1.290' });
  });

  it('has one testcase per result, named by id and TLS version, with its time in seconds', () => {
    expect(suite.children.map((c) => [c.name, c.attributes])).toEqual([
      ['testcase', { classname: 'fleet-tls.flow.one-way', name: 'flow.one-way@tls1.3', time: '1.234' }],
      ['testcase', { classname: 'fleet-tls.agent-fleet.one-way.fleet-cert-expired', name: 'agent-fleet.one-way.fleet-cert-expired@tls1.2', time: '0.056' }],
    ]);
    expect(suite.children[0]!.children).toEqual([]);
  });

  it('gives a failed testcase a failure whose message is its first mismatch, escaped', () => {
    const [failure, ...rest] = suite.children[1]!.children;
    expect(rest).toEqual([]);
    expect(failure!.name).toBe('failure');
    expect(failure!.attributes).toEqual({ message: 'agent->fleet-server rejectedBy: expected "client", got "server"', type: 'mismatch' });
    expect(xml).toContain('message="agent-&gt;fleet-server rejectedBy: expected &quot;client&quot;, got &quot;server&quot;"');
  });

  it('puts every mismatch, the observed legs and the expectation in the failure body, without the control character', () => {
    const body = suite.children[1]!.children[0]!.text;
    expect(body.split('\n\n')[0]).toBe(FAILED.mismatches.join('\n'));
    expect(body).toContain('observed:\nagent->fleet-server: failed (rejectedBy=server, phase=handshake, alert=certificate_required)\n  agent: fail to enroll: <x509> & "expired"\n');
    expect(body).toContain('\nfleet-server->elasticsearch: ok');
    expect(body.endsWith(`expected:\n${JSON.stringify(FAILED.expected, null, 2)}`)).toBe(true);
  });

  it('is a well-formed empty suite when there are no results', () => {
    expect(parseXml(junitReport([])).attributes).toEqual({ tests: '0', failures: '0', time: '0.000' });
  });
});
