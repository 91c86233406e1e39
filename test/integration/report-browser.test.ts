import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { execa } from 'execa';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetTls } from '../helpers/cli.js';
import { collectErrors, launchBrowser } from '../helpers/browser.js';
import { scratchDir } from '../helpers/pki.js';
import { serve } from '../helpers/serve.js';
import { requireTool } from '../helpers/tools.js';

const curl = requireTool(['curl'], 'curl');
/** Where a person looks at what the browser saw (gitignored). */
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-output');
const IDS = ['flow.one-way', 'flow.mutual', 'agent-fleet.one-way.agent-lacks-fleet-ca', 'agent-fleet.mutual.agent-has-no-cert',
  'agent-fleet.mutual.agent-cert-untrusted-ca', 'fleet-es.one-way.fleet-lacks-es-ca'];
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;
let report: string;
let page: Page;
let errors: string[];

beforeAll(async () => {
  scratch = await scratchDir();
  await mkdir(SHOTS, { recursive: true });
  report = path.join(scratch.dir, 'report.html');
  const [run, launched] = await Promise.all([
    fleetTls(['run', ...IDS, '--certs', path.join(scratch.dir, 'certs'), '--html', report]),
    launchBrowser(),
  ]);
  browser = launched;
  context = browser.context;
  if (run.exitCode !== 0) throw new Error(`run failed: ${run.stdout}\n${run.stderr}`);
  page = await context.newPage();
  errors = collectErrors(page);
  await page.goto(pathToFileURL(report).href);
  await page.waitForSelector('#list > li');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await scratch?.cleanup();
});

/** Narrows the list to one run and opens it with the keyboard: Tab to the summary, Enter. */
async function openRun(id: string, tls: string): Promise<ReturnType<Page['locator']>> {
  await page.selectOption('#f-tls', tls);
  await page.fill('#f-text', id);
  const item = page.locator('#list > li:not([hidden])');
  expect(await item.count()).toBe(1);
  const summary = item.locator('summary').first();
  if (await item.locator('details').first().evaluate((d) => (d as unknown as { open: boolean }).open)) await summary.click();
  await page.focus('#f-text');
  for (let i = 0; i < 10 && !(await summary.evaluate((s) => s === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)); i++) await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await item.locator('ol.ladder').first().waitFor();
  return item;
}

/** The ladder rows of a run's leg, as text, in order. */
async function ladder(item: ReturnType<Page['locator']>, leg: string): Promise<string[]> {
  const block = item.locator('.leg').filter({ hasText: leg }).first();
  if (!(await block.locator('details').evaluate((d) => (d as unknown as { open: boolean }).open))) await block.locator('summary').click();
  return block.locator('ol.ladder > li.row').evaluateAll((rows) => rows.map((r) => `${r.className.replace('row ', '')} | ${(r.querySelector('.lane') as unknown as { innerText: string }).innerText.replace(/\s+/g, ' ').trim()}`));
}

