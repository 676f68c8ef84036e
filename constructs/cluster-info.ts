import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, clusterInfoKubeconfig, detachedJws, JWS_KEY_PREFIX } from '../src/bootstrap/cluster-info';
import { parseToken } from '../src/bootstrap/token';
import { certificateAnnotations } from '../src/engine/annotations';
import { locateErrors } from '../src/engine/errors';
import { checkHttpsUrl } from '../src/engine/names';
import { BootstrapToken } from './bootstrap-token';
import { ClusterCA } from './cluster-ca';

/** The CA and API server endpoint cluster-info announces, and the tokens that sign it. */
export interface ClusterInfoProps {
  /** The cluster CA whose trust bundle joining nodes learn (and pin with --discovery-token-ca-cert-hash). */
  readonly ca: ClusterCA;
  /** The API server URL joining nodes use, `https://host:port` (kubeadm: admin.conf's server). */
  readonly server: string;
  /**
   * Tokens that sign cluster-info: each one with the "signing" usage gets its `jws-kubeconfig-<id>` entry,
   * as the controller-manager's bootstrapsigner writes it (same bytes, so the two never fight).
   * @default none
   */
  readonly tokens?: BootstrapToken[];
}

/**
 * ConfigMap kube-public/cluster-info: the discovery kubeconfig (server and CA, no credentials) that
 * `kubeadm join --discovery-token` reads anonymously, with a detached JWS per signing token.
 */
export class ClusterInfo extends Construct {
  /** `data.kubeconfig`: the exact bytes each JWS signs. */
  readonly kubeconfig: string;
  /** `jws-kubeconfig-<id>` → detached JWS. */
  readonly signatures: Record<string, string>;
  /** The kube-public/cluster-info ConfigMap. */
  readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: ClusterInfoProps) {
    super(scope, id);
    this.kubeconfig = locateErrors(this.node.path, () => {
      checkHttpsUrl(props.server, 'server');
      return clusterInfoKubeconfig(props.server, props.ca.trustBundlePem);
    });
    this.signatures = Object.fromEntries(
      (props.tokens ?? []).filter((token) => token.usages.includes('signing')).map((token) => [`${JWS_KEY_PREFIX}${token.tokenId}`, detachedJws(this.kubeconfig, parseToken(token.token))]),
    );
    this.configMap = new kplus.ConfigMap(this, 'ConfigMap', {
      // The kubeconfig's certificate-authority-data, described as `ca` as in the CA's own bundle.
      metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE, annotations: certificateAnnotations([{ name: 'ca.crt', pem: props.ca.trustBundlePem }]) },
      data: { kubeconfig: this.kubeconfig, ...this.signatures },
    });
  }
}
