/**
 * The control-plane static Pods and the kubelet configuration, with every PKI flag kubeadm sets (reference §5)
 * pointing into its layout. Plain objects: the constructs emit them, the node plan carries them as YAML.
 */
import * as net from 'node:net';
import { certificateAnnotations } from '../engine/annotations';
import { canonicalIp } from '../engine/x509';
import { CERTIFICATE_AUTHORITIES, CERTIFICATES, KUBECONFIGS, SERVICE_ACCOUNT_KEY, serviceIp } from './catalog';
import { Cluster, ControlPlaneNode, hostPort } from './cluster-spec';
import { absolute, ETCD_DATA_DIR, ETCD_PKI_DIR, KUBERNETES_DIR, PKI_DIR, pkiFile, TOKEN_AUTH_FILE } from './layout';

const pki = (baseName: string, extension: 'crt' | 'key' | 'pub') => absolute(pkiFile(baseName, extension));
const caCert = (id: keyof typeof CERTIFICATE_AUTHORITIES) => pki(CERTIFICATE_AUTHORITIES[id].baseName, 'crt');
const cert = (id: keyof typeof CERTIFICATES, extension: 'crt' | 'key') => pki(CERTIFICATES[id].baseName, extension);
const kubeconfig = (id: keyof typeof KUBECONFIGS) => absolute(KUBECONFIGS[id].fileName);

/** The kube-apiserver flags that carry PKI, plus those the PKI depends on. */
export interface KubeApiServerFlags {
  /** `--advertise-address`: The node's address the API server advertises to the cluster. */
  'advertise-address': string;
  /** `--secure-port`: The HTTPS port (the cluster spec's `bindPort`). */
  'secure-port': string;
  /** `--service-cluster-ip-range`: The service CIDRs; the first IP of the primary one is the `kubernetes` Service. */
  'service-cluster-ip-range': string;
  /** `--client-ca-file`: The CA bundle client certificates are verified with (pki/ca.crt). */
  'client-ca-file': string;
  /** `--tls-cert-file`: The serving certificate (pki/apiserver.crt). */
  'tls-cert-file': string;
  /** `--tls-private-key-file`: Its key. */
  'tls-private-key-file': string;
  /** `--kubelet-client-certificate`: The client certificate the API server presents to kubelets (apiserver-kubelet-client). */
  'kubelet-client-certificate': string;
  /** `--kubelet-client-key`: Its key. */
  'kubelet-client-key': string;
  /** `--kubelet-preferred-address-types`: Which node address the API server dials a kubelet at, in order. */
  'kubelet-preferred-address-types': string;
  /** `--service-account-key-file`: The public keys service-account tokens are verified with (sa.pub; several during a rotation). */
  'service-account-key-file': string;
  /** `--service-account-signing-key-file`: The key service-account tokens are signed with (sa.key). */
  'service-account-signing-key-file': string;
  /** `--service-account-issuer`: The `iss` of the tokens it signs. */
  'service-account-issuer': string;
  /** `--requestheader-client-ca-file`: The CA of the front proxy (aggregation layer) client certificates. */
  'requestheader-client-ca-file': string;
  /** `--requestheader-allowed-names`: The front proxy client certificate CNs accepted. */
  'requestheader-allowed-names': string;
  /** `--requestheader-username-headers`: The header carrying the proxied user name. */
  'requestheader-username-headers': string;
  /** `--requestheader-group-headers`: The header carrying the proxied user's groups. */
  'requestheader-group-headers': string;
  /** `--requestheader-extra-headers-prefix`: The prefix of the headers carrying extra user attributes. */
  'requestheader-extra-headers-prefix': string;
  /** `--proxy-client-cert-file`: The client certificate the API server presents to aggregated API servers (front-proxy-client). */
  'proxy-client-cert-file': string;
  /** `--proxy-client-key-file`: Its key. */
  'proxy-client-key-file': string;
  /** `--etcd-servers`: The etcd client URLs (the local member). */
  'etcd-servers': string;
  /** `--etcd-cafile`: The CA bundle etcd's serving certificate is verified with (pki/etcd/ca.crt). */
  'etcd-cafile': string;
  /** `--etcd-certfile`: The client certificate presented to etcd (apiserver-etcd-client). */
  'etcd-certfile': string;
  /** `--etcd-keyfile`: Its key. */
  'etcd-keyfile': string;
  /** `--enable-bootstrap-token-auth`: Accept bootstrap tokens (kube-system Secrets) as credentials. */
  'enable-bootstrap-token-auth': string;
  /** The legacy static token file (not set by kubeadm). */
  'token-auth-file'?: string;
  /** `--authorization-mode`: The authorizers, in order (Node, RBAC). */
  'authorization-mode': string;
  /** `--enable-admission-plugins`: The admission plugins kubeadm enables (NodeRestriction). */
  'enable-admission-plugins': string;
  /** `--allow-privileged`: Allow privileged containers (the static Pods of kubeadm need it). */
  'allow-privileged': string;
}