describe('the HTML report in Chromium', () => {
  it('shows one-way beside mutual: every leg green, the agent presenting its certificate only under mutual', async () => {
    const columns = page.locator('.flow-col:not([hidden])');
    expect(await columns.locator('h3:not(.cardname)').allInnerTexts()).toEqual(['One-way TLS TLS 1.3', 'Mutual TLS TLS 1.3']);
    const edges = await columns.locator('svg.topology.v text.edge').allTextContents();
    expect(edges).toEqual(['✓ TLS 1.3', '✓ TLS 1.3', '✓ TLS 1.3', '✓ TLS 1.3', '✓ TLS 1.3', '✓ TLS 1.3']);
    expect(await columns.nth(0).locator('svg.topology.v .node text.sub').allTextContents()).toEqual(['presents no certificate', 'presents fleet-server', 'presents elasticsearch']);
    expect(await columns.nth(1).locator('svg.topology.v .node text.sub').allTextContents()).toEqual(['presents elastic-agent', 'presents fleet-server', 'presents elasticsearch']);
    await page.getByRole('radio', { name: 'TLS 1.2' }).check();
    expect(await page.locator('.flow-col:not([hidden]) h3:not(.cardname)').allInnerTexts()).toEqual(['One-way TLS TLS 1.2', 'Mutual TLS TLS 1.2']);
    await page.screenshot({ path: path.join(SHOTS, 'report-desktop.png') });
    await page.getByRole('radio', { name: 'TLS 1.3' }).check();
  });

  it('draws the agent that lacks fleet-ca as a red leg: the agent sends bad_certificate during the handshake', async () => {
    const item = await openRun('agent-fleet.one-way.agent-lacks-fleet-ca', '1.3');
    expect(await item.locator('svg.topology.h text.edge.fail').allTextContents()).toEqual(['✗ bad_certificate']);
    expect(await item.locator('svg.topology.h text.edge2.fail').allTextContents()).toEqual(['rejected by Elastic Agent']);
    const rows = await ladder(item, 'Elastic Agent → Fleet Server');
    const alert = rows.findIndex((r) => r.startsWith('msg right bad | Elastic Agent to Fleet Server: Alert: bad_certificate'));
    expect(rows[alert]).toBe('msg right bad | Elastic Agent to Fleet Server: Alert: bad_certificate fatal, encrypted');
    expect(rows[alert + 1]).toBe('mark bad | ✗ rejected by agent during the handshake alert bad_certificate');
    expect(rows.some((r) => r.startsWith('mark ok | the client considers its handshake done'))).toBe(false);
    expect(rows.find((r) => r.startsWith('note left'))).toMatch(/^note left \| ELASTIC AGENT LOGS Error detected: fail to execute request to fleet-server: x509: certificate signed by unknown authority/);
  });

  it('shows the certificate Go withholds under mutual TLS when fleet-server does not ask for its issuer', async () => {
    const item = await openRun('agent-fleet.mutual.agent-cert-untrusted-ca', '1.2');
    const rows = await ladder(item, 'Elastic Agent → Fleet Server');
    expect(rows.find((r) => r.includes('CertificateRequest'))).toBe('msg left warn | Fleet Server to Elastic Agent: CertificateRequest asks for a certificate issued by: CN=fleet-ca,O=fleet-tls-harness CN=agent-ca,O=fleet-tls-harness');
    expect(rows.find((r) => r.includes('Certificate (empty)'))).toMatch(/^msg right warn \| Elastic Agent to Fleet Server: Certificate \(empty\) withheld: CN=\S+ /);
    expect(rows.filter((r) => r.startsWith('mark bad'))).toEqual(['mark bad | ✗ rejected by fleet-server during the handshake alert bad_certificate']);
    await expect(item.locator('.card').filter({ has: page.locator('h3', { hasText: 'Elastic Agent' }) }).locator('.warn-text').first().innerText()).resolves.toBe('withheld');
  });

  it('shows the TLS 1.3 late rejection: the agent is done with its handshake before certificate_required arrives', async () => {
    const item = await openRun('agent-fleet.mutual.agent-has-no-cert', '1.3');
    const rows = await ladder(item, 'Elastic Agent → Fleet Server');
    const done = rows.indexOf('mark ok | the client considers its handshake done TLS 1.3: the client sent the last Finished; the server has not yet answered its certificate');
    const alert = rows.indexOf('msg left bad | Fleet Server to Elastic Agent: Alert: certificate_required fatal, encrypted');
    expect(done).toBeGreaterThan(0);
    expect(alert).toBeGreaterThan(done);
    expect(rows[alert + 1]).toBe('mark bad | ✗ rejected by fleet-server after the client thought its handshake was done (TLS 1.3) alert certificate_required');
    // Fleet Server's line is written before its alert leaves; the agent's after it arrives.
    expect(rows.slice(done, alert).find((r) => r.startsWith('note right'))).toMatch(/tls: client didn't provide a certificate$/);
    expect(rows.slice(alert).find((r) => r.startsWith('note left'))).toMatch(/remote error: tls: certificate required$/);
    await item.screenshot({ path: path.join(SHOTS, 'report-late-rejection.png') });
  });

  it('filters by failing leg, TLS version, result and text', async () => {
    await page.fill('#f-text', '');
    await page.selectOption('#f-tls', '');
    expect(await page.locator('#f-count').innerText()).toBe(`${IDS.length * 2} of ${IDS.length * 2} runs shown`);
    await page.selectOption('#f-leg', 'fleet-server->elasticsearch');
    expect(await page.locator('#list > li:not([hidden]) .sid').allInnerTexts()).toEqual(['fleet-es.one-way.fleet-lacks-es-ca', 'fleet-es.one-way.fleet-lacks-es-ca']);
    await page.selectOption('#f-leg', '');
    await page.selectOption('#f-result', 'works');
    await page.selectOption('#f-tls', '1.2');
    expect(await page.locator('#list > li:not([hidden]) .sid').allInnerTexts()).toEqual(['flow.one-way', 'flow.mutual']);
    await page.selectOption('#f-result', 'fails');
    await page.fill('#f-text', 'certificate_required');
    expect(await page.locator('#list > li:not([hidden]) .sid').allInnerTexts()).toEqual([]);
    await page.selectOption('#f-tls', '1.3');
    expect(await page.locator('#list > li:not([hidden]) .sid').allInnerTexts()).toEqual(['agent-fleet.mutual.agent-has-no-cert', 'agent-fleet.mutual.agent-cert-untrusted-ca']);
    await page.selectOption('#f-result', '');
    await page.fill('#f-text', '');
  });

  it('has no serious or critical axe-core violation, with a run open, and no console error', async () => {
    await openRun('agent-fleet.mutual.agent-has-no-cert', '1.3');
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe.run();
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
    });
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
  }, 90_000);

  it('reads at a narrow width: the topology stacks vertically', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    const item = page.locator('#list > li:not([hidden])').first();
    expect(await item.locator('svg.topology.v').first().isVisible()).toBe(true);
    expect(await item.locator('svg.topology.h').first().isVisible()).toBe(false);
    await item.screenshot({ path: path.join(SHOTS, 'report-narrow.png') });
    await page.setViewportSize({ width: 1366, height: 900 });
    expect((await stat(report)).size).toBeGreaterThan(0);
  });
});

