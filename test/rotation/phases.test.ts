// The safety of a CA rotation's phases: a rollback gives back the previous phase's trust bundles byte for byte
// (the example app, in process); out-of-order phases are refused by a real synth of a user app with one line
// and an untouched state; the same declaration twice changes nothing; `rotate --new-key` on a CA is refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { REFERENCE_CLUSTER } from '../../examples/main';
import { fingerprint, userApp } from '../plan/support';
import { runOk, snapshotDir, tempDir } from '../support/programs';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';

const NODES = REFERENCE_CLUSTER.nodes.map((n) => n.name);
const NODE_TRUST_FILES = ['pki/ca.crt', 'pki/etcd/ca.crt', 'pki/front-proxy-ca.crt', 'pki/sa.pub'];
/** Reviewer annotations of a CA a verifier trusts: `ca`, `ca.2` …, `cacerts` …, and kubeadm's pin. */
const TRUST_ANNOTATION = /^pki\.cdk8s\.io\/((ca|cacerts|etcd-ca|front-proxy-ca)(\.\d+)?\.|spki-pin)/;

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

/**
 * Everything a verifier of the cluster trusts, by where it is: the CA bundle ConfigMaps, cluster-info, Rancher's
 * tls-ca, trust-manager Bundles and every other object's CA annotations; each node's CA files and sa.pub, and
 * every kubeconfig's certificate-authority-data.
 */
function trustMaterial(run: PhaseRun, step: PhaseStep): Record<string, unknown> {
  const { chart, exportNode } = run.step(step);
  const material: Record<string, unknown> = {};
  for (const doc of Testing.synth(chart) as Doc[]) {
    const id = `${doc.kind} ${doc.metadata.namespace ?? ''}/${doc.metadata.name}`;
    const whole = (doc.kind === 'ConfigMap' && (doc.metadata.name.endsWith('-bundle') || doc.metadata.name === 'cluster-info')) || (doc.kind === 'Secret' && doc.metadata.name === 'tls-ca') || doc.kind === 'Bundle';
    if (whole) material[id] = doc;
    else {
      const annotations = Object.entries(doc.metadata.annotations ?? {}).filter(([key]) => TRUST_ANNOTATION.test(key));
      if (annotations.length) material[`${id} annotations`] = Object.fromEntries(annotations);
    }
  }
  for (const node of NODES) {
    const dir = exportNode(node);
    for (const file of NODE_TRUST_FILES) if (fs.existsSync(path.join(dir, file))) material[`${node}:${file}`] = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.conf'))) {
      const kubeconfig = parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { clusters: { name: string; cluster: Record<string, string> }[] };
      for (const { name, cluster } of kubeconfig.clusters) material[`${node}:${file}:${name}`] = cluster['certificate-authority-data'];
    }
  }
  return material;
}

/** How many certificates OpenSSL finds in a PEM bundle. */
function certificateCount(pem: string): number {
  const tmp = tempDir('cdk8s-pki-bundle-');
  try {
    return Number(/Total found: (\d+)/.exec(runOk('openssl', ['storeutl', '-noout', '-certs', tmp.file('bundle.pem', pem)]))![1]);
  } finally {
    tmp.cleanup();
  }
}

describe('rollback restores the previous phase\'s trust byte for byte (the example app)', () => {
  const run = synthPhases(['start', 'trust-both', 'issue-from-new', 'rollback-to-trust-both', 'rollback-to-start']);
  afterAll(() => run.cleanup());
  const material = new Map<PhaseStep, Record<string, unknown>>();
  const of = (step: PhaseStep) => material.get(step) ?? material.set(step, trustMaterial(run, step)).get(step)!;

  test('the material is there and moves with the phases: two CAs in trust-both, signer first in issue-from-new', () => {
    const start = of('start');
    // 5 nodes' trees and the bundles of 4 CAs and the ingress CA, at least.
    expect(Object.keys(start).length).toBeGreaterThan(30);
    expect(certificateCount(start['cp-1:pki/ca.crt'] as string)).toBe(1);
    expect(certificateCount(of('trust-both')['cp-1:pki/ca.crt'] as string)).toBe(2);
    expect(certificateCount(of('trust-both')['worker-2:pki/ca.crt'] as string)).toBe(2);
    expect(of('trust-both')).not.toEqual(start);
    expect(of('issue-from-new')).not.toEqual(of('trust-both'));
  });

  test('issue-from-new → rollback-to-trust-both gives trust-both\'s', () => {
    expect(of('rollback-to-trust-both')).toEqual(of('trust-both'));
  });

  test('trust-both → rollback-to-start gives the start\'s', () => {
    expect(of('rollback-to-start')).toEqual(of('start'));
  });
});