/** The kube-controller-manager flags that carry PKI. */
export interface KubeControllerManagerFlags {
  /** `--kubeconfig`: Its kubeconfig (controller-manager.conf). */
  'kubeconfig': string;
  /** `--authentication-kubeconfig`: The kubeconfig it checks request authentication with. */
  'authentication-kubeconfig': string;
  /** `--authorization-kubeconfig`: The kubeconfig it checks request authorization with. */
  'authorization-kubeconfig': string;
  /** `--client-ca-file`: The CA bundle client certificates of its own endpoint are verified with. */
  'client-ca-file': string;
  /** `--requestheader-client-ca-file`: The CA of front proxy client certificates. */
  'requestheader-client-ca-file': string;
  /** `--root-ca-file`: The CA bundle published to every namespace's kube-root-ca.crt and into service-account token Secrets. */
  'root-ca-file': string;
  /** `--service-account-private-key-file`: The key it signs legacy service-account token Secrets with (sa.key). */
  'service-account-private-key-file': string;
  /** `--cluster-signing-cert-file`: The CA certificate the built-in signers (kubelet CSRs) sign with; its first certificate pairs with the key. */
  'cluster-signing-cert-file': string;
  /** `--cluster-signing-key-file`: That CA's key (pki/ca.key). */
  'cluster-signing-key-file': string;
  /** `--use-service-account-credentials`: Run each controller with its own service account. */
  'use-service-account-credentials': string;
  /** `--controllers`: The controllers to run (kubeadm adds bootstrapsigner and tokencleaner). */
  'controllers': string;
  /** `--cluster-name`: The cluster name. */
  'cluster-name': string;
  /** `--bind-address`: The address its secure port listens on. */
  'bind-address': string;
}

/** The kube-scheduler flags that carry PKI. */
export interface KubeSchedulerFlags {
  /** `--kubeconfig`: Its kubeconfig (scheduler.conf). */
  'kubeconfig': string;
  /** `--authentication-kubeconfig`: The kubeconfig it checks request authentication with. */
  'authentication-kubeconfig': string;
  /** `--authorization-kubeconfig`: The kubeconfig it checks request authorization with. */
  'authorization-kubeconfig': string;
  /** `--bind-address`: The address its secure port listens on. */
  'bind-address': string;
}

