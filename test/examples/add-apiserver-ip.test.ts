// examples/add-apiserver-ip: the spec without the added address is synthesized first, then the example's spec
// against the same state, as a cluster's day 2 goes. The planner must name exactly the apiserver certificate of
// each control-plane node, with the same key; openssl reads the new address in the new certificates, and the
// exported trees differ in nothing else.
import * as fs from 'node:fs';
import { ADDED_IP, ApiServerIpCluster, CLUSTER } from '../../examples/add-apiserver-ip/main';
import { seededEntropy } from '../../src/engine/entropy';
import { planReport, PlanReport } from '../../src/plan/report';
import { formatPlan } from '../../src/plan/run';
import { PkiState } from '../../src/state/pki-state';
import { fromBeforeAll } from '../support/etcd-process';
import { EXAMPLE_CLOCK, synthExample } from '../support/example-app';
import { runOk, snapshotDir } from '../support/programs';
import { exportToTemp } from '../support/reference-cluster';

const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1'];
const CONTROL_PLANE = ['cp-1', 'cp-2', 'cp-3'];
/** The spec as it was before the one-line change. */
const BEFORE = { ...CLUSTER, apiServerCertSANs: CLUSTER.apiServerCertSANs!.filter((san) => san !== ADDED_IP) };

type Synth = ReturnType<typeof synthExample>;
type Exported = ReturnType<typeof exportToTemp>;

let before: Synth | undefined;
let after: Synth | undefined;
let report: PlanReport | undefined;
const trees = { before: new Map<string, Exported>(), after: new Map<string, Exported>() };

beforeAll(() => {
  before = synthExample((app) => new ApiServerIpCluster(app, 'cluster', { cluster: BEFORE }));
  for (const node of NODES) trees.before.set(node, exportToTemp(before.state, node));
  // The same store, read by the next synth; another seed, so that new serials are not the first synth's again.
  const state = new PkiState({ store: before.state.store, clock: EXAMPLE_CLOCK, entropy: seededEntropy('example-day-2') });
  after = synthExample(
    (app) => {
      new ApiServerIpCluster(app, 'cluster');
      // What `cdk8s-pki plan` reports: the decisions of this synth, before it commits.
      report = planReport(state);
    },
    { state },
  );
  for (const node of NODES) trees.after.set(node, exportToTemp(after.state, node));
});

afterAll(() => {
  for (const e of [...trees.before.values(), ...trees.after.values()]) e.cleanup();
  for (const s of [before, after]) if (s) fs.rmSync(s.app.outdir, { recursive: true, force: true });
});

const planned = () => fromBeforeAll(report, 'nothing planned');
const file = (which: 'before' | 'after', node: string, relative: string) => fromBeforeAll(trees[which].get(node), `${node} was not exported`).file(relative);
const openssl = (args: string[]) => runOk('openssl', args);

/** The files of the output directory the second synth adds or changes, as `plan` compares them. */
function changedOutputFiles(): string[] {
  const [was, is] = [fromBeforeAll(before, 'no first synth').files, fromBeforeAll(after, 'no second synth').files];
  return Object.keys(is)
    .filter((name) => JSON.stringify(is[name]) !== JSON.stringify(was[name]))
    .sort();
}

test('the plan re-issues the apiserver certificate of each control-plane node, for the added SAN, and keeps everything else', () => {
  const changed = planned().slots.filter((s) => s.action !== 'keep');
  expect(changed.map((s) => [s.slot, s.action, s.reasons])).toEqual(CONTROL_PLANE.map((node) => [`cluster/pki/${node}/apiserver`, 'reissue', [`SANs +${ADDED_IP}`]]));
  expect(planned().rotations.filter((r) => r.action !== 'keep')).toEqual([]);
  expect(planned().documents).toEqual([]);
  // Only the control-plane nodes are to be exported again; the worker's tree holds no apiserver certificate.
  expect(planned().nodes.filter((n) => n.reexport).map((n) => n.label)).toEqual(CONTROL_PLANE);
});

test("the plan as `cdk8s-pki plan` prints it, and the output files it would change: PKI.md, kubeadm-config's certSANs, each node's kube-apiserver manifest", () => {
  const outputFiles = changedOutputFiles();
  expect(outputFiles).toEqual(['PKI.md', 'cluster.k8s.yaml', ...CONTROL_PLANE.map((node) => `nodes/cluster-pki-${node}/manifests/kube-apiserver.yaml.review`)]);
  const text = formatPlan({ ...planned(), outputDirectory: 'dist', outputFiles: outputFiles.map((path) => ({ path, change: 'modified' as const })) });
  expect(text).toMatchSnapshot();
});

test('openssl reads the added address in each new apiserver certificate, after the SANs it had, from the same key', () => {
  for (const node of CONTROL_PLANE) {
    const sans = (which: 'before' | 'after') => openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', file(which, node, 'pki/apiserver.crt')]).trimEnd();
    expect(sans('before')).not.toContain(ADDED_IP);
    expect(sans('after')).toBe(`${sans('before')}, IP Address:${ADDED_IP}`);
    const publicKey = (which: 'before' | 'after') => openssl(['x509', '-noout', '-pubkey', '-in', file(which, node, 'pki/apiserver.crt')]);
    expect(publicKey('after')).toBe(publicKey('before'));
    expect(openssl(['x509', '-noout', '-serial', '-in', file('after', node, 'pki/apiserver.crt')])).not.toBe(openssl(['x509', '-noout', '-serial', '-in', file('before', node, 'pki/apiserver.crt')]));
    // The key file on the node stays as it was, and matches the new certificate.
    expect(fs.readFileSync(file('after', node, 'pki/apiserver.key'), 'utf8')).toBe(fs.readFileSync(file('before', node, 'pki/apiserver.key'), 'utf8'));
    expect(openssl(['pkey', '-pubout', '-in', file('after', node, 'pki/apiserver.key')])).toBe(publicKey('after'));
  }
});

test("the exported trees differ in the apiserver certificate and kube-apiserver's manifest only; the worker's not at all", () => {
  const changedFiles = (node: string) => {
    const [was, is] = [snapshotDir(fromBeforeAll(trees.before.get(node), node).dir), snapshotDir(fromBeforeAll(trees.after.get(node), node).dir)];
    expect(Object.keys(is).sort()).toEqual(Object.keys(was).sort());
    return Object.keys(is).filter((name) => is[name] !== was[name]).sort();
  };
  for (const node of CONTROL_PLANE) expect(changedFiles(node)).toEqual(['manifests/kube-apiserver.yaml', 'pki/apiserver.crt']);
  expect(changedFiles('worker-1')).toEqual([]);
});

test("snapshot: PKI.md and cp-1's kube-apiserver manifest after the change", () => {
  const files = fromBeforeAll(after, 'no second synth').files;
  expect({ 'PKI.md': files['PKI.md'], 'nodes/cluster-pki-cp-1/manifests/kube-apiserver.yaml.review': files['nodes/cluster-pki-cp-1/manifests/kube-apiserver.yaml.review'] }).toMatchSnapshot();
});
