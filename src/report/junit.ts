import { legKey } from './leg.js';
import type { ScenarioResult } from '../scenarios/run.js';

/** JUnit XML: one test case per scenario and TLS version; a failure names expected and observed. */
export function junitReport(results: readonly ScenarioResult[]): string {
  const failures = results.filter((r) => !r.pass).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = results.map((r) => {
    const name = `${r.id}@tls${r.tls}`;
    const open = `  <testcase classname="fleet-tls.${escape(r.id)}" name="${escape(name)}" time="${seconds(r.durationMs)}">`;
    if (r.pass) return `${open}</testcase>`;
    const observed = r.legs.map((l) => `${legKey(l)}: ${l.ok ? 'ok' : `failed (rejectedBy=${l.rejectedBy}, phase=${l.phase}, alert=${l.alert})`}` +
      Object.entries(l.logs).map(([c, line]) => `\n  ${c}: ${line}`).join('')).join('\n');
    const body = `${r.mismatches.join('\n')}\n\nobserved:\n${observed}\n\nexpected:\n${JSON.stringify(r.expected, null, 2)}`;
    return `${open}\n    <failure message="${escape(r.mismatches[0] ?? 'did not behave as expected')}" type="mismatch">${escape(body)}</failure>\n  </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${results.length}" failures="${failures}" time="${seconds(total)}">\n` +
    `<testsuite name="fleet-tls-harness" tests="${results.length}" failures="${failures}" time="${seconds(total)}">\n${cases.join('\n')}\n</testsuite>\n</testsuites>\n`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');
}
