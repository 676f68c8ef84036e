// kubeconfig files as kubeadm's CreateBasic writes them; beside planned-content, which renders them at export time.
import { stringify } from 'yaml';

/** Where a kubeconfig points and whom it names. */
export interface KubeconfigTarget {
  /** The cluster entry's name (kubeadm: the cluster name, `kubernetes` by default). */
  readonly clusterName: string;
  /** The API server URL, `https://<host>:<port>`. */
  readonly server: string;
  /** The CA bundle written as `certificate-authority-data`. */
  readonly caPem: string;
  /** The user name: kubeadm sets it to the client certificate's CN, or `tls-bootstrap-token-user` for a token. */
  readonly userName: string;
}

/** A client certificate's kubeconfig (kubeadm's CreateBasic + client certificate data). */
export interface KubeconfigContent extends KubeconfigTarget {
  /** `client-certificate-data`. */
  readonly certificatePem: string;
  /** `client-key-data`: a credential. */
  readonly privateKeyPem: string;
}

/** A token kubeconfig, as kubeadm writes bootstrap-kubelet.conf. */
export interface TokenKubeconfigContent extends KubeconfigTarget {
  /** The user's `token`: a credential. */
  readonly token: string;
}

/** The user name kubeadm gives the bootstrap token in bootstrap-kubelet.conf. */
export const BOOTSTRAP_TOKEN_USER = 'tls-bootstrap-token-user';

/** A kubeconfig as kubeadm's CreateBasic writes it: one cluster, one user, one context `<user>@<cluster>`. */
export function renderKubeconfig(content: KubeconfigContent | TokenKubeconfigContent): string {
  const base64 = (pem: string) => Buffer.from(pem).toString('base64');
  const context = `${content.userName}@${content.clusterName}`;
  const user = 'token' in content ? { token: content.token } : { 'client-certificate-data': base64(content.certificatePem), 'client-key-data': base64(content.privateKeyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: content.clusterName, cluster: { 'certificate-authority-data': base64(content.caPem), 'server': content.server } }],
    contexts: [{ name: context, context: { cluster: content.clusterName, user: content.userName } }],
    'current-context': context,
    preferences: {},
    users: [{ name: content.userName, user }],
  });
}