/** The etcd flags that carry PKI, plus those the member needs to form the cluster. */
export interface EtcdFlags {
  /** `--name`: The member's name: the node name. */
  'name': string;
  /** `--data-dir`: Where it keeps its data. */
  'data-dir': string;
  /** `--cert-file`: The serving certificate for clients (pki/etcd/server.crt). */
  'cert-file': string;
  /** `--key-file`: Its key. */
  'key-file': string;
  /** `--trusted-ca-file`: The CA bundle client certificates are verified with. */
  'trusted-ca-file': string;
  /** `--client-cert-auth`: Require client certificates. */
  'client-cert-auth': string;
  /** `--peer-cert-file`: The certificate presented to and accepted from peers (pki/etcd/peer.crt). */
  'peer-cert-file': string;
  /** `--peer-key-file`: Its key. */
  'peer-key-file': string;
  /** `--peer-trusted-ca-file`: The CA bundle peer certificates are verified with. */
  'peer-trusted-ca-file': string;
  /** `--peer-client-cert-auth`: Require peer client certificates. */
  'peer-client-cert-auth': string;
  /** `--listen-client-urls`: Where it listens for clients. */
  'listen-client-urls': string;
  /** `--advertise-client-urls`: The client URL it advertises. */
  'advertise-client-urls': string;
  /** `--listen-peer-urls`: Where it listens for peers. */
  'listen-peer-urls': string;
  /** `--initial-advertise-peer-urls`: The peer URL it advertises. */
  'initial-advertise-peer-urls': string;
  /** `--listen-metrics-urls`: Where it serves metrics (plain HTTP, on localhost). */
  'listen-metrics-urls': string;
  /** `--initial-cluster`: Every member, `name=peer-url`, comma separated. */
  'initial-cluster': string;
  /** `--initial-cluster-state`: `new`: the cluster is declared whole. */
  'initial-cluster-state': string;
  /** `--snapshot-count`: Transactions between snapshots. */
  'snapshot-count': string;
  /** etcd 3.6 (kubeadm 1.34+); etcd 3.5 takes `experimental-initial-corrupt-check` instead. */
  'feature-gates'?: string;
  /** `--experimental-initial-corrupt-check`: etcd 3.5: check the data for corruption before serving. */
  'experimental-initial-corrupt-check'?: string;
  /** etcd 3.6 spelling; etcd 3.5 takes `experimental-watch-progress-notify-interval`. */
  'watch-progress-notify-interval'?: string;
  /** `--experimental-watch-progress-notify-interval`: etcd 3.5 spelling of `watch-progress-notify-interval`. */
  'experimental-watch-progress-notify-interval'?: string;
}

/**
 * The etcd image kubeadm runs for each Kubernetes minor (constants.go SupportedEtcdVersion as released in
 * v1.31.0–v1.34.0; later patch releases bump the etcd patch level); outside that range the nearest one, as
 * kubeadm's EtcdSupportedVersion does.
 */
export const ETCD_IMAGE_TAGS: Readonly<Record<number, string>> = { 31: '3.5.15-0', 32: '3.5.16-0', 33: '3.5.21-0', 34: '3.6.4-0' };

/** The etcd image tag of `kubernetesVersion` (`v1.31.0` → `3.5.15-0`). */
export function etcdImageTag(kubernetesVersion: string): string {
  const minor = Number(/^v\d+\.(\d+)\./.exec(kubernetesVersion)?.[1]);
  const known = Object.keys(ETCD_IMAGE_TAGS).map(Number);
  const nearest = Math.min(Math.max(minor, Math.min(...known)), Math.max(...known));
  return ETCD_IMAGE_TAGS[nearest];
}

/**
 * kubeadm's two etcd health flags, spelled for the etcd that runs: etcd 3.6 dropped the `experimental-` flags
 * (the corrupt check became the InitialCorruptCheck feature gate), which etcd 3.5 does not know yet. Picked by
 * the etcd version of the manifest's image, as kubeadm's phases/etcd/local.go writes them for that etcd.
 */
function etcdHealthFlags(imageTag: string): Partial<EtcdFlags> {
  const [major, minor] = imageTag.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 6)
    ? { 'feature-gates': 'InitialCorruptCheck=true', 'watch-progress-notify-interval': '5s' }
    : { 'experimental-initial-corrupt-check': 'true', 'experimental-watch-progress-notify-interval': '5s' };
}

