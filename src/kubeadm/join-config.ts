/**
 * What `kubeadm join` reads from the cluster after discovery (kubeadm's uploadconfig and kubelet phases write
 * it at `init`): the ClusterConfiguration in kube-system/kubeadm-config and the KubeletConfiguration in
 * kube-system/kubelet-config. A declared cluster has no `kubeadm init`, so synth writes both.
 */
import { stringify } from 'yaml';
import { JOIN_CONFIG_MAPS } from '../bootstrap/rbac';
import { formatGoDuration } from '../engine/go-duration';
import { KeyAlgorithm } from '../engine/keys';
import { Cluster } from './cluster-spec';
import { ETCD_DATA_DIR, PKI_DIR } from './layout';
import { REGISTRY } from './static-pods';

/** kubeadm 1.31+ reads and writes v1beta4 (v1beta3 is deprecated from 1.31). */
export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';

/**
 * v1beta4's encryptionAlgorithm for a key algorithm; ECDSA-P384 exists from kubeadm 1.34. Without a value kubeadm
 * uses RSA-2048 for the keys it makes itself (at `join --control-plane`); ours are all made here.
 */
function encryptionAlgorithm(algorithm: KeyAlgorithm, kubernetesMinor: number): string | undefined {
  const names: Partial<Record<KeyAlgorithm, string>> = { 'rsa-2048': 'RSA-2048', 'rsa-3072': 'RSA-3072', 'rsa-4096': 'RSA-4096', 'ecdsa-p256': 'ECDSA-P256' };
  if (algorithm === 'ecdsa-p384') return kubernetesMinor >= 34 ? 'ECDSA-P384' : undefined;
  return names[algorithm];
}

/**
 * The ClusterConfiguration kubeadm would have uploaded for this cluster (v1beta4 field names, kubeadm's
 * defaults spelled out). Only fields the cluster spec decides; the rest keep kubeadm's defaults on the reader's side.
 */
export function clusterConfiguration(cluster: Cluster): Record<string, unknown> {
  const minor = Number(/^v\d+\.(\d+)\./.exec(cluster.kubernetesVersion)?.[1]);
  const algorithm = encryptionAlgorithm(cluster.keyAlgorithm, minor);
  const nonEmpty = (field: string, names: string[]) => (names.length > 0 ? { [field]: names } : {});
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    ...(cluster.apiServerCertSANs.length > 0 ? { apiServer: { certSANs: cluster.apiServerCertSANs } } : {}),
    caCertificateValidityPeriod: formatGoDuration(cluster.caCertificateValiditySeconds, 'caCertificateValidity'),
    certificateValidityPeriod: formatGoDuration(cluster.certificateValiditySeconds, 'certificateValidity'),
    certificatesDir: PKI_DIR,
    clusterName: cluster.clusterName,
    controlPlaneEndpoint: cluster.controlPlaneEndpoint,
    ...(algorithm ? { encryptionAlgorithm: algorithm } : {}),
    etcd: {
      local: {
        dataDir: ETCD_DATA_DIR,
        ...nonEmpty('serverCertSANs', cluster.etcdServerCertSANs),
        ...nonEmpty('peerCertSANs', cluster.etcdPeerCertSANs),
      },
    },
    imageRepository: REGISTRY,
    kubernetesVersion: cluster.kubernetesVersion,
    // v1beta4 keeps a dual-stack cluster's service CIDRs in one comma-separated string.
    networking: { dnsDomain: cluster.dnsDomain, serviceSubnet: cluster.serviceSubnets.join(',') },
  };
}

/** ConfigMap data (name → key → YAML) of the two ConfigMaps kubeadm join reads. */
export function joinConfigMaps(
  cluster: Cluster,
  kubeletConfiguration: object,
): {
  /** The ConfigMap's name. */
  name: string;
  /** Its namespace, kube-system. */
  namespace: string;
  /** Its data. */
  data: Record<string, string>;
}[] {
  const { namespace, kubeadmConfig, kubeletConfig } = JOIN_CONFIG_MAPS;
  return [
    { name: kubeadmConfig.name, namespace, data: { [kubeadmConfig.key]: stringify(clusterConfiguration(cluster)) } },
    { name: kubeletConfig.name, namespace, data: { [kubeletConfig.key]: stringify(kubeletConfiguration) } },
  ];
}
