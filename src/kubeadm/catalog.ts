/**
 * What every control-plane certificate, key and kubeconfig is: kubeadm's certlist.go and kubeconfig.go as
 * one table (facts: kubeadm v1.31–v1.34, reference §1–§3). Issuing code knows nothing of which certificate it
 * makes; what depends on the cluster (SANs, CN = node name, server URL) is a named rule next to the table.
 */
import * as net from 'node:net';
import { ExtendedKeyUsageName, SubjectAltNames } from '../engine/spec';
import { canonicalIp, indexedIp } from '../engine/names';
import { Cluster, ControlPlaneNode, hostPort, NodeSpec } from './cluster-spec';
import { BOOTSTRAP_TOKEN_USER } from '../content/kubeconfig';
import { BOOTSTRAP_KUBECONFIG_FILE, KUBELET_CONFIG_FILE, MANIFESTS_DIR, TOKEN_AUTH_FILE } from './layout';

/** Which nodes of a cluster carry a file. */
export type Placement = 'every-node' | 'control-plane-nodes' | 'first-control-plane-node' | 'workers';

/** Whether a file of `placement` belongs on `node` (the first control-plane node is `cluster.controlPlaneNodes[0]`). */
export function isPlacedOn(placement: Placement, cluster: Cluster, node: NodeSpec): boolean {
  switch (placement) {
    case 'every-node':
      return true;
    case 'control-plane-nodes':
      return node.role === 'control-plane';
    case 'first-control-plane-node':
      return node.name === cluster.controlPlaneNodes[0].name;
    case 'workers':
      return node.role === 'worker';
  }
}

/** kubeadm's three CAs: `ca` (kubernetes), `etcd-ca`, `front-proxy-ca`. */
export type CaId = 'ca' | 'etcd-ca' | 'front-proxy-ca';

/** One of kubeadm's CAs: its files, subject, bundle and which nodes get its certificate and key. */
export interface CaEntry {
  /** The CA's id, also its construct id under ControlPlanePki. */
  readonly id: CaId;
  /** File base under pki/ (`<base>.crt`, `<base>.key`). */
  readonly baseName: string;
  /** Subject CN; kubeadm also puts it into the CA's DNS SANs. */
  readonly commonName: string;
  /** The CA's DNS SANs (kubeadm: the CN). */
  readonly dnsNames: string[];
  /** The ConfigMap (kube-system) holding the public bundle. */
  readonly bundleName: string;
  /** Where `<base>.crt` goes: a worker trusts the cluster CA only. */
  readonly certificateOn: Placement;
  /** Where `<base>.key` goes: CA keys never leave the control plane. */
  readonly keyOn: Placement;
}

/** kubeadm's CAs, by id. */
export const CERTIFICATE_AUTHORITIES: Record<CaId, CaEntry> = {
  'ca': {
    id: 'ca', baseName: 'ca', commonName: 'kubernetes', dnsNames: ['kubernetes'],
    bundleName: 'kubernetes-ca-bundle', certificateOn: 'every-node', keyOn: 'control-plane-nodes',
  },
  'etcd-ca': {
    id: 'etcd-ca', baseName: 'etcd/ca', commonName: 'etcd-ca', dnsNames: ['etcd-ca'],
    bundleName: 'etcd-ca-bundle', certificateOn: 'control-plane-nodes', keyOn: 'control-plane-nodes',
  },
  'front-proxy-ca': {
    id: 'front-proxy-ca', baseName: 'front-proxy-ca', commonName: 'front-proxy-ca', dnsNames: ['front-proxy-ca'],
    bundleName: 'front-proxy-ca-bundle', certificateOn: 'control-plane-nodes', keyOn: 'control-plane-nodes',
  },
};

/** How many of a thing a cluster has, and which nodes carry it. */
export type Scope =
  /** One for the cluster, on every control-plane node. */
  | 'cluster'
  /** One per control-plane node, on that node. */
  | 'control-plane-node'
  /** One per node (control plane and workers), on that node. */
  | 'node'
  /** One, on the first control-plane node only (kubeadm writes it at `init`, not at `join`). */
  | 'first-control-plane-node';