/** How nodes authenticate before they hold a certificate, and how kubelets get theirs. */
export interface NodeAuthOptions {
  /** kube-apiserver also reads the legacy static token file (pki/token.csv). */
  readonly tokenAuthFile?: boolean;
  /** kubelets request their serving certificate from the cluster CA (KubeletConfiguration serverTLSBootstrap). */
  readonly serverTlsBootstrap?: boolean;
}

/** kube-apiserver's flags on `node`, as kubeadm writes them, every path in kubeadm's layout. */
export function kubeApiServerFlags(cluster: Cluster, node: ControlPlaneNode, options: NodeAuthOptions = {}): KubeApiServerFlags {
  const loopback = net.isIPv6(node.ip) ? '[::1]' : '127.0.0.1';
  return {
    'advertise-address': canonicalIp(node.ip),
    'secure-port': String(cluster.bindPort),
    'service-cluster-ip-range': cluster.serviceSubnets.join(','),
    'client-ca-file': caCert('ca'),
    'tls-cert-file': cert('apiserver', 'crt'),
    'tls-private-key-file': cert('apiserver', 'key'),
    'kubelet-client-certificate': cert('apiserver-kubelet-client', 'crt'),
    'kubelet-client-key': cert('apiserver-kubelet-client', 'key'),
    // kubeadm's order: the API server reaches kubelets (logs, exec) by InternalIP first, not by a hostname DNS may not know.
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'service-account-key-file': pki(SERVICE_ACCOUNT_KEY.baseName, 'pub'),
    'service-account-signing-key-file': pki(SERVICE_ACCOUNT_KEY.baseName, 'key'),
    'service-account-issuer': `https://kubernetes.default.svc.${cluster.dnsDomain}`,
    'requestheader-client-ca-file': caCert('front-proxy-ca'),
    'requestheader-allowed-names': CERTIFICATES['front-proxy-client'].commonName as string,
    'requestheader-username-headers': 'X-Remote-User',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'proxy-client-cert-file': cert('front-proxy-client', 'crt'),
    'proxy-client-key-file': cert('front-proxy-client', 'key'),
    'etcd-servers': `https://${loopback}:2379`,
    'etcd-cafile': caCert('etcd-ca'),
    'etcd-certfile': cert('apiserver-etcd-client', 'crt'),
    'etcd-keyfile': cert('apiserver-etcd-client', 'key'),
    'enable-bootstrap-token-auth': 'true',
    ...(options.tokenAuthFile ? { 'token-auth-file': absolute(TOKEN_AUTH_FILE) } : {}),
    'authorization-mode': 'Node,RBAC',
    'enable-admission-plugins': 'NodeRestriction',
    'allow-privileged': 'true',
  };
}

/** kube-controller-manager's flags, as kubeadm writes them. */
export function kubeControllerManagerFlags(cluster: Cluster): KubeControllerManagerFlags {
  return {
    'kubeconfig': kubeconfig('controller-manager'),
    'authentication-kubeconfig': kubeconfig('controller-manager'),
    'authorization-kubeconfig': kubeconfig('controller-manager'),
    'client-ca-file': caCert('ca'),
    'requestheader-client-ca-file': caCert('front-proxy-ca'),
    'root-ca-file': caCert('ca'),
    'service-account-private-key-file': pki(SERVICE_ACCOUNT_KEY.baseName, 'key'),
    // The CSR signer (kubelet client certificates, the certificates API) signs with the cluster CA.
    'cluster-signing-cert-file': caCert('ca'),
    'cluster-signing-key-file': pki(CERTIFICATE_AUTHORITIES.ca.baseName, 'key'),
    'use-service-account-credentials': 'true',
    'controllers': '*,bootstrapsigner,tokencleaner',
    'cluster-name': cluster.clusterName,
    'bind-address': '127.0.0.1',
  };
}

/** kube-scheduler's flags, as kubeadm writes them. */
export function kubeSchedulerFlags(): KubeSchedulerFlags {
  return {
    'kubeconfig': kubeconfig('scheduler'),
    'authentication-kubeconfig': kubeconfig('scheduler'),
    'authorization-kubeconfig': kubeconfig('scheduler'),
    'bind-address': '127.0.0.1',
  };
}

