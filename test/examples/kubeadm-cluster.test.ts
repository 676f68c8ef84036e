// examples/kubeadm-cluster: the snapshot of what `cdk8s synth` writes, what the walk-through says of the
// exported trees and the join line (checked with openssl), and the interop checks of the reference cluster run
// against this example's exports, for each way a worker joins.
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { CLUSTER, KubeadmCluster } from '../../examples/kubeadm-cluster/main';
import { nodeJoinCommand } from '../../src/kubeadm/node-bundle';
import { describeClusterInterop } from '../support/cluster-interop';
import { fromBeforeAll } from '../support/etcd-process';
import { EXAMPLE_CLOCK, synthExample } from '../support/example-app';
import { runOk } from '../support/programs';
import { exportToTemp } from '../support/reference-cluster';

const CONTROL_PLANE = ['cp-1', 'cp-2', 'cp-3'];
const reviewDir = (node: string) => `nodes/cluster-pki-${node}/`;
/** openssl verifies at the example's fixed clock, so the check does not depend on the day it runs. */
const AT_CLOCK = ['-attime', String(EXAMPLE_CLOCK().getTime() / 1000)];

describe('the example as `cdk8s synth` writes it (fixed clock, seeded state)', () => {
  let synth: ReturnType<typeof synthExample> | undefined;
  const exports = new Map<string, ReturnType<typeof exportToTemp>>();
  beforeAll(() => {
    synth = synthExample((app) => new KubeadmCluster(app, 'cluster'));
    for (const node of [...CONTROL_PLANE, 'worker-1']) exports.set(node, exportToTemp(synth.state, node));
  });
  afterAll(() => {
    for (const e of exports.values()) e.cleanup();
    if (synth) fs.rmSync(synth.app.outdir, { recursive: true, force: true });
  });
  const files = () => fromBeforeAll(synth, 'not synthesized').files;
  const exported = (node: string) => fromBeforeAll(exports.get(node), `${node} was not exported`);
  const reviewFiles = (node: string) =>
    Object.keys(files())
      .filter((f) => f.startsWith(reviewDir(node)))
      .map((f) => f.slice(reviewDir(node).length))
      .sort();

  test("snapshot: the manifests, PKI.md and cp-1's review files", () => {
    expect(Object.fromEntries(Object.entries(files()).filter(([f]) => !f.startsWith('nodes/') || f.startsWith(reviewDir('cp-1'))))).toMatchSnapshot();
  });

  test("cp-2 and cp-3 have cp-1's review files, each etcd named after its node; the worker has its kubelet config only", () => {
    const cp1 = reviewFiles('cp-1');
    expect(cp1).toEqual(['kubelet/config.yaml.review', 'manifests/etcd.yaml.review', 'manifests/kube-apiserver.yaml.review', 'manifests/kube-controller-manager.yaml.review', 'manifests/kube-scheduler.yaml.review']);
    for (const node of CONTROL_PLANE) {
      expect(reviewFiles(node)).toEqual(cp1);
      const [etcd] = files()[`${reviewDir(node)}manifests/etcd.yaml.review`] as { spec: { containers: { command: string[] }[] } }[];
      const ip = CLUSTER.nodes.find((n) => n.name === node)!.ip;
      expect(etcd.spec.containers[0].command).toEqual(
        expect.arrayContaining([`--name=${node}`, `--advertise-client-urls=https://${ip}:2379`, '--initial-cluster=cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380']),
      );
    }
    expect(reviewFiles('worker-1')).toEqual(['kubelet/config.yaml.review']);
  });

  test('each control-plane node gets its own apiserver certificate from the one cluster CA, naming the load balancer and the node', () => {
    const ca = fs.readFileSync(exported('cp-1').file('pki/ca.crt'), 'utf8');
    for (const node of CONTROL_PLANE) {
      const file = exported(node).file;
      expect(fs.readFileSync(file('pki/ca.crt'), 'utf8')).toBe(ca);
      expect(runOk('openssl', ['verify', ...AT_CLOCK, '-CAfile', file('pki/ca.crt'), file('pki/apiserver.crt')])).toBe(`${file('pki/apiserver.crt')}: OK\n`);
      const sans = runOk('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', file('pki/apiserver.crt')]);
      const ip = CLUSTER.nodes.find((n) => n.name === node)!.ip;
      expect(sans).toContain('DNS:k8s-api.example.internal');
      expect(sans).toContain(`DNS:${node},`);
      expect(sans).toContain(`IP Address:${ip}`);
    }
  });

  test("the join line names the load balancer, the token of the worker's bootstrap-kubelet.conf, and the hash of pki/ca.crt's public key", () => {
    const state = fromBeforeAll(synth, 'not synthesized').state;
    // kubeadm's documented recipe for the hash: SHA-256 of the CA certificate's DER SubjectPublicKeyInfo.
    const spki = runOk('sh', ['-c', `openssl x509 -pubkey -noout -in '${exported('cp-1').file('pki/ca.crt')}' | openssl pkey -pubin -outform der | openssl dgst -sha256 -r`]).split(' ')[0];
    const token = parse(fs.readFileSync(exported('worker-1').file('bootstrap-kubelet.conf'), 'utf8')).users[0].user.token;
    expect(nodeJoinCommand(state, 'worker-1')).toBe(`kubeadm join k8s-api.example.internal:6443 --token ${token} --discovery-token-ca-cert-hash sha256:${spki}`);
    // The worker's tree holds the cluster CA and its token kubeconfig; no CA key, no etcd or front-proxy material.
    expect(fs.readdirSync(exported('worker-1').file('pki'))).toEqual(['ca.crt']);
  });
});

describe('the interop checks of the reference cluster, on this example with workers joining by bootstrap token', () => {
  describeClusterInterop({ build: (app) => new KubeadmCluster(app, 'cluster'), controlPlaneNode: 'cp-1', worker: 'worker-1', workerJoin: 'bootstrap-token' });
});

describe('the interop checks of the reference cluster, on this example with a kubelet.conf issued for each worker', () => {
  describeClusterInterop({
    build: (app) => new KubeadmCluster(app, 'cluster', { workerJoin: 'issued-certificate' }),
    controlPlaneNode: 'cp-1',
    worker: 'worker-1',
    workerJoin: 'issued-certificate',
  });
});
