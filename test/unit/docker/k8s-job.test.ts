import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';

const MANIFEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docker/k8s-load-job.yaml');
const documents = () => parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((d) => d.toJSON() as Record<string, any>);

/** kubernetes-models validates against the JSON schemas generated from Kubernetes' OpenAPI. */
function validate(document: Record<string, any>): void {
  if (document.kind === 'Job') new Job(document as ConstructorParameters<typeof Job>[0]).validate();
  else if (document.kind === 'PersistentVolumeClaim') new PersistentVolumeClaim(document as ConstructorParameters<typeof PersistentVolumeClaim>[0]).validate();
  else throw new Error(`no schema wired for ${String(document.kind)}`);
}

describe('docker/k8s-load-job.yaml', () => {
  it('is a PersistentVolumeClaim and a Job that the Kubernetes schema accepts', () => {
    const docs = documents();
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['v1 PersistentVolumeClaim', 'batch/v1 Job']);
    for (const doc of docs) expect(() => validate(doc)).not.toThrow();
  });

  it('runs load pods side by side that write their figures into the shared claim for `fleet-tls results`', () => {
    const [claim, job] = documents();
    const spec = job!.spec;
    expect(spec.parallelism).toBe(spec.completions);
    expect(spec.parallelism).toBeGreaterThan(1);
    const container = spec.template.spec.containers[0];
    expect(container.args.slice(0, 3)).toEqual(['load', '--url', '$(FLEET_URL)']);
    expect(container.env.find((e: { name: string }) => e.name === 'HARNESS_RESULT_DIR').value).toBe('/results');
    expect(container.volumeMounts.find((m: { name: string }) => m.name === 'results').mountPath).toBe('/results');
    expect(spec.template.spec.volumes.find((v: { name: string }) => v.name === 'results').persistentVolumeClaim.claimName).toBe(claim!.metadata.name);
    expect(spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('would be caught by the schema if a field had the wrong type', () => {
    const [, job] = documents();
    job!.spec.template.spec.containers[0].args = 'load --url x';
    expect(() => validate(job!)).toThrow(/containers\/0\/args must be array/);
    const [, job2] = documents();
    job2!.spec.parallelism = 'four';
    expect(() => validate(job2!)).toThrow(/parallelism must be integer/);
  });
});
