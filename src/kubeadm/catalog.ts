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

export type CaId = 'ca' | 'etcd-ca' | 'front-proxy-ca';

export interface CaEntry {
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

export type CertificateId =
  | 'apiserver'
  | 'apiserver-kubelet-client'
  | 'apiserver-etcd-client'
  | 'front-proxy-client'
  | 'etcd-server'
  | 'etcd-peer'
  | 'etcd-healthcheck-client';

export interface CertificateEntry {
  readonly id: CertificateId;
  readonly baseName: string;
  readonly ca: CaId;
  readonly scope: Scope;
  /** The CN, or `commonNameIsNodeName` for etcd's member certificates. */
  readonly commonName: string | typeof commonNameIsNodeName;
  readonly organizations?: string[];
  readonly usages: ExtendedKeyUsageName[];
  readonly altNames?: (cluster: Cluster, node: ControlPlaneNode) => SubjectAltNames;
}

/**
 * kubeadm init's ClusterRoleBinding that makes the group of admin.conf and apiserver-kubelet-client cluster
 * admins (since v1.29, KEP-4214; reference §6). Without it, both authenticate and are then refused everything.
 */
export const CLUSTER_ADMINS = { bindingName: 'kubeadm:cluster-admins', clusterRole: 'cluster-admin', group: 'kubeadm:cluster-admins' } as const;

/** Marks a certificate whose CN is its node's name (kubeadm's setCommonNameToNodeName). */
export const commonNameIsNodeName = Symbol('commonNameIsNodeName');

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
export const SERVICE_ACCOUNT_KEY: { readonly baseName: string; readonly scope: Scope } = { baseName: 'sa', scope: 'cluster' };

export type KubeconfigId = 'admin' | 'super-admin' | 'controller-manager' | 'scheduler' | 'kubelet';

export interface KubeconfigEntry {
  readonly id: KubeconfigId;
  /** File under /etc/kubernetes. */
  readonly fileName: string;
  readonly scope: Scope;
  /** The client certificate's CN, which is also the kubeconfig's user name. */
  readonly commonName: string | ((node: NodeSpec) => string);
  readonly organizations?: string[];
  /** Which API endpoint the kubeconfig talks to. */
  readonly server: 'control-plane-endpoint' | 'local-endpoint';
  /** With TLS bootstrapping, a worker gets bootstrap-kubelet.conf instead (its kubelet asks for its own certificate). */
  readonly bootstrappedOnWorkers?: boolean;
}

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
  readonly placement: Placement;
  readonly when: NodeFileCondition;
  /** For a kubeconfig: its user. */
  readonly userName?: string;
}

export const NODE_FILES = {
  /** The KubeletConfiguration, the same for every node (kubeadm's kubelet-config ConfigMap). */
  kubeletConfig: { path: KUBELET_CONFIG_FILE, placement: 'every-node', when: 'always' },
  /** etcd, kube-apiserver, kube-controller-manager, kube-scheduler. */
  staticPods: { path: MANIFESTS_DIR, placement: 'control-plane-nodes', when: 'always' },
  /** The token kubeconfig a worker's kubelet starts with (user tls-bootstrap-token-user). */
  bootstrapKubeconfig: { path: BOOTSTRAP_KUBECONFIG_FILE, placement: 'workers', when: 'tls-bootstrap', userName: BOOTSTRAP_TOKEN_USER },
  /** The legacy static token file kube-apiserver reads with --token-auth-file. */
  tokenAuthFile: { path: TOKEN_AUTH_FILE, placement: 'control-plane-nodes', when: 'token-auth-file' },
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
  readonly ca: CaId;
  readonly when: NodeFileCondition;
}

/** The kubeconfig field holding the CA bundle a client verifies the API server with. */
export const KUBECONFIG_CA_FIELD = 'certificate-authority-data';

/** kubeadm join reads the cluster CA from cluster-info and pins it with --discovery-token-ca-cert-hash. */
export const CLUSTER_INFO_TRUST = { component: 'kubeadm join', via: 'cluster-info (kube-public)' } as const;

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
  certManagerCaIssuer: { via: 'ca issuer: key pair Secret' },
  rancherAgents: { component: 'Rancher agents', via: 'tls-ca, CATTLE_CA_CHECKSUM' },
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
