/**
 * Where kubeadm puts things on a node, and with which modes (reference §4). Paths in the node plan are
 * relative to KUBERNETES_DIR; flags and mounts use the absolute ones.
 */
export const KUBERNETES_DIR = '/etc/kubernetes';
/** kubeadm's certificatesDir. */
export const PKI_DIR = `${KUBERNETES_DIR}/pki`;
/** etcd's certificates and keys. */
export const ETCD_PKI_DIR = `${PKI_DIR}/etcd`;
/** The static Pod manifests the kubelet runs, relative to KUBERNETES_DIR. */
export const MANIFESTS_DIR = 'manifests';
/**
 * kubeadm writes the kubelet's config to /var/lib/kubelet/config.yaml; a node bundle is one directory, so it
 * travels as kubelet/config.yaml beside the kubeconfigs (point kubelet's --config at it, or copy it).
 */
export const KUBELET_CONFIG_FILE = 'kubelet/config.yaml';
/** etcd's --data-dir, as kubeadm sets it. */
export const ETCD_DATA_DIR = '/var/lib/etcd';
/** The legacy static token file: under pki/, which kube-apiserver's Pod already mounts. */
export const TOKEN_AUTH_FILE = 'pki/token.csv';
/** What a TLS-bootstrapping kubelet starts with (kubeadm join). */
export const BOOTSTRAP_KUBECONFIG_FILE = 'bootstrap-kubelet.conf';
/** Where a kubelet keeps the client and serving certificates it is issued (its --cert-dir default); the kubelet creates it. */
export const KUBELET_CERT_DIR = '/var/lib/kubelet/pki';

/** kubeadm's file modes, by kind of file. */
export const FILE_MODES = {
  /** Certificates: public. */
  certificate: 0o644,
  /** Private keys. */
  privateKey: 0o600,
  /** kubeadm writes sa.pub with keyutil.WriteKey, hence 0600 like a key. */
  publicKey: 0o600,
  /** kubeconfigs: they hold a key or a token. */
  kubeconfig: 0o600,
  /** The static token file: it holds tokens. */
  tokenFile: 0o600,
  /** Static Pod manifests. */
  staticPodManifest: 0o600,
  /** The KubeletConfiguration. */
  kubeletConfig: 0o644,
  /** Directories. */
  directory: 0o755,
  /** The manifests directory. */
  manifestsDirectory: 0o700,
} as const;

/** `pki/<base>.crt` / `.key` / `.pub`, relative to KUBERNETES_DIR. */
export function pkiFile(baseName: string, extension: 'crt' | 'key' | 'pub'): string {
  return `pki/${baseName}.${extension}`;
}

/** The absolute path a flag points at. */
export function absolute(relativePath: string): string {
  return `${KUBERNETES_DIR}/${relativePath}`;
}
