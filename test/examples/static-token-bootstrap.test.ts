// examples/static-token-bootstrap: the snapshot of what `cdk8s synth` writes, and the pieces of the older guides'
// static-token bootstrap as the programs that read them see them: token.csv parsed as CSV (Python's csv module,
// the format of Go's encoding/csv that kube-apiserver's tokenfile reads), the binding of the user, the bootstrap
// kubeconfig used by kubectl against a TLS server holding the apiserver certificate, and the flags naming them.
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { BOOTSTRAP_USER, StaticTokenCluster } from '../../examples/static-token-bootstrap/main';
import { kubeletBootstrapFlags } from '../../src/kubeadm/node-bundle';
import { fromBeforeAll } from '../support/etcd-process';
import { synthExample } from '../support/example-app';
import { runOk, tempDir } from '../support/programs';
import { exportToTemp, synthCluster } from '../support/reference-cluster';
import { kubectlHealthz, RecordingServer, startRecordingServer } from '../support/tls-server';

type Manifest = { kind: string; metadata: { name: string }; roleRef?: unknown; subjects?: unknown[] };

describe('the example as `cdk8s synth` writes it (fixed clock, seeded state)', () => {
  let synth: ReturnType<typeof synthExample> | undefined;
  beforeAll(() => {
    synth = synthExample((app) => new StaticTokenCluster(app, 'cluster'));
  });
  afterAll(() => {
    if (synth) fs.rmSync(synth.app.outdir, { recursive: true, force: true });
  });
  const files = () => fromBeforeAll(synth, 'not synthesized').files;

  test('snapshot: the manifests, PKI.md and the review files of both nodes', () => {
    expect(files()).toMatchSnapshot();
  });

  test('the user of the token file is bound to system:node-bootstrapper by name, as `kubectl create clusterrolebinding … --user=kubelet-bootstrap` binds it', () => {
    const binding = (files()['cluster.k8s.yaml'] as Manifest[]).find((m) => m.kind === 'ClusterRoleBinding' && m.metadata.name === 'kubeadm:kubelet-bootstrap')!;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' });
    expect(binding.subjects).toContainEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kubelet-bootstrap' });
  });
});

describe('the exported trees, used (certificates issued now, so kubectl accepts them)', () => {
  let app: ReturnType<typeof synthCluster>['app'] | undefined;
  let cp1: ReturnType<typeof exportToTemp> | undefined;
  let worker1: ReturnType<typeof exportToTemp> | undefined;
  let server: RecordingServer | undefined;
  let cache: ReturnType<typeof tempDir> | undefined;

  beforeAll(async () => {
    const synth = synthCluster((a) => new StaticTokenCluster(a, 'cluster'));
    app = synth.app;
    cp1 = exportToTemp(synth.state, 'cp-1');
    worker1 = exportToTemp(synth.state, 'worker-1');
    cache = tempDir('cdk8s-pki-kubectl-cache-');
    // kube-apiserver's serving side with cp-1's certificate; it asks no client certificate, as for a token.
    server = await startRecordingServer({ cert: fs.readFileSync(cp1.file('pki/apiserver.crt')), key: fs.readFileSync(cp1.file('pki/apiserver.key')) });
  });

  afterAll(async () => {
    try {
      await server?.close();
    } finally {
      cp1?.cleanup();
      worker1?.cleanup();
      cache?.cleanup();
      if (app) fs.rmSync(app.outdir, { recursive: true, force: true });
    }
  });

  const controlPlane = () => fromBeforeAll(cp1, 'cp-1 was not exported');
  const worker = () => fromBeforeAll(worker1, 'worker-1 was not exported');
  /** The records of token.csv as CSV readers parse it (Python's csv, RFC 4180 quoting as Go's encoding/csv). */
  const csvRecords = (file: string): string[][] => JSON.parse(runOk('python3', ['-c', 'import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline="")))))', file]));

  test('pki/token.csv on cp-1 is one record of four columns, token,user,uid,"groups", the groups quoted; mode 0600', () => {
    const file = controlPlane().file('pki/token.csv');
    const records = csvRecords(file);
    expect(records).toHaveLength(1);
    const [token, user, uid, groups] = records[0];
    expect(records[0]).toHaveLength(4);
    expect({ user, uid, groups: groups.split(',') }).toEqual({ user: 'kubelet-bootstrap', uid: '10001', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'] });
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${token},${BOOTSTRAP_USER.user},${BOOTSTRAP_USER.uid},"${groups}"\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // The worker holds the token in its kubeconfig only; the file is the API server's.
    expect(fs.existsSync(worker().file('pki/token.csv'))).toBe(false);
  });

  test("the worker's bootstrap kubeconfig: kubectl sends the token of token.csv as a Bearer credential, to the load balancer's name, verified with the cluster CA", async () => {
    const [[token]] = csvRecords(controlPlane().file('pki/token.csv'));
    const kubeconfig = worker().file('bootstrap-kubelet.conf');
    const view = (jsonpath: string) => runOk('kubectl', ['config', 'view', '--raw', '--kubeconfig', kubeconfig, '-o', `jsonpath=${jsonpath}`]);
    expect(view('{.users[0].user.token}')).toBe(token);
    expect(view('{.clusters[0].cluster.server}')).toBe('https://k8s-api.example.internal:6443');
    expect(Buffer.from(view('{.clusters[0].cluster.certificate-authority-data}'), 'base64').toString()).toBe(fs.readFileSync(worker().file('pki/ca.crt'), 'utf8'));
    const running = fromBeforeAll(server, 'the server did not start');
    const result = await kubectlHealthz(kubeconfig, running.port, fromBeforeAll(cache, 'no cache').dir);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
    expect(new Set(running.seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${token}`]));
  });

  test('kube-apiserver reads the file through --token-auth-file, from the pki/ directory its Pod mounts; the kubelet starts from the bootstrap kubeconfig', () => {
    const pod = parse(fs.readFileSync(controlPlane().file('manifests/kube-apiserver.yaml'), 'utf8'));
    const container = pod.spec.containers[0];
    expect(container.command).toEqual(expect.arrayContaining(['--token-auth-file=/etc/kubernetes/pki/token.csv', '--client-ca-file=/etc/kubernetes/pki/ca.crt']));
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/etc/kubernetes/pki');
    expect(pod.spec.volumes.find((v: { name: string }) => v.name === mount.name).hostPath.path).toBe('/etc/kubernetes/pki');
    // The controller-manager signs the kubelet's CSR with the cluster CA.
    const controllerManager = parse(fs.readFileSync(controlPlane().file('manifests/kube-controller-manager.yaml'), 'utf8')).spec.containers[0].command;
    expect(controllerManager).toEqual(expect.arrayContaining(['--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt', '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key']));
    // Every file the kubelet's flags name is in the worker's tree, but kubelet.conf, which the kubelet writes.
    expect(kubeletBootstrapFlags()).toEqual([
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      '--config=/etc/kubernetes/kubelet/config.yaml',
      '--cert-dir=/var/lib/kubelet/pki',
    ]);
    expect(['bootstrap-kubelet.conf', 'kubelet/config.yaml'].map((f) => fs.existsSync(worker().file(f)))).toEqual([true, true]);
    expect(fs.existsSync(worker().file('kubelet.conf'))).toBe(false);
    expect(parse(fs.readFileSync(worker().file('kubelet/config.yaml'), 'utf8'))).toMatchObject({ rotateCertificates: true, authentication: { x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' } } });
  });
});
