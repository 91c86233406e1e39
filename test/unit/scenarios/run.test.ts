import { describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog } from '../../../src/scenarios/catalog.js';
import { scenarioCommand } from '../../../src/scenarios/run.js';
import type { ScenarioData } from '../../../src/scenarios/schema.js';

const catalog: Catalog = {
  dirs: [],
  flows: new Map([['base', {
    title: 'base',
    command: ['--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--insecure', '--header=k=v=w', '--fleet-server-port=8220'],
  }]]),
  scenarios: [],
};

const scenario = (flags?: ScenarioData['flags']): ScenarioData => ({
  id: 'x.y.z', title: 't', flow: 'base', ...(flags ? { flags } : {}),
  expect: { 'agent->fleet-server': { ok: true }, 'fleet-server->elasticsearch': { ok: true } },
});

describe('scenarioCommand', () => {
  it('is the flow\'s command as it is when the scenario changes no flag', () => {
    expect(scenarioCommand(catalog, scenario())).toEqual(catalog.flows.get('base')!.command);
  });

  it('removes a flag set to null, and a boolean flag set to false', () => {
    expect(scenarioCommand(catalog, scenario({ 'certificate-authorities': null, insecure: false }))).toEqual([
      '--url=https://localhost:8220', '--header=k=v=w', '--fleet-server-port=8220',
    ]);
  });

  it('replaces a flag\'s value where the flow has it, keeping the order', () => {
    expect(scenarioCommand(catalog, scenario({ url: 'https://127.0.0.1:8220', header: 'a=b' }))).toEqual([
      '--url=https://127.0.0.1:8220', '--certificate-authorities=/path/to/fleet-ca', '--insecure', '--header=a=b', '--fleet-server-port=8220',
    ]);
  });

  it('adds new flags after the flow\'s, a value as --name=value and true as a bare --name', () => {
    expect(scenarioCommand(catalog, scenario({ 'fleet-server-client-auth': 'required', 'fleet-server-es-insecure': true }))).toEqual([
      ...catalog.flows.get('base')!.command, '--fleet-server-client-auth=required', '--fleet-server-es-insecure',
    ]);
  });

  it('builds the untrusted-CA scenario of the built-in catalog from the mutual flow', () => {
    const builtin = loadCatalog();
    const untrusted = builtin.scenarios.find((s) => s.id === 'agent-fleet.mutual.agent-cert-untrusted-ca')!;
    const command = scenarioCommand(builtin, untrusted);
    expect(command.filter((a) => a.startsWith('--elastic-agent-cert'))).toEqual([
      '--elastic-agent-cert=/path/to/agent-cert-rogue',
      '--elastic-agent-cert-key=/path/to/agent-cert-rogue-key',
      '--elastic-agent-cert-key-passphrase=/path/to/agent-cert-key-passphrase',
    ]);
    expect(command).toHaveLength(builtin.flows.get('mutual')!.command.length);
  });
});