/** kubeadm's leaf certificates, by catalog id. */
export type CertificateId =
  | 'apiserver'
  | 'apiserver-kubelet-client'
  | 'apiserver-etcd-client'
  | 'front-proxy-client'
  | 'etcd-server'
  | 'etcd-peer'
  | 'etcd-healthcheck-client';

/** One of kubeadm's leaf certificates: file, issuer, how many, subject, usages and SAN rule. */
export interface CertificateEntry {
  /** The catalog id, also its construct id. */
  readonly id: CertificateId;
  /** The file name under pki/ without `.crt`/`.key` (`etcd/server`). */
  readonly baseName: string;
  /** The CA that signs it. */
  readonly ca: CaId;
  /** One per cluster, per control-plane node, …, and so which nodes get it. */
  readonly scope: Scope;
  /** The CN, or `commonNameIsNodeName` for etcd's member certificates. */
  readonly commonName: string | typeof commonNameIsNodeName;
  /** Subject O (the groups of a client certificate). @default - none */
  readonly organizations?: string[];
  /** The extendedKeyUsage purposes. */
  readonly usages: ExtendedKeyUsageName[];
  /** The SAN rule, for a certificate with SANs. @default - no SANs */
  readonly altNames?: (cluster: Cluster, node: ControlPlaneNode) => SubjectAltNames;
}

/**
 * kubeadm init's ClusterRoleBinding that makes the group of admin.conf and apiserver-kubelet-client cluster
 * admins (since v1.29, KEP-4214; reference §6). Without it, both authenticate and are then refused everything.
 */
export const CLUSTER_ADMINS = {
  /** The ClusterRoleBinding's name. */
  bindingName: 'kubeadm:cluster-admins',
  /** The ClusterRole it binds. */
  clusterRole: 'cluster-admin',
  /** The group (subject O of admin.conf and apiserver-kubelet-client) it binds it to. */
  group: 'kubeadm:cluster-admins',
} as const;

/** Marks a certificate whose CN is its node's name (kubeadm's setCommonNameToNodeName). */
export const commonNameIsNodeName = Symbol('commonNameIsNodeName');

/** kubeadm's leaf certificates, by id: the one table of what each is. */
export const CERTIFICATES: Record<CertificateId, CertificateEntry> = {
  'apiserver': {
    id: 'apiserver', baseName: 'apiserver', ca: 'ca', scope: 'control-plane-node',
    commonName: 'kube-apiserver', usages: ['serverAuth'], altNames: apiServerAltNames,
  },
  'apiserver-kubelet-client': {
    id: 'apiserver-kubelet-client', baseName: 'apiserver-kubelet-client', ca: 'ca', scope: 'cluster',
    commonName: 'kube-apiserver-kubelet-client', organizations: [CLUSTER_ADMINS.group], usages: ['clientAuth'],
  },
  'front-proxy-client': {
    id: 'front-proxy-client', baseName: 'front-proxy-client', ca: 'front-proxy-ca', scope: 'cluster',
    commonName: 'front-proxy-client', usages: ['clientAuth'],
  },
  'etcd-server': {
    id: 'etcd-server', baseName: 'etcd/server', ca: 'etcd-ca', scope: 'control-plane-node',
    commonName: commonNameIsNodeName, usages: ['serverAuth', 'clientAuth'], altNames: (cluster, node) => etcdAltNames(node, cluster.etcdServerCertSANs),
  },
  'etcd-peer': {
    id: 'etcd-peer', baseName: 'etcd/peer', ca: 'etcd-ca', scope: 'control-plane-node',
    commonName: commonNameIsNodeName, usages: ['serverAuth', 'clientAuth'], altNames: (cluster, node) => etcdAltNames(node, cluster.etcdPeerCertSANs),
  },
  'etcd-healthcheck-client': {
    id: 'etcd-healthcheck-client', baseName: 'etcd/healthcheck-client', ca: 'etcd-ca', scope: 'control-plane-node',
    commonName: 'kube-etcd-healthcheck-client', usages: ['clientAuth'],
  },
  'apiserver-etcd-client': {
    id: 'apiserver-etcd-client', baseName: 'apiserver-etcd-client', ca: 'etcd-ca', scope: 'cluster',
    commonName: 'kube-apiserver-etcd-client', usages: ['clientAuth'],
  },
};

