import { stringify } from 'yaml';

export interface KubeconfigContent {
  readonly clusterName: string;
  readonly server: string;
  readonly caPem: string;
  /** The user name, which kubeadm sets to the client certificate's CN. */
  readonly userName: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A kubeconfig as kubeadm's CreateBasic writes it: one cluster, one user, one context `<user>@<cluster>`. */
export function renderKubeconfig(content: KubeconfigContent): string {
  const base64 = (pem: string) => Buffer.from(pem).toString('base64');
  const context = `${content.userName}@${content.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: content.clusterName, cluster: { 'certificate-authority-data': base64(content.caPem), 'server': content.server } }],
    contexts: [{ name: context, context: { cluster: content.clusterName, user: content.userName } }],
    'current-context': context,
    preferences: {},
    users: [{ name: content.userName, user: { 'client-certificate-data': base64(content.certificatePem), 'client-key-data': base64(content.privateKeyPem) } }],
  });
}