/**
 * etcd of a stacked control plane. kubeadm grows the member list one `join` at a time; a declared cluster
 * names every member up front, so --initial-cluster lists all control-plane nodes with state "new".
 */
export function etcdFlags(cluster: Cluster, node: ControlPlaneNode): EtcdFlags {
  const url = (port: number) => `https://${hostPort(canonicalIp(node.ip), port)}`;
  const loopback = net.isIPv6(node.ip) ? '[::1]' : '127.0.0.1';
  return {
    'name': node.name,
    'data-dir': ETCD_DATA_DIR,
    'cert-file': cert('etcd-server', 'crt'),
    'key-file': cert('etcd-server', 'key'),
    'trusted-ca-file': caCert('etcd-ca'),
    'client-cert-auth': 'true',
    'peer-cert-file': cert('etcd-peer', 'crt'),
    'peer-key-file': cert('etcd-peer', 'key'),
    'peer-trusted-ca-file': caCert('etcd-ca'),
    'peer-client-cert-auth': 'true',
    'listen-client-urls': `https://${loopback}:2379,${url(2379)}`,
    'advertise-client-urls': url(2379),
    'listen-peer-urls': url(2380),
    'initial-advertise-peer-urls': url(2380),
    'listen-metrics-urls': `http://${loopback}:2381`,
    'initial-cluster': cluster.controlPlaneNodes.map((n) => `${n.name}=https://${hostPort(canonicalIp(n.ip), 2380)}`).join(','),
    'initial-cluster-state': 'new',
    'snapshot-count': '10000',
    ...etcdHealthFlags(etcdImageTag(cluster.kubernetesVersion)),
  };
}

/** `--flag=value` in kubeadm's order (sorted by flag name). */
export function commandLine(binary: string, flags: object): string[] {
  return [binary, ...Object.entries(flags).sort(([a], [b]) => a.localeCompare(b)).map(([flag, value]) => `--${flag}=${value}`)];
}

/** The registry of the control-plane images, kubeadm's default imageRepository. */
export const REGISTRY = 'registry.k8s.io';

interface HostPathVolume {
  readonly name: string;
  readonly path: string;
  readonly type: 'DirectoryOrCreate' | 'FileOrCreate';
  readonly readOnly: boolean;
}

/**
 * The four static Pods of one control-plane node, in kubeadm's file names. `certificates` (node plan path →
 * PEM: the certificate files, and each kubeconfig's client certificate) gives every Pod the reviewer
 * annotations of the certificates its flags name.
 */
export function staticPods(cluster: Cluster, node: ControlPlaneNode, options: NodeAuthOptions, certificates: ReadonlyMap<string, string>): Record<string, object> {
  const pkiVolume: HostPathVolume = { name: 'k8s-certs', path: PKI_DIR, type: 'DirectoryOrCreate', readOnly: true };
  const caCertsVolume: HostPathVolume = { name: 'ca-certs', path: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true };
  const kubeconfigVolume = (id: 'controller-manager' | 'scheduler'): HostPathVolume => ({ name: 'kubeconfig', path: kubeconfig(id), type: 'FileOrCreate', readOnly: true });
  return {
    'etcd.yaml': staticPod('etcd', node, `${REGISTRY}/etcd:${etcdImageTag(cluster.kubernetesVersion)}`, commandLine('etcd', etcdFlags(cluster, node)), [
      { name: 'etcd-data', path: ETCD_DATA_DIR, type: 'DirectoryOrCreate', readOnly: false },
      // Only the etcd directory: etcd never sees the cluster CA's key.
      { name: 'etcd-certs', path: ETCD_PKI_DIR, type: 'DirectoryOrCreate', readOnly: false },
    ], { path: '/livez', port: 2381, scheme: 'HTTP', host: net.isIPv6(node.ip) ? '::1' : '127.0.0.1' }, certificates),
    'kube-apiserver.yaml': staticPod('kube-apiserver', node, image('kube-apiserver', cluster), commandLine('kube-apiserver', kubeApiServerFlags(cluster, node, options)),
      [caCertsVolume, pkiVolume], { path: '/livez', port: cluster.bindPort, scheme: 'HTTPS', host: canonicalIp(node.ip) }, certificates),
    'kube-controller-manager.yaml': staticPod('kube-controller-manager', node, image('kube-controller-manager', cluster), commandLine('kube-controller-manager', kubeControllerManagerFlags(cluster)),
      [caCertsVolume, pkiVolume, kubeconfigVolume('controller-manager')], { path: '/healthz', port: 10257, scheme: 'HTTPS', host: '127.0.0.1' }, certificates),
    'kube-scheduler.yaml': staticPod('kube-scheduler', node, image('kube-scheduler', cluster), commandLine('kube-scheduler', kubeSchedulerFlags()),
      [kubeconfigVolume('scheduler')], { path: '/livez', port: 10259, scheme: 'HTTPS', host: '127.0.0.1' }, certificates),
  };
}

