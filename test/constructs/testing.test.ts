// synthApp: everything app.synth() writes, by file name, without writing it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Testing, YamlOutputType } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { ClusterCA, ControlPlanePki, PkiState, synthApp, usePkiState } from '../../constructs';
import { ClusterSpec } from '../../src/kubeadm/cluster-spec';
import { tempDir } from '../support/programs';

const CLOCK = () => new Date('2026-01-15T09:00:00Z');

function cluster(nodes: ClusterSpec['nodes']) {
  return (app: App) => {
    usePkiState(app, PkiState.inMemory({ clock: CLOCK, seed: 'synth-app' }));
    new ControlPlanePki(new Chart(app, 'small'), 'pki', { cluster: { nodes } });
  };
}
const ONE_NODE = cluster([{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }]);
const WITH_WORKER = cluster([{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker', ip: '10.0.1.21' }]);

/** What a synth writes: every file of the output directory, YAML (manifests, node review files) parsed, PKI.md as text. */
function writtenByCdk8s(define: (app: App) => void, yamlOutputType?: YamlOutputType): Record<string, unknown[] | string> {
  const tmp = tempDir();
  try {
    const app = new App({ outdir: tmp.dir, yamlOutputType });
    define(app);
    app.synth();
    const files = fs.readdirSync(tmp.dir, { recursive: true, encoding: 'utf8' }).filter((file) => fs.statSync(path.join(tmp.dir, file)).isFile()).sort();
    const read = (file: string) => fs.readFileSync(path.join(tmp.dir, file), 'utf8');
    return Object.fromEntries(files.map((file) => [file, /\.(yaml|review)$/.test(file) ? parseAllDocuments(read(file)).map((doc) => doc.toJS()) : read(file)]));
  } finally {
    tmp.cleanup();
  }
}

function synthesized(define: (app: App) => void, yamlOutputType?: YamlOutputType) {
  const app = Testing.app({ yamlOutputType });
  define(app);
  return { app, files: synthApp(app) };
}

describe('synthApp', () => {
  test('gives the files and objects app.synth() writes, node review files and PKI.md included', () => {
    const { files } = synthesized(WITH_WORKER);
    expect(files).toEqual(writtenByCdk8s(WITH_WORKER));
    expect(Object.keys(files).sort()).toEqual([
      'PKI.md',
      'nodes/small-pki-cp-1/kubelet/config.yaml.review',
      'nodes/small-pki-cp-1/manifests/etcd.yaml.review',
      'nodes/small-pki-cp-1/manifests/kube-apiserver.yaml.review',
      'nodes/small-pki-cp-1/manifests/kube-controller-manager.yaml.review',
      'nodes/small-pki-cp-1/manifests/kube-scheduler.yaml.review',
      'nodes/small-pki-worker-1/kubelet/config.yaml.review',
      'small.k8s.yaml',
    ]);
  });

  test('a worker added to the cluster shows in the whole-app snapshot', () => {
    const kinds = (files: Record<string, unknown[] | string>) =>
      Object.fromEntries(
        Object.entries(files)
          .filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]))
          .map(([file, docs]) => [file, (docs as { kind: string; metadata?: { name: string } }[]).map((d) => [d.kind, d.metadata?.name].filter(Boolean).join('/'))]),
      );
    const before = synthesized(ONE_NODE).files;
    const after = synthesized(WITH_WORKER).files;
    expect(Object.keys(after).filter((file) => !(file in before))).toEqual(['nodes/small-pki-worker-1/kubelet/config.yaml.review']);
    expect(after['PKI.md']).not.toEqual(before['PKI.md']);
    expect(kinds(after)).toMatchSnapshot();
  });

  test('commits the state, as a synth does', () => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory({ clock: CLOCK }));
    new ClusterCA(new Chart(app, 'c'), 'ca');
    expect(state.pendingChanges().map((change) => change.slot)).toEqual(['c/ca']);
    synthApp(app);
    expect(state.pendingChanges()).toEqual([]);
    expect(state.inventory().map((entry) => entry.slot)).toEqual(['c/ca']);
  });

  test('one file for the app when the app asks for it; dependent charts numbered as cdk8s numbers them', () => {
    expect(synthesized(ONE_NODE, YamlOutputType.FILE_PER_APP).files).toEqual(writtenByCdk8s(ONE_NODE, YamlOutputType.FILE_PER_APP));
    const dependent = (app: App) => {
      usePkiState(app, PkiState.inMemory({ clock: CLOCK, seed: 'synth-app' }));
      const ca = new ClusterCA(new Chart(app, 'ca'), 'ca');
      new Chart(app, 'users').addDependency(ca);
    };
    expect(synthesized(dependent).files).toEqual(writtenByCdk8s(dependent));
    expect(Object.keys(synthesized(dependent).files)).toEqual(['0000-ca.k8s.yaml', '0001-users.k8s.yaml', 'PKI.md']);
  });
});
