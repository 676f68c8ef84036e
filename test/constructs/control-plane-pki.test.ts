import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Duration, Testing } from 'cdk8s';
import { parse } from 'yaml';
import {
  ApiServerCert,
  ApiServerEtcdClientCert,
  ApiServerKubeletClientCert,
  ClusterCA,
  ControlPlanePki,
  EtcdHealthcheckClientCert,
  EtcdPeerCert,
  EtcdServerCert,
  FrontProxyClientCert,
  KubeadmCertificate,
  Kubeconfig,
  PkiState,
  ServiceAccountKey,
  SpecError,
  StateError,
  synthApp,
  usePkiState,
} from '../../constructs';
import { ClusterSpec } from '../../src/kubeadm/cluster-spec';
import { exportNode, NodePlan, readNodePlan, renderNode } from '../../src/kubeadm/node-bundle';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';
import { run, runOk, snapshotDir, tempDir } from '../support/programs';
import { withSealedValuesMasked } from '../support/reference-cluster';

const FIXED_CLOCK = () => new Date('2026-03-01T12:00:00Z');
const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs

/** Synthesizes the example app into dist/ and a state directory under `root`, as `cdk8s synth` does. */
function synthToDisk(root: string, cluster: ClusterSpec) {
  const app = new App({ outdir: path.join(root, 'dist') });
  const state = usePkiState(app, PkiState.inDirectory(path.join(root, '.pki'), { clock: FIXED_CLOCK }));
  const chart = new ExampleCluster(app, 'example', { cluster });
  app.synth();
  return { state, chart, dist: snapshotDir(path.join(root, 'dist')), stateFiles: snapshotDir(path.join(root, '.pki')) };
}

function chartWithState() {
  const app = Testing.app();
  const state = usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK }));
  return { app, state, chart: new Chart(app, 'test') };
}

