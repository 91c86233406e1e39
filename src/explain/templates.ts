/**
 * Every line the catalog says a component writes, and every other release's wording of it
 * (`alsoSeenAs`), prepared once for comparison with pasted lines.
 */
import type { Catalog } from '../scenarios/catalog.js';
import { LEG_KEYS, type LegKey, type ScenarioData } from '../scenarios/schema.js';
import type { TlsVersion } from '../tls/settings.js';
import { compileGlob, type Glob } from './glob.js';
import { normaliseTemplate } from './normalise.js';
import { bare, canonical, core, markerOf, presented } from './unwrap.js';

export type Component = 'agent' | 'fleet-server' | 'elasticsearch';

/** Where a template line comes from: a leg's expected log, or the scenario's `alsoSeenAs`. */
export type TemplateOrigin =
  | { readonly kind: 'log'; readonly leg: LegKey; readonly component: Component; readonly tls: TlsVersion | null }
  | { readonly kind: 'alsoSeenAs'; readonly release?: string; readonly leg?: LegKey };

/**
 * Wordings that other releases of a component write for the very line a scenario expects,
 * derived rather than repeated in every scenario file.
 */
const OLDER_WORDINGS: ReadonlyArray<{ readonly component: Component; readonly release: string; readonly rewrite: (line: string) => string }> = [
  {
    // JDK-8311644 (JDK 23, backported to later JDK 21 and 17 updates: 17.0.21 has it, 17.0.15 not)
    // put the alert name before JSSE's messages; Elasticsearch on older JDKs logs them bare.
    component: 'elasticsearch',
    release: 'Elasticsearch on a JDK before JDK-8311644 (JDK 17.0.15 and other JDK 17 and 21 updates without it)',
    rewrite: (line) => line.replace(/(SSLHandshakeException: )\([a-z_]+\) /, '$1'),
  },
  {
    // Refusing a client's certificate, Go 1.19's server wrapped the x509 error as `tls: failed to
    // verify client certificate: `; Go 1.20 gave both sides `tls: failed to verify certificate: `
    // (crypto/tls handshake_server.go processCertsFromClient, checked against Go 1.19).
    component: 'fleet-server',
    release: 'Fleet Server built with Go 1.19 or older (Go 1.20 changed the prefix)',
    rewrite: (line) => line.replace(/(TLS handshake error from \{address\}: tls: failed to verify )(certificate: x509: )/, '$1client $2'),
  },
];

export interface TemplateLine {
  readonly scenario: ScenarioData;
  /** The scenario's place in the catalog, the last tie-breaker. */
  readonly order: number;
  readonly origin: TemplateOrigin;
  /** The line as the scenario file has it (one line of a multi-line template). */
  readonly text: string;
  readonly presented: Glob;
  readonly canonical: Glob;
  readonly bare: Glob;
  /** The leg marker its relay wrapper left, if any (`[fleet-server] `). */
  readonly marker: string | null;
  readonly tokens: readonly string[];
  /** How long the error itself is, without the component's own wrapper (see unwrap's core). */
  readonly coreLength: number;
}

/** A template line needs this many words of its own to mean anything (not `{any}`, not `Exiting`). */
const MIN_WORDS = 2;

export function catalogTemplates(catalog: Catalog): TemplateLine[] {
  const lines: TemplateLine[] = [];
  catalog.scenarios.forEach((scenario, order) => {
    const add = (template: string, origin: TemplateOrigin) => {
      for (const text of template.split('\n')) {
        const prepared = prepare(text);
        if (prepared) lines.push({ scenario, order, origin, text, ...prepared });
        if (origin.kind !== 'log') continue;
        for (const older of OLDER_WORDINGS.filter((o) => o.component === origin.component)) {
          const rewritten = older.rewrite(text);
          if (rewritten !== text) add(rewritten, { kind: 'alsoSeenAs', release: older.release, leg: origin.leg });
        }
      }
    };
    for (const leg of LEG_KEYS) {
      for (const [component, value] of Object.entries(scenario.expect[leg]?.logs ?? {})) {
        if (value === undefined) continue;
        if (typeof value === 'string') {
          add(value, { kind: 'log', leg, component: component as Component, tls: null });
        } else if (value['1.2'] === value['1.3']) {
          add(value['1.2'], { kind: 'log', leg, component: component as Component, tls: null });
        } else {
          for (const tls of ['1.2', '1.3'] as const) add(value[tls], { kind: 'log', leg, component: component as Component, tls });
        }
      }
    }
    for (const wording of scenario.alsoSeenAs ?? []) add(wording, { kind: 'alsoSeenAs' });
  });
  return lines;
}

function prepare(text: string): Pick<TemplateLine, 'presented' | 'canonical' | 'bare' | 'marker' | 'tokens' | 'coreLength'> | null {
  const shown = presented(normaliseTemplate(text));
  if (words(shown.replaceAll('<any>', ' ')) < MIN_WORDS) return null;
  const canon = canonical(shown);
  const bareText = bare(canon);
  const bareGlob = compileGlob(bareText);
  const coreLength = bareGlob.literalLength - (bareText.length - core(canon).length);
  return { presented: compileGlob(shown), canonical: compileGlob(canon), bare: bareGlob, marker: markerOf(canon), tokens: tokens(bareText.replaceAll('<any>', ' ')), coreLength };
}

/** Words of the text's own, placeholders aside. */
export function words(text: string): number {
  return (text.replace(/<[a-z0-9]+>/g, ' ').match(/[A-Za-z][A-Za-z0-9]+/g) ?? []).length;
}

/** Lower-case words and placeholders, in order: what similarity compares. */
export function tokens(text: string): string[] {
  return (text.toLowerCase().match(/<[a-z0-9]+>|[a-z0-9]+/g) ?? []).slice(0, 400);
}
