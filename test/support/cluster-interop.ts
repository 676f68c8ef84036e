// The interop checks of an exported cluster, by the real programs its files are written for: etcd runs from the
// first control-plane node's own static Pod manifest (only addresses and the data directory moved to this
// machine) and judges the etcd clients, and kubectl, with the exported kubeconfigs, talks to a server holding that
// node's apiserver certificate that records who the client certificate says it is; a worker's credential
// (bootstrap-kubelet.conf, or a kubelet.conf issued here) is used the same way. Any app with a ControlPlanePki
// runs them: the reference cluster and the examples. Nothing is mocked: etcd, etcdctl and kubectl must be
// installed, and the suite fails (it does not skip) without them.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { App } from 'cdk8s';
import { parse } from 'yaml';
import type { ControlPlanePki } from '../../constructs';
import { commonNameOf, KubeconfigId, KUBECONFIGS } from '../../src/kubeadm/catalog';
import type { Cluster } from '../../src/kubeadm/cluster-spec';
import { renderKubeconfig } from '../../src/content/kubeconfig';
import { KUBERNETES_DIR } from '../../src/kubeadm/layout';
import { ADDRESS_FLAGS, ctlOutput, EtcdClient, EtcdUnderTest, expectRefusedPut, flagName, flagValue, fromBeforeAll, LOG_FLAGS } from './etcd-process';
import { tempDir } from './programs';
import { exportToTemp, synthCluster } from './reference-cluster';
import { kubectlHealthz, RecordingServer, startRecordingServer as startServer } from './tls-server';
import { etcdManifestFlags, intoExport as intoExportDir } from './etcd-cluster';

type Exported = ReturnType<typeof exportToTemp>;

/** The flags the test moves to this machine: where etcd listens and advertises, its peers, and its data. */
const REPLACED_FLAGS = new Set<string>([...ADDRESS_FLAGS, 'data-dir']);

/** The flags about TLS: certificates, keys, trusted CAs, client-certificate requirements, TLS versions and ciphers. */
const isTlsFlag = (arg: string) => /cert|key|(^|-)ca-file$|tls|cipher/.test(flagName(arg));

/** kubeadm's etcd TLS flags, all of which the manifest must carry for the comparison below to mean anything. */
const ETCD_TLS_FLAGS = ['cert-file', 'key-file', 'trusted-ca-file', 'client-cert-auth', 'peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file', 'peer-client-cert-auth'];

interface KubeconfigCase {
  node: string;
  id: KubeconfigId;
  file: string;
  commonName: string;
  organizations: string[];
}

export interface ClusterInteropOptions {
  /** Builds the app's chart into the given app; its `pki` is the cluster under test. */
  readonly build: (app: App) => { readonly pki: ControlPlanePki };
  /** The first control-plane node (the one with super-admin.conf): its etcd, kubeconfigs and apiserver certificate are used. */
  readonly controlPlaneNode: string;
  /** A worker, whose credential is used. */
  readonly worker: string;
  /**
   * How the app's workers get their kubelet credential: a bootstrap token (bootstrap-kubelet.conf, `tlsBootstrap`)
   * or a kubelet.conf issued here (no `tlsBootstrap`). Checked against the app's ControlPlanePki.
   */
  readonly workerJoin: 'bootstrap-token' | 'issued-certificate';
}

/**
 * The interop suites of the cluster `build` makes: synthesized now (no clock, so etcd and kubectl find the
 * certificates valid), the control-plane node and the worker exported into temporary directories.
 */
