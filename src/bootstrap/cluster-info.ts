/**
 * The cluster-info discovery document kubeadm publishes in kube-public and the detached JWS the
 * controller-manager's bootstrapsigner adds per signing token (kubeadm clusterinfo.go; cluster-bootstrap
 * token/jws/jws.go). A joining node checks the JWS with its token secret before trusting the CA inside.
 */
import * as crypto from 'node:crypto';
import { stringify } from 'yaml';
import { BootstrapToken } from './token';

/** Where cluster-info lives: readable anonymously, as `kubeadm join` reads it before it trusts the API server. */
export const CLUSTER_INFO_NAMESPACE = 'kube-public';
/** The ConfigMap `kubeadm join` discovers. */
export const CLUSTER_INFO_NAME = 'cluster-info';
/** The prefix of each token's detached JWS key in cluster-info: `jws-kubeconfig-<token id>`. */
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';

/**
 * `data.kubeconfig` of cluster-info: clientcmd.Write of a Config whose only cluster has an empty name, as the
 * sigs.k8s.io/yaml serializer prints it (keys sorted, empty lists as null). The JWS signs these exact bytes.
 */
export function clusterInfoKubeconfig(server: string, caBundlePem: string): string {
  const config = {
    'apiVersion': 'v1',
    'clusters': [{ cluster: { 'certificate-authority-data': Buffer.from(caBundlePem).toString('base64'), server }, name: '' }],
    'contexts': null,
    'current-context': '',
    'kind': 'Config',
    'preferences': {},
    'users': null,
  };
  return stringify(config, { lineWidth: 0, indentSeq: false });
}

/**
 * go-jose's compact HS256 JWS of `content` with the payload left out (`<header>..<signature>`), keyed with the
 * token secret (not the whole token) and carrying the token id as `kid`.
 */
export function detachedJws(content: string, token: BootstrapToken): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: token.id })).toString('base64url');
  const payload = Buffer.from(content).toString('base64url');
  const signature = crypto.createHmac('sha256', token.secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}..${signature}`;
}

/**
 * What `kubeadm token create --print-join-command` prints, for a control-plane node with `--control-plane`; one
 * `--discovery-token-ca-cert-hash` per hash (during a CA rotation, both CAs': kubeadm pins any of them).
 */
export function joinCommand(endpoint: string, token: string, caCertHashes: readonly string[], controlPlane: boolean): string {
  const pins = caCertHashes.flatMap((hash) => ['--discovery-token-ca-cert-hash', hash]);
  return ['kubeadm', 'join', endpoint, '--token', token, ...pins, ...(controlPlane ? ['--control-plane'] : [])].join(' ');
}
