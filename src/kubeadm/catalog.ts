/**
 * What every control-plane certificate, key and kubeconfig is: kubeadm's certlist.go and kubeconfig.go as
 * one table (facts: kubeadm v1.31–v1.34, reference §1–§3). Issuing code knows nothing of which certificate it
 * makes; what depends on the cluster (SANs, CN = node name, server URL) is a named rule next to the table.
 */
import * as net from 'node:net';
import { ExtendedKeyUsageName, SubjectAltNames } from '../engine/spec';
import { canonicalIp } from '../engine/x509';
import { Cluster, ControlPlaneNode, hostPort, NodeSpec } from './cluster-spec';

export type CaId = 'ca' | 'etcd-ca' | 'front-proxy-ca';

export interface CaEntry {
  readonly id: CaId;
  readonly longName: string;
  /** File base under pki/ (`<base>.crt`, `<base>.key`). */
  readonly baseName: string;
  /** Subject CN; kubeadm also puts it into the CA's DNS SANs. */
  readonly commonName: string;
}

export const CERTIFICATE_AUTHORITIES: Record<CaId, CaEntry> = {
  'ca': { id: 'ca', longName: 'self-signed Kubernetes CA', baseName: 'ca', commonName: 'kubernetes' },
  'etcd-ca': { id: 'etcd-ca', longName: 'self-signed CA for etcd', baseName: 'etcd/ca', commonName: 'etcd-ca' },
  'front-proxy-ca': { id: 'front-proxy-ca', longName: 'self-signed CA for the front proxy', baseName: 'front-proxy-ca', commonName: 'front-proxy-ca' },
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
  readonly longName: string;
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
    id: 'apiserver', longName: 'certificate for serving the Kubernetes API', baseName: 'apiserver', ca: 'ca', scope: 'control-plane-node',
    commonName: 'kube-apiserver', usages: ['serverAuth'], altNames: apiServerAltNames,
  },
  'apiserver-kubelet-client': {
    id: 'apiserver-kubelet-client', longName: 'certificate for the API server to connect to kubelet', baseName: 'apiserver-kubelet-client', ca: 'ca', scope: 'cluster',
    commonName: 'kube-apiserver-kubelet-client', organizations: [CLUSTER_ADMINS.group], usages: ['clientAuth'],
  },
  'front-proxy-client': {
    id: 'front-proxy-client', longName: 'certificate for the front proxy client', baseName: 'front-proxy-client', ca: 'front-proxy-ca', scope: 'cluster',
    commonName: 'front-proxy-client', usages: ['clientAuth'],
  },
  'etcd-server': {
    id: 'etcd-server', longName: 'certificate for serving etcd', baseName: 'etcd/server', ca: 'etcd-ca', scope: 'control-plane-node',
    commonName: commonNameIsNodeName, usages: ['serverAuth', 'clientAuth'], altNames: (cluster, node) => etcdAltNames(node, cluster.etcdServerCertSANs),
  },
  'etcd-peer': {
    id: 'etcd-peer', longName: 'certificate for etcd nodes to communicate with each other', baseName: 'etcd/peer', ca: 'etcd-ca', scope: 'control-plane-node',
    commonName: commonNameIsNodeName, usages: ['serverAuth', 'clientAuth'], altNames: (cluster, node) => etcdAltNames(node, cluster.etcdPeerCertSANs),
  },
  'etcd-healthcheck-client': {
    id: 'etcd-healthcheck-client', longName: 'certificate for liveness probes to healthcheck etcd', baseName: 'etcd/healthcheck-client', ca: 'etcd-ca', scope: 'control-plane-node',
    commonName: 'kube-etcd-healthcheck-client', usages: ['clientAuth'],
  },
  'apiserver-etcd-client': {
    id: 'apiserver-etcd-client', longName: 'certificate the apiserver uses to access etcd', baseName: 'apiserver-etcd-client', ca: 'etcd-ca', scope: 'cluster',
    commonName: 'kube-apiserver-etcd-client', usages: ['clientAuth'],
  },
};

/** The service-account token signing key pair: `sa.key` / `sa.pub`, no certificate. */
export const SERVICE_ACCOUNT_KEY = { baseName: 'sa', scope: 'cluster' as Scope };

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
}

export const KUBECONFIGS: Record<KubeconfigId, KubeconfigEntry> = {
  'admin': { id: 'admin', fileName: 'admin.conf', scope: 'cluster', commonName: 'kubernetes-admin', organizations: [CLUSTER_ADMINS.group], server: 'control-plane-endpoint' },
  'super-admin': { id: 'super-admin', fileName: 'super-admin.conf', scope: 'first-control-plane-node', commonName: 'kubernetes-super-admin', organizations: ['system:masters'], server: 'control-plane-endpoint' },
  'controller-manager': { id: 'controller-manager', fileName: 'controller-manager.conf', scope: 'control-plane-node', commonName: 'system:kube-controller-manager', server: 'local-endpoint' },
  'scheduler': { id: 'scheduler', fileName: 'scheduler.conf', scope: 'control-plane-node', commonName: 'system:kube-scheduler', server: 'local-endpoint' },
  'kubelet': { id: 'kubelet', fileName: 'kubelet.conf', scope: 'node', commonName: (node) => `system:node:${node.name}`, organizations: ['system:nodes'], server: 'control-plane-endpoint' },
};

/** The CN of a catalog certificate on `node`. */
export function commonNameOf(entry: CertificateEntry | KubeconfigEntry, node: NodeSpec): string {
  if (entry.commonName === commonNameIsNodeName) return node.name;
  return typeof entry.commonName === 'function' ? entry.commonName(node) : entry.commonName;
}

/** Whether a thing of `scope` belongs on `node` (the first control-plane node is `cluster.controlPlaneNodes[0]`). */
export function isOnNode(scope: Scope, cluster: Cluster, node: NodeSpec): boolean {
  switch (scope) {
    case 'node':
      return true;
    case 'first-control-plane-node':
      return node.name === cluster.controlPlaneNodes[0].name;
    default:
      return node.role === 'control-plane';
  }
}

/**
 * The `index`-th address of a CIDR (utilnet.GetIndexedIP): 1 is the kubernetes Service's ClusterIP
 * (kubeadm's GetAPIServerVirtualIP), 10 the cluster DNS (GetDNSIP).
 */
export function serviceIp(cidr: string, index: number): string {
  const [address, prefix] = cidr.split('/');
  const bits = net.isIPv4(address) ? 32 : 128;
  const network = ipToBigInt(address) & (((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - Number(prefix))) - 1n));
  return bigIntToIp(network + BigInt(index), bits);
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

function ipToBigInt(address: string): bigint {
  if (net.isIPv4(address)) return address.split('.').reduce((v, octet) => (v << 8n) | BigInt(Number(octet)), 0n);
  const [head, tail] = canonicalIp(address).split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const full = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return full.reduce((v, group) => (v << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function bigIntToIp(value: bigint, bits: number): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return canonicalIp(groups.join(':'));
}