/** The service-account token signing key pair: `sa.key` / `sa.pub`, no certificate; one per cluster, on every control-plane node. */
export const SERVICE_ACCOUNT_KEY: {
  /** The file names under pki/ without `.key`/`.pub`. */
  readonly baseName: string;
  /** One per cluster. */
  readonly scope: Scope;
} = { baseName: 'sa', scope: 'cluster' };

/** kubeadm's kubeconfigs with a client certificate, by catalog id. */
export type KubeconfigId = 'admin' | 'super-admin' | 'controller-manager' | 'scheduler' | 'kubelet';

/** One of kubeadm's kubeconfigs: its file, how many, its user and which API server it points at. */
export interface KubeconfigEntry {
  /** The catalog id, also its construct id. */
  readonly id: KubeconfigId;
  /** File under /etc/kubernetes. */
  readonly fileName: string;
  /** One per cluster, per control-plane node or per node, and so which nodes get it. */
  readonly scope: Scope;
  /** The client certificate's CN, which is also the kubeconfig's user name. */
  readonly commonName: string | ((node: NodeSpec) => string);
  /** Subject O: the user's groups. @default - none */
  readonly organizations?: string[];
  /** Which API endpoint the kubeconfig talks to. */
  readonly server: 'control-plane-endpoint' | 'local-endpoint';
  /** With TLS bootstrapping, a worker gets bootstrap-kubelet.conf instead (its kubelet asks for its own certificate). */
  readonly bootstrappedOnWorkers?: boolean;
}

/** kubeadm's kubeconfigs, by id. */
export const KUBECONFIGS: Record<KubeconfigId, KubeconfigEntry> = {
  'admin': { id: 'admin', fileName: 'admin.conf', scope: 'cluster', commonName: 'kubernetes-admin', organizations: [CLUSTER_ADMINS.group], server: 'control-plane-endpoint' },
  'super-admin': { id: 'super-admin', fileName: 'super-admin.conf', scope: 'first-control-plane-node', commonName: 'kubernetes-super-admin', organizations: ['system:masters'], server: 'control-plane-endpoint' },
  'controller-manager': { id: 'controller-manager', fileName: 'controller-manager.conf', scope: 'control-plane-node', commonName: 'system:kube-controller-manager', server: 'local-endpoint' },
  'scheduler': { id: 'scheduler', fileName: 'scheduler.conf', scope: 'control-plane-node', commonName: 'system:kube-scheduler', server: 'local-endpoint' },
  'kubelet': { id: 'kubelet', fileName: 'kubelet.conf', scope: 'node', commonName: (node) => `system:node:${node.name}`, organizations: ['system:nodes'], server: 'control-plane-endpoint', bootstrappedOnWorkers: true },
};

/** When a node file is written: always, or only under a `tlsBootstrap` option. */
export type NodeFileCondition = 'always' | 'tls-bootstrap' | 'token-auth-file';

/** The files of a node that are neither certificates nor certificate kubeconfigs. */
export interface NodeFileEntry {
  /** Relative to /etc/kubernetes (a directory for the static Pods). */
  readonly path: string;
  /** Which nodes get it. */
  readonly placement: Placement;
  /** Under which option it is written. */
  readonly when: NodeFileCondition;
  /** For a kubeconfig: its user. */
  readonly userName?: string;
}