export function describeClusterInterop({ build, controlPlaneNode, worker, workerJoin }: ClusterInteropOptions): void {
  let app: App | undefined;
  let cluster: Cluster | undefined;
  let controlPlaneExport: Exported | undefined;
  let workerExport: Exported | undefined;
  let joinToken: string | undefined;

  beforeAll(() => {
    const synth = synthCluster(build);
    app = synth.app;
    cluster = synth.pki.cluster;
    controlPlaneExport = exportToTemp(synth.state, controlPlaneNode);
    workerExport = exportToTemp(synth.state, worker);
    joinToken = synth.pki.joinToken?.token;
  });

  afterAll(() => {
    controlPlaneExport?.cleanup();
    workerExport?.cleanup();
    // cdk8s's Testing.app() makes an output directory of its own.
    if (app) fs.rmSync(app.outdir, { recursive: true, force: true });
  });

  const exported = (node: string): Exported => fromBeforeAll(node === controlPlaneNode ? controlPlaneExport : workerExport, `${node} was not exported`);

  test(`the app's workers join as the suite expects (${workerJoin})`, () => {
    expect(joinToken === undefined ? 'issued-certificate' : 'bootstrap-token').toBe(workerJoin);
    expect(fs.existsSync(exported(worker).file('bootstrap-kubelet.conf'))).toBe(workerJoin === 'bootstrap-token');
    expect(fs.existsSync(exported(worker).file('kubelet.conf'))).toBe(workerJoin === 'issued-certificate');
  });

    describe(`${controlPlaneNode}'s exported manifests/etcd.yaml, run by a real etcd`, () => {
    let manifestFlags: string[];
    let data: ReturnType<typeof tempDir> | undefined;
    let etcd: EtcdUnderTest | undefined;

    const intoExport = (arg: string): string => intoExportDir(exported(controlPlaneNode).dir, arg);

    /** An etcdctl identity from the control-plane node's export: `pki/<base>.crt/.key`, trusting the etcd CA for etcd's certificate. */
    const client = (base: string): EtcdClient => ({
      cert: exported(controlPlaneNode).file(`pki/${base}.crt`),
      key: exported(controlPlaneNode).file(`pki/${base}.key`),
      ca: exported(controlPlaneNode).file('pki/etcd/ca.crt'),
    });
    const apiServerEtcdClient = () => client('apiserver-etcd-client');

    beforeAll(async () => {
      const flags = etcdManifestFlags(exported(controlPlaneNode).dir);
      manifestFlags = flags;

      data = tempDir('cdk8s-pki-etcd-data-');
      etcd = await EtcdUnderTest.start({
        flags: [...flags.filter((arg) => !REPLACED_FLAGS.has(flagName(arg))).map(intoExport), `--data-dir=${data.file('member')}`],
        healthClient: apiServerEtcdClient(),
        metrics: flagValue(flags, 'listen-metrics-urls') !== undefined,
      });
    }, 45_000);

    afterAll(async () => {
      try {
        await etcd?.stop();
      } finally {
        data?.cleanup();
      }
    }, 20_000);

    const running = (): EtcdUnderTest => fromBeforeAll(etcd, 'etcd did not start');

    test('etcd got every TLS flag of the manifest, unchanged but for the /etc/kubernetes prefix', () => {
      const passed = running().args;
      expect(manifestFlags.filter(isTlsFlag).map(flagName)).toEqual(expect.arrayContaining(ETCD_TLS_FLAGS));
      expect(passed.filter(isTlsFlag).sort()).toEqual(manifestFlags.filter(isTlsFlag).map(intoExport).sort());
      // The rewritten paths are files of the export, and nothing still points at the real /etc/kubernetes.
      for (const arg of passed.filter(isTlsFlag)) {
        const value = flagValue([arg], flagName(arg))!;
        if (value !== 'true') expect(fs.statSync(value).isFile()).toBe(true);
      }
      expect(passed.filter((arg) => arg.includes(KUBERNETES_DIR))).toEqual([]);
    });

    test('etcd got the same flags as the manifest, only addresses and the data directory replaced (plus logging)', () => {
      const passed = running().args.filter((arg) => !(LOG_FLAGS as readonly string[]).includes(arg));
      expect(passed.map(flagName).sort()).toEqual(manifestFlags.map(flagName).sort());
      const kept = (args: readonly string[]) => args.filter((arg) => !REPLACED_FLAGS.has(flagName(arg)));
      expect(kept(passed).sort()).toEqual(kept(manifestFlags).map(intoExport).sort());
      // The replaced ones point at this machine's loopback, and the member keeps the manifest's name.
      const name = flagValue(manifestFlags, 'name');
      expect(name).toBe(controlPlaneNode);
      expect(flagValue(passed, 'initial-cluster')).toBe(`${name}=${running().peerUrl}`);
      for (const flag of ADDRESS_FLAGS.filter((f) => f !== 'initial-cluster')) expect(flagValue(passed, flag)).toMatch(/^https?:\/\/127\.0\.0\.1:\d+$/);
    });

    test("etcd took kubeadm's corrupt check and progress-notify flags as the manifest spells them for etcd 3.5 (etcd exits on a flag it does not know)", () => {
      const health = ['--experimental-initial-corrupt-check=true', '--experimental-watch-progress-notify-interval=5s'];
      expect(manifestFlags).toEqual(expect.arrayContaining(health));
      expect(running().args).toEqual(expect.arrayContaining(health));
    });

    test('the running member is named as in the manifest', () => {
      const list = running().ctl(apiServerEtcdClient(), ['member', 'list', '--write-out=json']);
      expect(list.status).toBe(0);
      const members = (JSON.parse(list.stdout) as { members: { name: string; peerURLs: string[] }[] }).members;
      expect(members.map((m) => ({ name: m.name, peerURLs: m.peerURLs }))).toEqual([{ name: controlPlaneNode, peerURLs: [running().peerUrl] }]);
    });

    test('pki/apiserver-etcd-client, trusting pki/etcd/ca.crt, puts a key and gets it back', () => {
      const value = `apiserver-${crypto.randomBytes(6).toString('hex')}`;
      expect(ctlOutput(running().ctl(apiServerEtcdClient(), ['put', '/cdk8s-pki/apiserver', value]))).toBe('exit 0\nOK\n');
      expect(ctlOutput(running().ctl(apiServerEtcdClient(), ['get', '/cdk8s-pki/apiserver', '--print-value-only']))).toBe(`exit 0\n${value}\n`);
    });

    test('pki/etcd/healthcheck-client reads a key the apiserver-etcd-client wrote', () => {
      const value = `healthcheck-${crypto.randomBytes(6).toString('hex')}`;
      expect(ctlOutput(running().ctl(apiServerEtcdClient(), ['put', '/cdk8s-pki/healthcheck', value]))).toBe('exit 0\nOK\n');
      expect(ctlOutput(running().ctl(client('etcd/healthcheck-client'), ['get', '/cdk8s-pki/healthcheck', '--print-value-only']))).toBe(`exit 0\n${value}\n`);
    });

    test('a client certificate from the kubernetes CA (pki/apiserver-kubelet-client) is refused and writes nothing', async () => {
      await expectRefusedPut(
        running(),
        client('apiserver-kubelet-client'),
        '/cdk8s-pki/kubelet-client',
        /^tls: failed to verify client certificate: x509: certificate signed by unknown authority$/,
        apiServerEtcdClient(),
      );
    });
  });

  /** A recording server with the control-plane node's apiserver certificate (or `serving`, a pki/ base name) that, given `caFile`, requires a client certificate from that CA. */
  const startRecordingServer = (caFile: string | undefined, serving = 'apiserver'): Promise<RecordingServer> =>
    startServer({
      cert: fs.readFileSync(exported(controlPlaneNode).file(`pki/${serving}.crt`)),
      key: fs.readFileSync(exported(controlPlaneNode).file(`pki/${serving}.key`)),
      clientCa: caFile ? fs.readFileSync(caFile) : undefined,
    });


  /** Who each exported kubeconfig must be, as kubeadm makes them (kubeconfig.go, v1.31). */
  const KUBECONFIG_CASES: KubeconfigCase[] = [
    { node: controlPlaneNode, id: 'admin', file: 'admin.conf', commonName: 'kubernetes-admin', organizations: ['kubeadm:cluster-admins'] },
    { node: controlPlaneNode, id: 'super-admin', file: 'super-admin.conf', commonName: 'kubernetes-super-admin', organizations: ['system:masters'] },
    { node: controlPlaneNode, id: 'controller-manager', file: 'controller-manager.conf', commonName: 'system:kube-controller-manager', organizations: [] },
    { node: controlPlaneNode, id: 'scheduler', file: 'scheduler.conf', commonName: 'system:kube-scheduler', organizations: [] },
    { node: controlPlaneNode, id: 'kubelet', file: 'kubelet.conf', commonName: `system:node:${controlPlaneNode}`, organizations: ['system:nodes'] },
    // A worker without TLS bootstrapping gets a kubelet.conf issued here, with its own node identity.
    ...(workerJoin === 'issued-certificate' ? [{ node: worker, id: 'kubelet' as const, file: 'kubelet.conf', commonName: `system:node:${worker}`, organizations: ['system:nodes'] }] : []),
  ];

  describe('kubectl with the exported kubeconfigs, against a server holding the exported apiserver certificate', () => {
    let cache: ReturnType<typeof tempDir> | undefined;
    let clusterCaServer: Awaited<ReturnType<typeof startRecordingServer>> | undefined;
    let frontProxyCaServer: Awaited<ReturnType<typeof startRecordingServer>> | undefined;
    let tokenServer: Awaited<ReturnType<typeof startRecordingServer>> | undefined;
    let foreignServer: Awaited<ReturnType<typeof startRecordingServer>> | undefined;

    beforeAll(async () => {
      // kubectl's HTTP cache goes here rather than into the home directory of whoever runs the tests.
      cache = tempDir('cdk8s-pki-kubectl-cache-');
      clusterCaServer = await startRecordingServer(exported(controlPlaneNode).file('pki/ca.crt'));
      // The CA kube-apiserver trusts for --requestheader-client-ca-file only: it must not let cluster clients in.
      frontProxyCaServer = await startRecordingServer(exported(controlPlaneNode).file('pki/front-proxy-ca.crt'));
      // For the bootstrap token: no client certificate asked; the second serves a certificate of the etcd CA.
      tokenServer = await startRecordingServer(undefined);
      foreignServer = await startRecordingServer(undefined, 'etcd/server');
    });

    afterAll(async () => {
      try {
        await clusterCaServer?.close();
        await frontProxyCaServer?.close();
        await tokenServer?.close();
        await foreignServer?.close();
      } finally {
        cache?.cleanup();
      }
    });

    const serving = <T>(server: T | undefined): T => fromBeforeAll(server, 'the server did not start');

    /** Runs kubectl with `kubeconfig` against `server`; returns its result and the requests the server saw meanwhile. */
    async function healthz(kubeconfig: string, server: Awaited<ReturnType<typeof startRecordingServer>>, serverName?: string) {
      const mark = server.seen.length;
      const result = await kubectlHealthz(kubeconfig, server.port, fromBeforeAll(cache, 'no kubectl cache directory').dir, serverName);
      return { result, seen: server.seen.slice(mark) };
    }

    test('the expected subjects below are the catalog\'s (src/kubeadm/catalog.ts)', () => {
      for (const c of KUBECONFIG_CASES) {
        const node = fromBeforeAll(cluster, 'not synthesized').nodes.find((n) => n.name === c.node)!;
        expect({ file: KUBECONFIGS[c.id].fileName, commonName: commonNameOf(KUBECONFIGS[c.id], node), organizations: KUBECONFIGS[c.id].organizations ?? [] }).toEqual({
          file: c.file,
          commonName: c.commonName,
          organizations: c.organizations,
        });
      }
    });

    const subject = (c: KubeconfigCase) => `CN=${c.commonName}${c.organizations.length ? `, O=${c.organizations.join('+')}` : ' (no O)'}`;

    test.each(KUBECONFIG_CASES.map((c) => [`${c.node} ${c.file}`, subject(c), c] as const))('%s gets "ok" from /healthz and the server sees %s', async (_title, _subject, c) => {
      const { result, seen } = await healthz(exported(c.node).file(c.file), serving(clusterCaServer));
      expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
      expect(seen).toContainEqual({ method: 'GET', url: '/healthz', commonName: c.commonName, organizations: c.organizations });
      // kubectl may ask for /version first; whatever it sent, it sent as this one identity.
      expect(new Set(seen.map((r) => JSON.stringify([r.commonName, r.organizations])))).toEqual(new Set([JSON.stringify([c.commonName, c.organizations])]));
    });

    if (workerJoin === 'bootstrap-token') {
      test(`${worker}'s bootstrap-kubelet.conf sends its token as a Bearer credential, to a server it verified through the embedded CA`, async () => {
        const token = parse(fs.readFileSync(exported(worker).file('bootstrap-kubelet.conf'), 'utf8')).users[0].user.token;
        expect(token).toBe(fromBeforeAll(joinToken, 'no join token'));
        const { result, seen } = await healthz(exported(worker).file('bootstrap-kubelet.conf'), serving(tokenServer));
        expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
        expect(seen).toContainEqual({ method: 'GET', url: '/healthz', authorization: `Bearer ${token}` });
        expect(new Set(seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${token}`]));
      });
    }

    /** The kubeconfig the worker's kubelet starts with. */
    const workerCredential = workerJoin === 'bootstrap-token' ? 'bootstrap-kubelet.conf' : 'kubelet.conf';

    test(`with ${worker}'s ${workerCredential}, kubectl refuses a server whose certificate is not from the cluster CA, and sends nothing`, async () => {
      // etcd's server certificate names localhost, so only the issuer can make kubectl refuse it.
      const { result, seen } = await healthz(exported(worker).file(workerCredential), serving(foreignServer), 'localhost');
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/x509: certificate signed by unknown authority/);
      expect(seen).toEqual([]);
    });

    test('a server trusting only the front-proxy CA accepts front-proxy-client but refuses admin.conf', async () => {
      const server = serving(frontProxyCaServer);
      // The control: that server does take a client certificate from its own CA, front-proxy-client's.
      const frontProxyKubeconfig = fromBeforeAll(cache, 'no kubectl cache directory').file(
        'front-proxy-client.conf',
        renderKubeconfig({
          clusterName: 'kubernetes',
          server: `https://127.0.0.1:${server.port}`,
          caPem: fs.readFileSync(exported(controlPlaneNode).file('pki/ca.crt'), 'utf8'),
          userName: 'front-proxy-client',
          certificatePem: fs.readFileSync(exported(controlPlaneNode).file('pki/front-proxy-client.crt'), 'utf8'),
          privateKeyPem: fs.readFileSync(exported(controlPlaneNode).file('pki/front-proxy-client.key'), 'utf8'),
        }),
      );
      const accepted = await healthz(frontProxyKubeconfig, server);
      expect(accepted.result.status).toBe(0);
      expect(accepted.seen).toContainEqual({ method: 'GET', url: '/healthz', commonName: 'front-proxy-client', organizations: [] });

      // node ends a TLS 1.3 connection whose client certificate it cannot verify, so kubectl only sees it dropped
      // (reset, EOF, broken pipe or "server closed idle connection", depending on timing): the proof of refusal is
      // the failure with nothing served, against the control above.
      const refused = await healthz(exported(controlPlaneNode).file('admin.conf'), server);
      expect(refused.result.status).not.toBe(0);
      expect(refused.result.stdout).toBe('');
      expect(refused.result.stderr).toMatch(/^Unable to connect to the server: /);
      expect(refused.seen).toEqual([]);
    });
  });
}