describe('a user app synthesized by phases (a real synth, a directory state)', () => {
  const app = userApp();
  afterAll(() => app.cleanup());
  const cluster = (phase: string, id = '2027') => ({ caRotation: { id, phase } });

  /**
   * A synth that must be refused: one clean line naming the construct, the field and how the state stands (the
   * phase it is in); nothing written.
   */
  function refused(config: Parameters<typeof app.configure>[0], where: string, standing: string): void {
    app.configure(config);
    const before = fingerprint(app.stateDir);
    const result = app.synth();
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith(`cdk8s-pki: ${where}: rotation.phase: ${standing}`)).toBe(true);
    expect(fingerprint(app.stateDir)).toEqual(before);
  }

  function synthOk(config: Parameters<typeof app.configure>[0]): string {
    app.configure(config);
    const result = app.synth();
    expect([result.status, result.stderr.split('\n').filter((l) => !l.startsWith('cdk8s-pki: '))]).toEqual([0, ['']]);
    return result.stderr;
  }

  test('no rotation in progress: issue-from-new and drop-old are refused', () => {
    synthOk({});
    refused(cluster('issue-from-new'), 'demo/pki/ca', 'no rotation was ever started; a rotation starts with trust-both (got issue-from-new)');
    refused(cluster('drop-old'), 'demo/pki/ca', 'no rotation was ever started; a rotation starts with trust-both (got drop-old)');
    refused({ webCaRotation: { id: '2027', phase: 'drop-old' } }, 'demo/web-ca', 'no rotation was ever started;');
  });

  test('trust-both twice: the second synth is quiet and changes no byte of dist/ or the state', () => {
    synthOk(cluster('trust-both'));
    const before = [snapshotDir(app.distDir), fingerprint(app.stateDir)];
    expect(synthOk(cluster('trust-both'))).toBe('');
    expect([snapshotDir(app.distDir), fingerprint(app.stateDir)]).toEqual(before);
  });

  test('in trust-both: skipping to drop-old and changing the id are refused', () => {
    refused(cluster('drop-old'), 'demo/pki/ca', 'rotation "2027" is in phase trust-both, so drop-old would skip a phase');
    refused(cluster('issue-from-new', '2028'), 'demo/pki/ca', 'rotation "2027" is in phase trust-both; finish it or roll it back before rotation "2028"');
  });

  test('rotate <ca> --new-key is refused, pointing at the rotation declaration; the state is untouched', () => {
    const before = fingerprint(app.stateDir);
    for (const [slot, field] of [
      ['demo/pki/ca', 'caRotation'],
      ['demo/web-ca', 'rotation'],
    ]) {
      const result = app.cli(['rotate', slot, '--new-key']);
      expect(result.status).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(field);
    }
    expect(fingerprint(app.stateDir)).toEqual(before);
  });

  test('in issue-from-new: two steps back (no declaration) is refused', () => {
    synthOk(cluster('issue-from-new'));
    refused({}, 'demo/pki/ca', 'rotation "2027" is in phase issue-from-new, and a rollback goes back one phase per synth');
  });

  test('after drop-old: going back to trust-both with the same id is refused', () => {
    synthOk(cluster('drop-old'));
    refused(cluster('trust-both'), 'demo/pki/ca', 'rotation "2027" finished (drop-old) and its old CA is archived; start another rotation with a new id (got trust-both)');
    refused(cluster('issue-from-new'), 'demo/pki/ca', 'rotation "2027" finished (drop-old) and its old CA is archived; start another rotation with a new id (got issue-from-new)');
  });
});
