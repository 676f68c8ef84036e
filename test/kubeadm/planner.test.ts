// The kubeadm planner as pure functions: no constructs, no state, no keys. What is issued is stood in for by
// labelled placeholders, so each file's content says which issued thing it came from. Expected files and flags
// are kubeadm's (reference §4–§6, phases/controlplane/manifests.go, phases/etcd/local.go), written out here.
import { parse } from 'yaml';
import { CaId, CERTIFICATE_AUTHORITIES } from '../../src/kubeadm/catalog';
import { ClusterSpec, resolveCluster } from '../../src/kubeadm/cluster-spec';
import { clusterConfiguration, joinConfigMaps } from '../../src/kubeadm/join-config';
import { PlannedFile } from '../../src/kubeadm/node-bundle';
import { certificateInstances, instanceKey, IssuedMaterial, kubeconfigInstances, planCluster, PlannerOptions } from '../../src/kubeadm/planner';
import { etcdFlags, etcdImageTag, kubeApiServerFlags } from '../../src/kubeadm/static-pods';

const SPEC: ClusterSpec = {
  controlPlaneEndpoint: 'api.example.internal:6443',
  serviceSubnets: ['10.96.0.0/12', 'fd00:10:96::/112'],
  apiServerCertSANs: ['10.0.0.10'],
  nodes: [
    { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
    { name: 'cp-2', role: 'control-plane', ip: '10.0.0.12' },
    { name: 'w-1', role: 'worker' },
  ],
};
const CLUSTER = resolveCluster(SPEC);
const key = (label: string) => ({ slot: `slot/${label}`, generation: 1 });

/** Placeholders for everything the planner asks to be issued, each labelled with its instance key. */
function issuedFor(options: PlannerOptions, withToken: boolean, cluster = CLUSTER): IssuedMaterial {
  const ca = (id: CaId) => ({ certificatePem: `PEM ${id}`, key: key(id), trustBundlePem: `BUNDLE ${id}`, spkiPins: [`sha256:${id}`] });
  return {
    cas: { 'ca': ca('ca'), 'etcd-ca': ca('etcd-ca'), 'front-proxy-ca': ca('front-proxy-ca') },
    serviceAccountKeys: [key('sa')],
    certificates: new Map(certificateInstances(cluster).map(({ entry, node }) => [instanceKey(entry.id, node), { certificatePem: `PEM ${instanceKey(entry.id, node)}`, key: key(instanceKey(entry.id, node)) }])),
    kubeconfigs: new Map(
      kubeconfigInstances(cluster, options).map((k) => [
        instanceKey(k.entry.id, k.node),
        { content: { clusterName: 'kubernetes', server: k.server, caPem: 'PEM ca', userName: k.userName, certificatePem: `PEM ${instanceKey(k.entry.id, k.node)}` }, key: key(instanceKey(k.entry.id, k.node)) },
      ]),
    ),
    ...(withToken ? { joinToken: { slot: 'slot/join-token', expiration: '2026-03-02T12:00:00Z', tokenAuthFileEntry: { user: 'system:bootstrap:abcdef', uid: 'abcdef', groups: ['system:bootstrappers'] } } } : {}),
  };
}

function plan(options: PlannerOptions) {
  return planCluster(CLUSTER, issuedFor(options, options.tlsBootstrap === true), options, 'app/pki');
}
const files = (options: PlannerOptions, node: string): PlannedFile[] => plan(options).nodes.find((n) => n.plan.node === node)!.plan.files;
const paths = (options: PlannerOptions, node: string) => files(options, node).map((f) => f.path);
const contentOf = (options: PlannerOptions, node: string, path: string) => files(options, node).find((f) => f.path === path)?.content;

/** kubeadm's 22 pki files of a stacked control-plane node (reference §4). */
const KUBEADM_PKI = [
  'pki/apiserver-etcd-client.crt', 'pki/apiserver-etcd-client.key', 'pki/apiserver-kubelet-client.crt', 'pki/apiserver-kubelet-client.key',
  'pki/apiserver.crt', 'pki/apiserver.key', 'pki/ca.crt', 'pki/ca.key',
  'pki/etcd/ca.crt', 'pki/etcd/ca.key', 'pki/etcd/healthcheck-client.crt', 'pki/etcd/healthcheck-client.key',
  'pki/etcd/peer.crt', 'pki/etcd/peer.key', 'pki/etcd/server.crt', 'pki/etcd/server.key',
  'pki/front-proxy-ca.crt', 'pki/front-proxy-ca.key', 'pki/front-proxy-client.crt', 'pki/front-proxy-client.key',
  'pki/sa.key', 'pki/sa.pub',
];
const MANIFESTS = ['manifests/etcd.yaml', 'manifests/kube-apiserver.yaml', 'manifests/kube-controller-manager.yaml', 'manifests/kube-scheduler.yaml'];

describe('what the cluster needs issued', () => {
  test('per-node certificates once per control-plane node, cluster-wide ones once', () => {
    expect(certificateInstances(CLUSTER).map(({ entry, node }) => instanceKey(entry.id, node))).toEqual([
      'apiserver@cp-1', 'apiserver@cp-2', 'apiserver-kubelet-client', 'front-proxy-client', 'etcd-server@cp-1', 'etcd-server@cp-2',
      'etcd-peer@cp-1', 'etcd-peer@cp-2', 'etcd-healthcheck-client@cp-1', 'etcd-healthcheck-client@cp-2', 'apiserver-etcd-client',
    ]);
  });

  test('kubeconfigs: subjects and servers as kubeadm writes them; a bootstrapping worker gets no kubelet.conf from here', () => {
    const summary = (options: PlannerOptions) => kubeconfigInstances(CLUSTER, options).map((k) => [instanceKey(k.entry.id, k.node), k.userName, k.groups ?? [], k.server]);
    expect(summary({})).toEqual([
      ['admin', 'kubernetes-admin', ['kubeadm:cluster-admins'], 'https://api.example.internal:6443'],
      ['super-admin', 'kubernetes-super-admin', ['system:masters'], 'https://api.example.internal:6443'],
      ['controller-manager@cp-1', 'system:kube-controller-manager', [], 'https://10.0.0.11:6443'],
      ['controller-manager@cp-2', 'system:kube-controller-manager', [], 'https://10.0.0.12:6443'],
      ['scheduler@cp-1', 'system:kube-scheduler', [], 'https://10.0.0.11:6443'],
      ['scheduler@cp-2', 'system:kube-scheduler', [], 'https://10.0.0.12:6443'],
      ['kubelet@cp-1', 'system:node:cp-1', ['system:nodes'], 'https://api.example.internal:6443'],
      ['kubelet@cp-2', 'system:node:cp-2', ['system:nodes'], 'https://api.example.internal:6443'],
      ['kubelet@w-1', 'system:node:w-1', ['system:nodes'], 'https://api.example.internal:6443'],
    ]);
    expect(summary({ tlsBootstrap: true }).map(([name]) => name)).not.toContain('kubelet@w-1');
    expect(summary({ tlsBootstrap: true }).map(([name]) => name)).toContain('kubelet@cp-1');
  });
});

describe('which node gets what', () => {
  test("the first control-plane node: kubeadm's 22 pki files, five kubeconfigs (super-admin.conf on it only), four manifests, the kubelet config", () => {
    expect(paths({}, 'cp-1')).toEqual(
      [...KUBEADM_PKI, 'admin.conf', 'controller-manager.conf', 'kubelet.conf', 'scheduler.conf', 'super-admin.conf', ...MANIFESTS, 'kubelet/config.yaml'].sort((a, b) => a.localeCompare(b)),
    );
    expect(paths({}, 'cp-2')).not.toContain('super-admin.conf');
    expect(paths({}, 'cp-2')).toEqual(expect.arrayContaining([...KUBEADM_PKI, ...MANIFESTS]));
  });

  test('a worker: the cluster CA certificate and the kubelet config, with kubelet.conf or (TLS bootstrapping) bootstrap-kubelet.conf; no key', () => {
    expect(paths({}, 'w-1')).toEqual(['kubelet.conf', 'kubelet/config.yaml', 'pki/ca.crt']);
    expect(paths({ tlsBootstrap: true }, 'w-1')).toEqual(['bootstrap-kubelet.conf', 'kubelet/config.yaml', 'pki/ca.crt']);
    expect(files({ tlsBootstrap: true }, 'w-1').filter((f) => f.content.kind === 'private-key' || f.content.kind === 'kubeconfig')).toEqual([]);
    // Without its token a bootstrapping worker would have nothing to authenticate with.
    expect(() => planCluster(CLUSTER, issuedFor({ tlsBootstrap: true }, false), { tlsBootstrap: true }, 'app/pki')).toThrow('a TLS-bootstrapping cluster is planned with its join token');
    expect(contentOf({ tlsBootstrap: true }, 'w-1', 'bootstrap-kubelet.conf')).toEqual({
      kind: 'token-kubeconfig',
      tokenSlot: 'slot/join-token',
      kubeconfig: { clusterName: 'kubernetes', server: 'https://api.example.internal:6443', caPem: 'BUNDLE ca', userName: 'tls-bootstrap-token-user' },
    });
  });

  test("each node's own certificates and kubeconfigs, keys by reference; cluster-wide ones the same on every control-plane node", () => {
    expect(contentOf({}, 'cp-2', 'pki/apiserver.crt')).toEqual({ kind: 'text', text: 'PEM apiserver@cp-2' });
    expect(contentOf({}, 'cp-2', 'pki/etcd/peer.key')).toEqual({ kind: 'private-key', key: key('etcd-peer@cp-2') });
    expect(contentOf({}, 'cp-2', 'scheduler.conf')).toMatchObject({ kind: 'kubeconfig', key: key('scheduler@cp-2') });
    expect(contentOf({}, 'w-1', 'kubelet.conf')).toMatchObject({ kind: 'kubeconfig', key: key('kubelet@w-1') });
    for (const node of ['cp-1', 'cp-2']) {
      expect(contentOf({}, node, 'pki/front-proxy-client.key')).toEqual({ kind: 'private-key', key: key('front-proxy-client') });
      expect(contentOf({}, node, 'pki/ca.key')).toEqual({ kind: 'private-key', key: key('ca') });
      expect(contentOf({}, node, 'pki/sa.pub')).toEqual({ kind: 'public-key', key: key('sa') });
      expect(contentOf({}, node, 'admin.conf')).toMatchObject({ key: key('admin') });
    }
  });

  test('in a cluster of many nodes, each node gets exactly the certificates and kubeconfigs issued for it, and the cluster-wide ones', () => {
    const nodes = [
      ...[1, 2, 3].map((i) => ({ name: `cp-${i}`, role: 'control-plane' as const, ip: `10.0.0.${i}` })),
      ...Array.from({ length: 60 }, (_, i) => ({ name: `w-${i + 1}`, role: 'worker' as const })),
    ];
    const cluster = resolveCluster({ ...SPEC, nodes });
    const planned = planCluster(cluster, issuedFor({}, false, cluster), {}, 'app/pki');
    // Every placeholder names its instance: `PEM <id>@<node>` for a node's own, `PEM <id>` for one per cluster.
    const labels = (node: string) =>
      planned.nodes
        .find((n) => n.plan.node === node)!
        .plan.files.flatMap(({ content }) => (content.kind === 'kubeconfig' ? [content.kubeconfig.certificatePem] : content.kind === 'text' && content.text.startsWith('PEM ') ? [content.text] : []))
        .map((text) => text.slice('PEM '.length))
        .sort();
    const own = (node: string) =>
      [...certificateInstances(cluster), ...kubeconfigInstances(cluster)].filter((instance) => instance.node?.name === node).map((instance) => instanceKey(instance.entry.id, instance.node));
    expect(labels('w-37')).toEqual(['ca', 'kubelet@w-37']);
    expect(labels('w-60')).toEqual(['ca', 'kubelet@w-60']);
    for (const node of ['cp-2', 'cp-3']) expect(labels(node)).toEqual(labels('cp-2').map((label) => label.replace(/@cp-2$/, `@${node}`)));
    for (const node of nodes) {
      const perNode = labels(node.name).filter((label) => label.includes('@'));
      expect(perNode).toEqual(own(node.name).sort());
    }
    expect(labels('cp-1').filter((label) => !label.includes('@'))).toContain('admin');
  });

  test('modes: keys, kubeconfigs and manifests 0600, certificates 0644 (reference §4)', () => {
    const modes = Object.fromEntries(files({ tlsBootstrap: true }, 'cp-1').map((f) => [f.path, f.mode]));
    expect([modes['pki/ca.key'], modes['pki/sa.pub'], modes['admin.conf'], modes['manifests/etcd.yaml']]).toEqual([0o600, 0o600, 0o600, 0o600]);
    expect([modes['pki/ca.crt'], modes['pki/etcd/server.crt']]).toEqual([0o644, 0o644]);
  });

  test('the legacy token file goes to control-plane nodes only, and only when asked for', () => {
    expect(paths({ tlsBootstrap: true }, 'cp-1')).not.toContain('pki/token.csv');
    expect(paths({ tlsBootstrap: true, tokenAuthFile: true }, 'cp-1')).toContain('pki/token.csv');
    expect(paths({ tlsBootstrap: true, tokenAuthFile: true }, 'w-1')).not.toContain('pki/token.csv');
  });

  test("each plan names its cluster and carries the join line's parts; the static Pods are the plan's manifests", () => {
    const planned = plan({ tlsBootstrap: true });
    expect(planned.nodes.map((n) => [n.plan.cluster, n.plan.node, Object.keys(n.staticPods)])).toEqual([
      ['app/pki', 'cp-1', ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']],
      ['app/pki', 'cp-2', ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']],
      ['app/pki', 'w-1', []],
    ]);
    expect(planned.nodes[2].plan.join).toEqual({ endpoint: 'api.example.internal:6443', tokenSlot: 'slot/join-token', caCertHash: 'sha256:ca', tokenExpiration: '2026-03-02T12:00:00Z' });
    const manifest = planned.nodes[1].plan.files.find((f) => f.path === 'manifests/etcd.yaml')!.content;
    expect(manifest.kind === 'text' && parse(manifest.text)).toEqual(JSON.parse(JSON.stringify(planned.nodes[1].staticPods['etcd.yaml'])));
    expect(plan({}).nodes[0].plan.join).toBeUndefined();
  });

  test('the catalog places every CA: certificates of etcd and the front proxy and every CA key on control-plane nodes only', () => {
    expect(Object.values(CERTIFICATE_AUTHORITIES).map((ca) => [ca.id, ca.certificateOn, ca.keyOn, ca.bundleName])).toEqual([
      ['ca', 'every-node', 'control-plane-nodes', 'kubernetes-ca-bundle'],
      ['etcd-ca', 'control-plane-nodes', 'control-plane-nodes', 'etcd-ca-bundle'],
      ['front-proxy-ca', 'control-plane-nodes', 'control-plane-nodes', 'front-proxy-ca-bundle'],
    ]);
  });
});

describe("flags kubeadm sets that the planner had missed", () => {
  const node = CLUSTER.controlPlaneNodes[0];
  const withVersion = (kubernetesVersion: string) => resolveCluster({ ...SPEC, kubernetesVersion });

  test('kube-apiserver reaches kubelets by InternalIP, ExternalIP, then Hostname', () => {
    expect(kubeApiServerFlags(CLUSTER, node)['kubelet-preferred-address-types']).toBe('InternalIP,ExternalIP,Hostname');
  });

  test.each([
    ['v1.31.0', '3.5.15-0'],
    ['v1.33.2', '3.5.21-0'],
    ['v1.34.1', '3.6.4-0'],
    ['v1.29.0', '3.5.15-0'], // below the table: the nearest, as kubeadm
    ['v1.36.0', '3.6.4-0'],
  ])('kubernetes %s runs etcd %s', (version, tag) => {
    expect(etcdImageTag(version)).toBe(tag);
  });

  test('etcd 3.5 gets the experimental- spellings of the corrupt check and progress notifications; etcd 3.6 the feature gate and the new flag', () => {
    const health = (version: string) => {
      const flags = etcdFlags(withVersion(version), withVersion(version).controlPlaneNodes[0]) as unknown as Record<string, string>;
      return Object.fromEntries(Object.entries(flags).filter(([flag]) => /corrupt|progress|feature-gates/.test(flag)));
    };
    expect(health('v1.33.0')).toEqual({ 'experimental-initial-corrupt-check': 'true', 'experimental-watch-progress-notify-interval': '5s' });
    expect(health('v1.34.0')).toEqual({ 'feature-gates': 'InitialCorruptCheck=true', 'watch-progress-notify-interval': '5s' });
  });
});

describe('what kubeadm join reads after discovery', () => {
  /**
   * The fields of kubeadm.k8s.io/v1beta4 ClusterConfiguration this project may write (json tags of
   * cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go), per object.
   */
  const V1BETA4: Record<string, string[]> = {
    '': ['apiVersion', 'kind', 'etcd', 'networking', 'kubernetesVersion', 'controlPlaneEndpoint', 'apiServer', 'controllerManager', 'scheduler', 'dns', 'proxy',
      'certificatesDir', 'imageRepository', 'featureGates', 'clusterName', 'encryptionAlgorithm', 'certificateValidityPeriod', 'caCertificateValidityPeriod'],
    'etcd': ['local', 'external'],
    'etcd.local': ['imageRepository', 'imageTag', 'dataDir', 'extraArgs', 'extraEnvs', 'serverCertSANs', 'peerCertSANs'],
    'networking': ['serviceSubnet', 'podSubnet', 'dnsDomain'],
    'apiServer': ['extraArgs', 'extraVolumes', 'extraEnvs', 'certSANs'],
  };
  const unknownFields = (value: Record<string, unknown>, at = ''): string[] =>
    Object.entries(value).flatMap(([field, inner]) => {
      const where = at ? `${at}.${field}` : field;
      if (!V1BETA4[at]?.includes(field)) return [where];
      return V1BETA4[where] && typeof inner === 'object' ? unknownFields(inner as Record<string, unknown>, where) : [];
    });

  test('ClusterConfiguration: v1beta4, known fields only, the cluster as kubeadm init would have uploaded it', () => {
    const config = clusterConfiguration(CLUSTER);
    expect(unknownFields(config)).toEqual([]);
    expect(config).toEqual({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      apiServer: { certSANs: ['10.0.0.10'] },
      caCertificateValidityPeriod: '87600h0m0s',
      certificateValidityPeriod: '8760h0m0s',
      certificatesDir: '/etc/kubernetes/pki',
      clusterName: 'kubernetes',
      controlPlaneEndpoint: 'api.example.internal:6443',
      encryptionAlgorithm: 'ECDSA-P256',
      etcd: { local: { dataDir: '/var/lib/etcd' } },
      imageRepository: 'registry.k8s.io',
      kubernetesVersion: 'v1.31.0',
      networking: { dnsDomain: 'cluster.local', serviceSubnet: '10.96.0.0/12,fd00:10:96::/112' },
    });
    // v1beta4 knows ECDSA-P384 from kubeadm 1.34 only; before, the field is left to kubeadm's default.
    expect(clusterConfiguration(resolveCluster({ ...SPEC, keyAlgorithm: 'ecdsa-p384' })).encryptionAlgorithm).toBeUndefined();
    expect(clusterConfiguration(resolveCluster({ ...SPEC, keyAlgorithm: 'ecdsa-p384', kubernetesVersion: 'v1.34.0' })).encryptionAlgorithm).toBe('ECDSA-P384');
  });

  test('kube-system/kubeadm-config under key ClusterConfiguration, kube-system/kubelet-config under key kubelet', () => {
    const kubelet = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' };
    const maps = joinConfigMaps(CLUSTER, kubelet);
    expect(maps.map((m) => [m.namespace, m.name, Object.keys(m.data)])).toEqual([
      ['kube-system', 'kubeadm-config', ['ClusterConfiguration']],
      ['kube-system', 'kubelet-config', ['kubelet']],
    ]);
    expect(parse(maps[0].data.ClusterConfiguration)).toEqual(clusterConfiguration(CLUSTER));
    expect(parse(maps[1].data.kubelet)).toEqual(kubelet);
  });
});
