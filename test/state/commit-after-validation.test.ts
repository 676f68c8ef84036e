import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, PkiState, SecretOutput, usePkiState } from '../../constructs';
import { RancherIngressTLS, RancherServingCertificate } from '../../constructs/rancher-ingress-tls';
import { snapshotDir, tempDir } from '../support/programs';

const CLOCK = () => new Date('2026-01-15T09:00:00Z');

describe('the state is committed only when the whole app validates', () => {
  let tmp: ReturnType<typeof tempDir>;
  let stateDir: string;
  let outdir: string;
  beforeEach(() => {
    tmp = tempDir();
    stateDir = path.join(tmp.dir, '.pki');
    outdir = path.join(tmp.dir, 'dist');
  });
  afterEach(() => tmp.cleanup());

  /** The user's app: a CA, Rancher served by it (its values file goes beside dist/), and optionally a broken construct. */
  function synth(options: { broken?: boolean; frozen?: boolean; hostname?: string } = {}): void {
    const app = new App({ outdir });
    usePkiState(app, PkiState.inDirectory(stateDir, { clock: CLOCK, frozen: options.frozen }));
    const chart = new Chart(app, 'cluster');
    const ca = new ClusterCA(chart, 'kubernetes-ca');
    new RancherIngressTLS(chart, 'rancher', {
      hostname: options.hostname ?? 'rancher.example.com',
      version: '2.12.1',
      mode: 'secret',
      certificate: RancherServingCertificate.fromClusterCa(ca),
      secretOutput: SecretOutput.omit(),
      allowHostnameChange: true,
    });
    if (options.broken) {
      // Validated after the root (cdk8s visits the tree root first), i.e. after where the state used to commit.
      const mine = new Construct(chart, 'mine');
      mine.node.addValidation({ validate: () => ['replicas: must be at least 1'] });
    }
    app.synth();
  }

  test('a construct failing its validation beside a ClusterCA: no state directory, no file written', () => {
    expect(() => synth({ broken: true })).toThrow(/\[cluster\/mine\] replicas: must be at least 1/);
    expect(fs.existsSync(stateDir)).toBe(false);
    expect(snapshotDir(outdir)).toEqual({});
  });

  test('an existing state with a pending change stays byte-identical, and dist/ keeps its values file', () => {
    synth();
    const state = snapshotDir(stateDir);
    const dist = snapshotDir(outdir);
    expect(Object.keys(dist)).toContain('cluster-rancher-values.yaml');
    expect(() => synth({ broken: true, hostname: 'rancher2.example.com' })).toThrow(/replicas: must be at least 1/);
    expect(snapshotDir(stateDir)).toEqual(state);
    expect(snapshotDir(outdir)).toEqual(dist);
  });

  test('frozen: the failure names what changed, without cdk8s\'s empty-path prefix, and writes no values file', () => {
    synth();
    const state = snapshotDir(stateDir);
    fs.rmSync(outdir, { recursive: true });
    let message = '';
    try {
      synth({ frozen: true, hostname: 'rancher2.example.com' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^the PKI state \(state directory .*\) is frozen, but this synth needs to change it:\n/);
    expect(message).toContain('\n  - cluster/rancher/serving-certificate: subject CN "rancher.example.com" → "rancher2.example.com"; SANs +rancher2.example.com -rancher.example.com\n');
    expect(snapshotDir(stateDir)).toEqual(state);
    expect(snapshotDir(outdir)).toEqual({});
  });
});
