/**
 * The self-contained HTML report: the view model as JSON, the stylesheet and the script,
 * all inline, so the file opens anywhere with no network (the "no CDN").
 */
import { PAGE_SCRIPT } from './script.js';
import { PAGE_STYLE } from './style.js';
import type { ReportView } from './model.js';

export interface LivePageData {
  readonly kind: 'live';
  readonly title: string;
  readonly events: string;
  readonly endpoints: readonly string[];
}

export function reportHtml(view: ReportView): string {
  const state = view.kind === 'catalog'
    ? `<span class="state ${view.ok ? 'ok' : 'bad'}">${view.ok ? 'all as expected' : 'not all as expected'}</span>`
    : `<span class="state ${view.ok ? 'ok' : 'bad'}">${view.ok ? 'works' : 'fails'}</span>`;
  return page(view.title, `${escapeHtml(view.subtitle)} · ${escapeHtml(view.generated.replace('T', ' ').slice(0, 19))} UTC`, state, view);
}

export function liveHtml(data: LivePageData): string {
  return page(data.title, `live: ${escapeHtml(data.endpoints.join(', '))}`, '', data);
}

function page(title: string, meta: string, state: string, data: object): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; connect-src 'self'">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(title)}</h1><span class="meta">${meta}</span>${state}</header>
<main id="content"><noscript>This report draws its pictures with JavaScript; the data is in the report-data block of this file.</noscript></main>
<footer>fleet-tls-harness · fake Elastic Agent, Fleet Server and Elasticsearch with real TLS handshakes</footer>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** JSON that cannot end the script element it sits in, nor open a comment there. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