describe('serve --ui in Chromium', () => {
  it('shows a curl connection to Fleet Server as it happens, refused for want of a certificate', async () => {
    const served = await serve(path.join(scratch.dir, 'certs'), ['--ui', '0', '--fleet-server-client-auth', 'required', '--tls', '1.3']);
    try {
      const ui = (served.ready as unknown as { ui: string }).ui;
      expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const live = await context.newPage();
      const liveErrors = collectErrors(live);
      await live.goto(ui);
      await live.getByText('waiting for connections').waitFor();
      const ca = path.join(scratch.dir, 'certs', 'fleet-ca.crt');
      const refused = await execa(curl, ['-sS', '--cacert', ca, `https://localhost:${served.fleetServerPort}/api/status`], { reject: false });
      expect(refused.stderr).toMatch(/alert certificate required/);
      const item = live.locator('#live > li');
      await item.locator('.pill', { hasText: 'rejected' }).waitFor();
      expect(await item.count()).toBe(1);
      const rows = await item.locator('ol.ladder > li.row').evaluateAll((rs) => rs.map((r) => (r.querySelector('.lane') as unknown as { innerText: string }).innerText.replace(/\s+/g, ' ').trim()));
      expect(rows[0]).toBe('Client to Fleet Server: ClientHello SNI localhost offers TLS 1.3, 1.2, 1.1, 1.0');
      expect(rows).toContain('Fleet Server to Client: Alert: certificate_required fatal, encrypted');
      expect(rows).toContain('✗ rejected by fleet-server after the client thought its handshake was done (TLS 1.3) alert certificate_required');
      await live.screenshot({ path: path.join(SHOTS, 'live.png'), fullPage: true });
      expect(liveErrors).toEqual([]);
      await live.close();
    } finally {
      await served.stop('SIGINT');
    }
  });
});