function image(component: string, cluster: Cluster): string {
  return `${REGISTRY}/${component}:${cluster.kubernetesVersion}`;
}

/**
 * The annotations of the certificates `command` names, in path order, labelled by their path under pki/ (or
 * under /etc/kubernetes for a kubeconfig). A renewal changes them, so the manifest changes and the kubelet
 * restarts the Pod, which then loads the new certificate.
 */
function mountedCertificateAnnotations(command: string[], certificates: ReadonlyMap<string, string>): Record<string, string> {
  const named = new Set(command.map((arg) => arg.slice(arg.indexOf('=') + 1)));
  return certificateAnnotations(
    [...certificates]
      .filter(([path]) => named.has(absolute(path)))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([path, pem]) => ({ name: path.replace(/^pki\//, ''), pem })),
  );
}

function staticPod(
  component: string,
  node: ControlPlaneNode,
  imageName: string,
  command: string[],
  volumes: HostPathVolume[],
  probe: { path: string; port: number; scheme: 'HTTP' | 'HTTPS'; host: string },
  certificates: ReadonlyMap<string, string>,
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: component,
      namespace: 'kube-system',
      labels: { 'component': component, 'tier': 'control-plane' },
      annotations: { 'pki.cdk8s.io/node': node.name, ...mountedCertificateAnnotations(command, certificates) },
    },
    spec: {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: component,
          image: imageName,
          imagePullPolicy: 'IfNotPresent',
          command,
          livenessProbe: {
            httpGet: { host: probe.host, path: probe.path, port: probe.port, scheme: probe.scheme },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            timeoutSeconds: 15,
            failureThreshold: 8,
          },
          resources: { requests: { cpu: component === 'kube-apiserver' ? '250m' : '100m' } },
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: v.path, readOnly: v.readOnly })),
        },
      ],
      volumes: volumes.map((v) => ({ name: v.name, hostPath: { path: v.path, type: v.type } })),
    },
  };
}

/** The KubeletConfiguration kubeadm writes for every node (componentconfigs/kubelet.go), PKI parts included. */
export function kubeletConfiguration(cluster: Cluster, options: NodeAuthOptions = {}): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '0s' },
      x509: { clientCAFile: caCert('ca') },
    },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    // kubeadm's GetDNSIP: the tenth address of the first service CIDR (10.96.0.10).
    clusterDNS: [serviceIp(cluster.serviceSubnets[0], 10)],
    clusterDomain: cluster.dnsDomain,
    rotateCertificates: true,
    // Off (kubeadm's default): the kubelet serves with a self-signed certificate. On: it asks the cluster CA
    // through a kubernetes.io/kubelet-serving CSR, which no built-in controller approves.
    ...(options.serverTlsBootstrap ? { serverTLSBootstrap: true } : {}),
    staticPodPath: `${KUBERNETES_DIR}/manifests`,
  };
}