/** The node files that are neither certificates nor certificate kubeconfigs, by name. */
export const NODE_FILES = {
  /** The KubeletConfiguration, the same for every node (kubeadm's kubelet-config ConfigMap). */
  kubeletConfig: {
    /** Relative to /etc/kubernetes. */
    path: KUBELET_CONFIG_FILE,
    /** Every node. */
    placement: 'every-node',
    /** Always. */
    when: 'always',
  },
  /** etcd, kube-apiserver, kube-controller-manager, kube-scheduler. */
  staticPods: {
    /** The manifests directory, relative to /etc/kubernetes. */
    path: MANIFESTS_DIR,
    /** Control-plane nodes. */
    placement: 'control-plane-nodes',
    /** Always. */
    when: 'always',
  },
  /** The token kubeconfig a worker's kubelet starts with (user tls-bootstrap-token-user). */
  bootstrapKubeconfig: {
    /** Relative to /etc/kubernetes. */
    path: BOOTSTRAP_KUBECONFIG_FILE,
    /** Workers. */
    placement: 'workers',
    /** With `tlsBootstrap`. */
    when: 'tls-bootstrap',
    /** kubeadm's user name for the token. */
    userName: BOOTSTRAP_TOKEN_USER,
  },
  /** The legacy static token file kube-apiserver reads with --token-auth-file. */
  tokenAuthFile: {
    /** Relative to /etc/kubernetes. */
    path: TOKEN_AUTH_FILE,
    /** Control-plane nodes. */
    placement: 'control-plane-nodes',
    /** With `tlsBootstrap.tokenAuthFile`. */
    when: 'token-auth-file',
  },
} as const satisfies Record<string, NodeFileEntry>;

/**
 * Who verifies what a CA signed, and where it reads the CA's bundle: a static Pod flag, a KubeletConfiguration
 * field, or a kubeconfig's certificate-authority-data (reference §5). dist/PKI.md draws its trust diagram from
 * this table; the flags are those static-pods.ts writes.
 */
export interface TrustEntry {
  /** The component (a static Pod's name, `kubelet`) or the kubeconfig file that trusts the bundle. */
  readonly component: string;
  /** The flag or field naming the bundle. */
  readonly via: string;
  /** The CA whose bundle it reads. */
  readonly ca: CaId;
  /** Under which option the component or file exists. */
  readonly when: NodeFileCondition;
}

/** The kubeconfig field holding the CA bundle a client verifies the API server with. */
export const KUBECONFIG_CA_FIELD = 'certificate-authority-data';

/** kubeadm join reads the cluster CA from cluster-info and pins it with --discovery-token-ca-cert-hash. */
export const CLUSTER_INFO_TRUST = {
  /** Who trusts. */
  component: 'kubeadm join',
  /** Where it reads the CA. */
  via: 'cluster-info (kube-public)',
} as const;

/** Every place a kubeadm component or file trusts one of the CAs. */
export const TRUST: readonly TrustEntry[] = [
  { component: 'kube-apiserver', via: '--client-ca-file', ca: 'ca', when: 'always' },
  { component: 'kube-apiserver', via: '--etcd-cafile', ca: 'etcd-ca', when: 'always' },
  { component: 'kube-apiserver', via: '--requestheader-client-ca-file', ca: 'front-proxy-ca', when: 'always' },
  { component: 'kube-controller-manager', via: '--client-ca-file', ca: 'ca', when: 'always' },
  { component: 'kube-controller-manager', via: '--requestheader-client-ca-file', ca: 'front-proxy-ca', when: 'always' },
  { component: 'kube-controller-manager', via: '--root-ca-file', ca: 'ca', when: 'always' },
  { component: 'etcd', via: '--trusted-ca-file', ca: 'etcd-ca', when: 'always' },
  { component: 'etcd', via: '--peer-trusted-ca-file', ca: 'etcd-ca', when: 'always' },
  { component: 'kubelet', via: 'clientCAFile', ca: 'ca', when: 'always' },
  // Every kubeconfig verifies the API server with the cluster CA it embeds.
  ...Object.values(KUBECONFIGS).map((k): TrustEntry => ({ component: k.fileName, via: KUBECONFIG_CA_FIELD, ca: 'ca', when: 'always' })),
  { component: BOOTSTRAP_KUBECONFIG_FILE, via: KUBECONFIG_CA_FIELD, ca: 'ca', when: 'tls-bootstrap' },
  { ...CLUSTER_INFO_TRUST, ca: 'ca', when: 'tls-bootstrap' },
];