describe('ControlPlanePki on the reference cluster', () => {
  // The certificates themselves are judged by openssl in test/kubeadm/parity.test.ts; the snapshot shows what
  // the cluster chart holds (kinds and names) and one control-plane node's review files in full.
  test("snapshot of dist/: the cluster chart's objects, and cp-1's static Pods and kubelet config (fixed clock, seeded state)", () => {
    const app = Testing.app();
    usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'reference-cluster' }));
    new ExampleCluster(app, 'example');
    const files = synthApp(app);
    const nodeDirs = [...new Set(Object.keys(files).filter((f) => f.startsWith('nodes/')).map((f) => f.split('/')[1]))];
    expect(nodeDirs).toEqual(['example-pki-cp-1', 'example-pki-cp-2', 'example-pki-cp-3', 'example-pki-worker-1', 'example-pki-worker-2']);
    expect(JSON.stringify(files)).not.toMatch(/PRIVATE KEY-----/);
    const objects = withSealedValuesMasked(files['example.k8s.yaml'] as { kind: string; metadata: { name: string; namespace?: string } }[]).map((d) => `${d.kind} ${d.metadata.namespace ? `${d.metadata.namespace}/` : ''}${d.metadata.name}`);
    const cp1 = Object.fromEntries(Object.entries(files).filter(([f]) => f.startsWith('nodes/example-pki-cp-1/')));
    expect({ example: objects, 'nodes/example-pki-cp-1': cp1 }).toMatchSnapshot();
  });

  test('synth twice: identical dist/ and state; a new load-balancer SAN re-issues the apiserver certificates and nothing else', () => {
    const tmp = tempDir();
    try {
      const first = synthToDisk(tmp.dir, REFERENCE_CLUSTER);
      const second = synthToDisk(tmp.dir, REFERENCE_CLUSTER);
      expect(second.dist).toEqual(first.dist);
      expect(second.stateFiles).toEqual(first.stateFiles);

      const third = synthToDisk(tmp.dir, { ...REFERENCE_CLUSTER, apiServerCertSANs: ['10.0.0.10', '192.0.2.50'] });
      const changedState = Object.keys(third.stateFiles).filter((f) => third.stateFiles[f] !== first.stateFiles[f]);
      // The node plans carry the certificates they export, so the three control-plane plans change with them.
      expect(changedState.sort()).toEqual([
        'example/pki/cp-1/apiserver/certificate.json',
        'example/pki/cp-2/apiserver/certificate.json',
        'example/pki/cp-3/apiserver/certificate.json',
        'nodes/example/pki/cp-1.doc.json',
        'nodes/example/pki/cp-2.doc.json',
        'nodes/example/pki/cp-3.doc.json',
      ]);
      expect(Object.keys(third.stateFiles).filter((f) => !(f in first.stateFiles))).toEqual([]); // no new key anywhere
      // Of dist/'s manifests, only the ClusterConfiguration kubeadm join reads names the SANs; PKI.md shows the
      // three re-issued certificates, one row each, and each node's kube-apiserver review file their annotations.
      const lines = (dist: Record<string, string>) => Buffer.from(dist['PKI.md'], 'base64').toString().split('\n');
      const changedRows = lines(third.dist).filter((line) => !lines(first.dist).includes(line));
      expect(changedRows.map((row) => row.split(' | ')[0])).toEqual(['| example/pki/cp-1/apiserver', '| example/pki/cp-2/apiserver', '| example/pki/cp-3/apiserver']);
      const manifests = (dist: Record<string, string>) => Object.fromEntries(Object.entries(dist).filter(([file]) => file.endsWith('.yaml')));
      const documents = (dist: Record<string, string>) => Object.entries(manifests(dist)).flatMap(([file, data]) => Buffer.from(data, 'base64').toString().split('\n---\n').map((doc) => `${file}: ${doc}`));
      const changed = documents(third.dist).filter((doc) => !documents(first.dist).includes(doc)).map((doc) => parse(doc.replace(/^[^:]+: /, '')));
      expect(changed.map((doc) => `${doc.kind} ${doc.metadata.name}`)).toEqual(['ConfigMap kubeadm-config']);
      expect(parse(changed[0].data.ClusterConfiguration).apiServer.certSANs).toEqual(['10.0.0.10', '192.0.2.50']);
      const changedReviews = Object.keys(third.dist).filter((file) => file.endsWith('.review') && third.dist[file] !== first.dist[file]);
      expect(changedReviews.sort()).toEqual(['cp-1', 'cp-2', 'cp-3'].map((node) => `nodes/example-pki-${node}/manifests/kube-apiserver.yaml.review`));
      for (const file of changedReviews) expect(parse(Buffer.from(third.dist[file], 'base64').toString()).metadata.annotations['pki.cdk8s.io/apiserver.sans']).toMatch(/, IP Address:192\.0\.2\.50$/);
      const apiserver = third.chart.pki.certificates.find((c) => c.node.path === 'example/pki/cp-2/apiserver')!;
      expect(apiserver.certificate.sans.ipAddresses).toEqual(['10.96.0.1', '10.0.0.12', '10.0.0.10', '192.0.2.50']);
    } finally {
      tmp.cleanup();
    }
  });

  test("admin.conf's group is bound to cluster-admin, as kubeadm init binds it (reference §6)", () => {
    const app = Testing.app();
    usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK }));
    new ExampleCluster(app, 'example');
    const bindings = Testing.synth(app.charts[0]).filter((d) => d.kind === 'ClusterRoleBinding' && d.metadata.name === 'kubeadm:cluster-admins');
    expect(bindings).toEqual([
      expect.objectContaining({
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }],
      }),
    ]);
  });

  test('bad input fails synth with the construct path and the field, before anything is written', () => {
    const tmp = tempDir();
    try {
      const broken = { ...REFERENCE_CLUSTER, nodes: [...REFERENCE_CLUSTER.nodes.slice(0, 2), { name: 'cp-3', role: 'control-plane' as const, ip: '10.0.0.256' }] };
      expect(() => synthToDisk(tmp.dir, broken)).toThrow(new SpecError('nodes[2].ip', '"10.0.0.256" is not a valid IPv4 or IPv6 address', 'example/pki'));
      expect(() => synthToDisk(tmp.dir, { ...REFERENCE_CLUSTER, controlPlaneEndpoint: 'https://api.example.com' })).toThrow(/^example\/pki: controlPlaneEndpoint: .* has a scheme/);
      const named = (name: string) => ({ ...REFERENCE_CLUSTER, nodes: [...REFERENCE_CLUSTER.nodes, { name, role: 'worker' as const, ip: '10.0.1.99' }] });
      expect(() => synthToDisk(tmp.dir, named('sa'))).toThrow('example/pki: nodes[5].name: "sa" is the name of a cluster-wide part of ControlPlanePki; give the node another name');
      expect(() => synthToDisk(tmp.dir, named('admin'))).toThrow(/^example\/pki: nodes\[5\]\.name: "admin" is the name of a cluster-wide part/);
      expect(fs.existsSync(path.join(tmp.dir, '.pki'))).toBe(false);
      expect(fs.existsSync(path.join(tmp.dir, 'dist'))).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  test('reads the cluster from a YAML file; errors name the file and line', () => {
    const tmp = tempDir();
    try {
      const good = tmp.file('cluster.yaml', 'nodes:\n  - {name: cp-1, role: control-plane, ip: 10.0.0.11}\n  - {name: w-1, role: worker}\n');
      const { chart } = chartWithState();
      const pki = new ControlPlanePki(chart, 'pki', { cluster: good });
      expect(pki.nodePlans.map((p) => [p.node, p.role])).toEqual([['cp-1', 'control-plane'], ['w-1', 'worker']]);
      const bad = tmp.file('bad.yaml', 'nodes:\n  - {name: cp-1, role: control-plane, ip: 10.0.0.11}\n  - {name: cp-1, role: worker}\n');
      expect(() => new ControlPlanePki(chartWithState().chart, 'pki', { cluster: bad })).toThrow(`test/pki: ${bad}:3: nodes[1].name: "cp-1" is already the name of nodes[0]`);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the building blocks on their own', () => {
  test('ApiServerCert computes kubeadm SANs and takes extra ones; errors name its props', () => {
    const { chart } = chartWithState();
    const ca = new ClusterCA(chart, 'ca');
    const cert = new ApiServerCert(chart, 'apiserver', {
      ca,
      node: { name: 'cp-1', ip: '192.0.2.11' },
      controlPlaneEndpoint: 'lb.example.com',
      extraSANs: ['192.0.2.100', 'k8s.example.com'],
    });
    expect(cert.certificate.subject.commonName).toBe('kube-apiserver');
    expect(cert.certificate.extendedKeyUsage).toEqual(['serverAuth']);
    expect(cert.certificate.sans).toEqual({
      dnsNames: ['cp-1', 'k8s.example.com', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'lb.example.com'],
      ipAddresses: ['10.96.0.1', '192.0.2.11', '192.0.2.100'],
    });
    expect(() => new ApiServerCert(chart, 'bad', { ca, node: { name: 'cp-1', ip: 'cp-1.example.com' } })).toThrow('test/bad: node.ip: "cp-1.example.com" is not a valid IPv4 or IPv6 address');
    expect(() => new ApiServerCert(chart, 'bad-san', { ca, node: { name: 'cp-1', ip: '192.0.2.11' }, extraSANs: ['under_score'] })).toThrow(/^test\/bad-san: extraSANs\[0\]/);
  });

  test('a validity beyond the CA is refused, naming the prop', () => {
    const { chart } = chartWithState();
    const ca = new ClusterCA(chart, 'etcd-ca', { validity: Duration.days(30) });
    expect(() => new EtcdServerCert(chart, 'etcd', { ca, node: { name: 'cp-1', ip: '192.0.2.11' }, validity: Duration.days(60) })).toThrow(/^test\/etcd: validity: the certificate would end .* after its issuer "kubernetes"/);
  });

  test('EtcdServerCert: CN is the node name, SANs follow kubeadm rule B', () => {
    const { chart } = chartWithState();
    const cert = new EtcdServerCert(chart, 'etcd', { ca: new ClusterCA(chart, 'etcd-ca', { commonName: 'etcd-ca' }), node: { name: 'cp-2', ip: '192.0.2.12' } });
    expect(cert.certificate.subject.commonName).toBe('cp-2');
    expect(cert.certificate.extendedKeyUsage).toEqual(['serverAuth', 'clientAuth']);
    expect(cert.certificate.sans).toEqual({ dnsNames: ['cp-2', 'localhost'], ipAddresses: ['192.0.2.12', '127.0.0.1', '::1'] });
  });

  test('EtcdPeerCert and the fixed client certificates carry kubeadm\'s subjects and usages, signed by the CA given', () => {
    const { chart } = chartWithState();
    const ca = new ClusterCA(chart, 'ca');
    const etcdCa = new ClusterCA(chart, 'etcd-ca', { commonName: 'etcd-ca' });
    const frontProxyCa = new ClusterCA(chart, 'front-proxy-ca', { commonName: 'front-proxy-ca' });
    const made = {
      peer: new EtcdPeerCert(chart, 'peer', { ca: etcdCa, node: { name: 'cp-3', ip: '192.0.2.13' }, extraSANs: ['etcd-3.example.com'] }),
      kubeletClient: new ApiServerKubeletClientCert(chart, 'kubelet-client', { ca }),
      etcdClient: new ApiServerEtcdClientCert(chart, 'etcd-client', { ca: etcdCa }),
      frontProxyClient: new FrontProxyClientCert(chart, 'front-proxy-client', { ca: frontProxyCa }),
      healthcheck: new EtcdHealthcheckClientCert(chart, 'healthcheck', { ca: etcdCa }),
    };
    const summary = Object.fromEntries(
      Object.entries(made).map(([name, c]) => [name, [c.certificate.subject.commonName, c.certificate.subject.organizations ?? [], c.certificate.extendedKeyUsage, c.certificate.issuer.commonName]]),
    );
    expect(summary).toEqual({
      peer: ['cp-3', [], ['serverAuth', 'clientAuth'], 'etcd-ca'],
      kubeletClient: ['kube-apiserver-kubelet-client', ['kubeadm:cluster-admins'], ['clientAuth'], 'kubernetes'],
      etcdClient: ['kube-apiserver-etcd-client', [], ['clientAuth'], 'etcd-ca'],
      frontProxyClient: ['front-proxy-client', [], ['clientAuth'], 'front-proxy-ca'],
      healthcheck: ['kube-etcd-healthcheck-client', [], ['clientAuth'], 'etcd-ca'],
    });
    expect(made.peer.certificate.sans).toEqual({ dnsNames: ['cp-3', 'etcd-3.example.com', 'localhost'], ipAddresses: ['192.0.2.13', '127.0.0.1', '::1'] });
    expect(made.etcdClient.certificate.sans).toEqual({});
    // The generic construct needs the node for a certificate named after it.
    expect(() => new KubeadmCertificate(chart, 'no-node', { ca: etcdCa, certificate: 'etcd-server' })).toThrow('test/no-node: node: is required for etcd-server: its name or SANs come from the node and the cluster');
  });

  test('Kubeconfig renders kubeadm structure, with the key only when asked', () => {
    const { chart } = chartWithState();
    const ca = new ClusterCA(chart, 'ca');
    const kubeconfig = new Kubeconfig(chart, 'ops', { ca, server: 'https://api.example.com:6443', userName: 'ops', groups: ['ops-team'] });
    const parsed = parse(kubeconfig.render());
    expect(parsed['current-context']).toBe('ops@kubernetes');
    expect(parsed.users[0].name).toBe('ops');
    expect(Buffer.from(parsed.users[0].user['client-key-data'], 'base64').toString()).toMatch(/^-----BEGIN (EC )?PRIVATE KEY-----/);
    expect(JSON.stringify(kubeconfig.content)).not.toContain('PRIVATE KEY');
    expect(() => new Kubeconfig(chart, 'bad', { ca, server: 'api.example.com', userName: 'x' })).toThrow('test/bad: server: "api.example.com" is not an https://host[:port] URL without a path; the host is an IP address or a lower-case DNS name, the port 1-65535');
  });

  test('ServiceAccountKey is made once and never replaced by another algorithm', () => {
    const { chart, state } = chartWithState();
    const sa = new ServiceAccountKey(chart, 'sa');
    state.commit();
    expect(sa.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(new ServiceAccountKey(chart, 'sa-again', { stateSlot: 'test/sa' }).publicKeyPem).toBe(sa.publicKeyPem);
    expect(() => new ServiceAccountKey(chart, 'sa-ed', { keyAlgorithm: 'ed25519' })).toThrow('test/sa-ed: keyAlgorithm: kube-apiserver reads RSA and ECDSA service-account keys only');
    expect(() => new ServiceAccountKey(chart, 'sa-rsa', { stateSlot: 'test/sa', keyAlgorithm: 'rsa-2048' })).toThrow(/^test\/sa-rsa: keyAlgorithm: the key in .* is ecdsa-p256; replacing it with rsa-2048 would invalidate everything it signed/);
  });
});

describe('node bundles', () => {
  const reference = () => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK }));
    new ExampleCluster(app, 'example');
    state.commit();
    return state;
  };

  test('the plan names private keys and the join token by state slot, never copies them', () => {
    const state = reference();
    const token = state.secret('example/pki/join-token');
    for (const node of ['cp-1', 'worker-1']) {
      const plan = JSON.stringify(state.readDocument(`nodes/example/pki/${node}`));
      expect(plan).toContain(`"node":"${node}"`);
      expect(plan).not.toMatch(/PRIVATE KEY-----/);
      expect(plan).not.toContain(token);
    }
    const worker = renderNode(state, 'worker-1').files;
    expect(worker.map((f) => f.path)).toEqual(['bootstrap-kubelet.conf', 'kubelet/config.yaml', 'pki/ca.crt']);
    // A worker holds no private key at all: its kubelet gets a client certificate through the bootstrap token.
    const kubelet = parse(worker[0].data.toString());
    expect(kubelet.users).toEqual([{ name: 'tls-bootstrap-token-user', user: { token } }]);
    expect(worker.filter((f) => f.data.toString().includes('PRIVATE KEY'))).toEqual([]);
  });

  test('two clusters with the same node names keep a plan each; a shared name must name its cluster', () => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK }));
    const spec = { nodes: [{ name: 'cp-1', role: 'control-plane' as const, ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker' as const }] };
    const blue = new ControlPlanePki(new Chart(app, 'blue'), 'pki', { cluster: spec });
    const green = new ControlPlanePki(new Chart(app, 'green'), 'pki', { cluster: { ...spec, nodes: [...spec.nodes, { name: 'green-only', role: 'worker' as const }] } });
    state.commit();
    const caOf = (node: string, cluster?: string) => renderNode(state, node, cluster).files.find((f) => f.path === 'pki/ca.crt')!.data.toString();
    expect(caOf('cp-1', 'blue/pki')).toBe(blue.certificateAuthorities.ca.certificatePem);
    expect(caOf('green/pki/cp-1')).toBe(green.certificateAuthorities.ca.certificatePem);
    expect(caOf('green-only')).toBe(green.certificateAuthorities.ca.certificatePem); // one cluster has it: no need to say which
    expect(() => renderNode(state, 'cp-1')).toThrow('node: "cp-1" is a node of 2 clusters (blue/pki, green/pki); name one with --cluster <path> or as blue/pki/cp-1');
    expect(() => renderNode(state, 'cp-1', 'red/pki')).toThrow('node: no node "cp-1" of cluster "red/pki" in the state; its nodes are blue/pki/cp-1');
  });

  test('a state planned before plans were kept per cluster is read until the next synth, then its old plans are ignored', () => {
    const state = reference();
    const legacy = PkiState.inMemory({ clock: FIXED_CLOCK });
    const plan = state.readDocument<NodePlan>('nodes/example/pki/cp-1')!;
    const { cluster, ...oldPlan } = plan;
    expect(cluster).toBe('example/pki');
    legacy.putDocument('nodes/cp-1', oldPlan);
    expect(readNodePlan(legacy, 'cp-1')).toEqual(oldPlan);
    expect(() => renderNode(legacy, 'cp-2')).toThrow('node: no node "cp-2" in the state; its nodes are cp-1');
    legacy.putDocument('nodes/example/pki/cp-2', plan);
    expect(() => renderNode(legacy, 'cp-1')).toThrow("node: no node \"cp-1\" in the state's per-cluster plans (an older synth planned one without its cluster); run synth again");
  });

  test('a join token that has expired since synth is not exported; nodes without it still are', () => {
    let now = FIXED_CLOCK();
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory({ clock: () => now }));
    new ExampleCluster(app, 'example');
    state.commit();
    expect(renderNode(state, 'worker-1').files.map((f) => f.path)).toContain('bootstrap-kubelet.conf');
    now = new Date(now.getTime() + 31 * 24 * 3600_000); // the default 30-day ttl, with no synth since
    expect(() => renderNode(state, 'worker-1')).toThrow('node: the join token expired at 2026-03-31T12:00:00Z; run `cdk8s synth` (it renews the token example/pki/join-token), then ask again');
    expect(renderNode(state, 'cp-1').files).toHaveLength(32);
  });

  test('an unknown node is a clear error and writes nothing', () => {
    const state = reference();
    const tmp = tempDir();
    try {
      const out = path.join(tmp.dir, 'out');
      expect(() => exportNode(state, 'cp-9', out)).toThrow(
        'node: no node "cp-9" in the state; its nodes are example/pki/cp-1, example/pki/cp-2, example/pki/cp-3, example/pki/worker-1, example/pki/worker-2',
      );
      expect(fs.existsSync(out)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  test('a non-empty target, or a key missing from the state, leaves the target as it was', () => {
    const tmp = tempDir();
    try {
      const { state } = synthToDisk(tmp.dir, REFERENCE_CLUSTER);
      const occupied = path.join(tmp.dir, 'occupied');
      fs.mkdirSync(occupied);
      fs.writeFileSync(path.join(occupied, 'keep.txt'), 'mine');
      expect(() => exportNode(state, 'cp-1', occupied)).toThrow(/exists and is not an empty directory/);
      expect(snapshotDir(occupied)).toEqual({ 'keep.txt': Buffer.from('mine').toString('base64') });

      fs.rmSync(path.join(tmp.dir, '.pki/example/pki/cp-1/etcd-peer/key-1.pem'));
      const fresh = PkiState.inDirectory(path.join(tmp.dir, '.pki'));
      const empty = path.join(tmp.dir, 'empty');
      fs.mkdirSync(empty);
      expect(() => exportNode(fresh, 'cp-1', empty)).toThrow(StateError);
      expect(fs.readdirSync(empty)).toEqual([]);
      expect(fs.readdirSync(tmp.dir).filter((n) => n.includes('partial'))).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });

  test('cdk8s-pki export-node and join-command take the cluster as --cluster or <cluster>/<node> when two clusters share a node name', () => {
    const tmp = tempDir();
    try {
      const stateDir = path.join(tmp.dir, '.pki');
      const app = new App({ outdir: path.join(tmp.dir, 'dist') });
      usePkiState(app, PkiState.inDirectory(stateDir));
      const spec = { nodes: [{ name: 'cp-1', role: 'control-plane' as const, ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker' as const }] };
      new ControlPlanePki(new Chart(app, 'blue'), 'pki', { cluster: spec, tlsBootstrap: {} });
      const green = new ControlPlanePki(new Chart(app, 'green'), 'pki', { cluster: spec, tlsBootstrap: {} });
      app.synth();
      const cli = (...args: string[]) => run(process.execPath, [CLI, '--state', stateDir, ...args]);
      const ambiguous = cli('export-node', 'cp-1', '--out', path.join(tmp.dir, 'cp-1'));
      expect([ambiguous.status, ambiguous.stderr]).toEqual([1, 'cdk8s-pki: node: "cp-1" is a node of 2 clusters (blue/pki, green/pki); name one with --cluster <path> or as blue/pki/cp-1\n']);
      expect(fs.existsSync(path.join(tmp.dir, 'cp-1'))).toBe(false);
      const out = path.join(tmp.dir, 'green-worker-1');
      const exported = cli('export-node', 'worker-1', '--cluster', 'green/pki', '--out', out);
      expect(exported.stdout).toBe(
        `worker-1: wrote 3 files to ${out}\nstart its kubelet with --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf ` +
          '--config=/etc/kubernetes/kubelet/config.yaml --cert-dir=/var/lib/kubelet/pki (not kubeadm join: its preflight refuses an existing pki/ca.crt)\n',
      );
      expect(fs.readFileSync(path.join(out, 'pki/ca.crt'), 'utf8')).toBe(green.certificateAuthorities.ca.certificatePem);
      expect(cli('join-command', 'green/pki/worker-1').stdout).toContain(`--token ${green.joinToken!.token} `);
    } finally {
      tmp.cleanup();
    }
  });

  test('cdk8s-pki export-node writes the tree from a state directory', () => {
    const tmp = tempDir();
    try {
      synthToDisk(tmp.dir, REFERENCE_CLUSTER);
      const out = path.join(tmp.dir, 'cp-2');
      const stdout = runOk(process.execPath, [CLI, '--state', path.join(tmp.dir, '.pki'), 'export-node', 'cp-2', '--out', out]);
      expect(stdout).toBe(`cp-2: wrote 31 files to ${out}\n`);
      expect(fs.statSync(path.join(out, 'pki/etcd/peer.key')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(out, 'pki/etcd/peer.crt')).mode & 0o777).toBe(0o644);
      expect(fs.existsSync(path.join(out, 'super-admin.conf'))).toBe(false); // kubeadm writes it on the init node only
      const peer = runOk('openssl', ['x509', '-noout', '-subject', '-in', path.join(out, 'pki/etcd/peer.crt')]);
      expect(peer.trim()).toBe('subject=CN = cp-2');
    } finally {
      tmp.cleanup();
    }
  });
});