/** Trust outside kubeadm's set: a CA offered to cert-manager, and one Rancher's agents pin. */
export const EXTERNAL_TRUST = {
  /** A ClusterCA offered to cert-manager by a ClusterCaIssuer. */
  certManagerCaIssuer: {
    /** Where cert-manager reads the CA. */
    via: 'ca issuer: key pair Secret',
  },
  /** A CA Rancher's agents pin. */
  rancherAgents: {
    /** Who trusts. */
    component: 'Rancher agents',
    /** Where they read the CA, and how they check it. */
    via: 'tls-ca, CATTLE_CA_CHECKSUM',
  },
} as const;

/** The CN of a catalog certificate on `node`. */
export function commonNameOf(entry: CertificateEntry | KubeconfigEntry, node: NodeSpec): string {
  if (entry.commonName === commonNameIsNodeName) return node.name;
  return typeof entry.commonName === 'function' ? entry.commonName(node) : entry.commonName;
}

/** Where a thing of `scope` is placed: per-node things go to their own node only (see `isOnNode`). */
export function placementOf(scope: Scope): Placement {
  switch (scope) {
    case 'node':
      return 'every-node';
    case 'first-control-plane-node':
      return 'first-control-plane-node';
    default:
      return 'control-plane-nodes';
  }
}

/** Whether a thing of `scope` belongs on `node`. */
export function isOnNode(scope: Scope, cluster: Cluster, node: NodeSpec): boolean {
  return isPlacedOn(placementOf(scope), cluster, node);
}

/**
 * The `index`-th address of a CIDR (utilnet.GetIndexedIP): 1 is the kubernetes Service's ClusterIP
 * (kubeadm's GetAPIServerVirtualIP), 10 the cluster DNS (GetDNSIP).
 */
export function serviceIp(cidr: string, index: number): string {
  return indexedIp(cidr, index);
}

/**
 * kubeadm's rule A (GetAPIServerAltNames): node name and the in-cluster Service names; the first IP of the
 * primary service CIDR (the `kubernetes` Service is single-stack in the primary family, so a dual-stack cluster's
 * second CIDR names no address the API server is reached at) and the node's addresses; the endpoint host; then
 * the extra SANs (IP if it parses, else DNS).
 */
export function apiServerAltNames(cluster: Cluster, node: ControlPlaneNode): SubjectAltNames {
  return kubeadmAltNames(
    [node.name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${cluster.dnsDomain}`],
    [serviceIp(cluster.serviceSubnets[0], 1), node.ip, ...(node.additionalIps ?? [])],
    [cluster.controlPlaneHost, ...cluster.apiServerCertSANs],
  );
}

/** kubeadm's rule B (etcd server and peer): node name and localhost; the node's addresses and loopback. */
export function etcdAltNames(node: ControlPlaneNode, extra: string[]): SubjectAltNames {
  return kubeadmAltNames([node.name, 'localhost'], [node.ip, ...(node.additionalIps ?? []), '127.0.0.1', '::1'], extra);
}

/** kubeadm's RemoveDuplicateAltNames: DNS names deduplicated and sorted; IPs deduplicated in insertion order. */
function kubeadmAltNames(dnsNames: string[], ipAddresses: string[], ipOrDns: string[]): SubjectAltNames {
  const ips = [...ipAddresses, ...ipOrDns.filter((v) => net.isIP(v))].map(canonicalIp);
  const names = [...dnsNames, ...ipOrDns.filter((v) => !net.isIP(v))];
  return { dnsNames: [...new Set(names)].sort(), ipAddresses: [...new Set(ips)] };
}

/** https://host:port of the control-plane endpoint (load balancer), for admin.conf and kubelet.conf. */
export function controlPlaneServer(cluster: Cluster): string {
  return `https://${cluster.controlPlaneEndpoint}`;
}

/** https://advertise-address:port of one control-plane node, for its controller-manager and scheduler. */
export function localServer(cluster: Cluster, node: ControlPlaneNode): string {
  return `https://${hostPort(canonicalIp(node.ip), cluster.bindPort)}`;
}
