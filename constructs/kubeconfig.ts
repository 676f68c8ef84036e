import { Construct } from 'constructs';
import { checkHttpsUrl } from '../src/engine/names';
import { KubeconfigContent } from '../src/content/kubeconfig';
import { renderContent } from '../src/content/planned-content';
import { SignedCertificate, SignedCertificateOptions } from './signed-certificate';
import { pkiStateOf } from './state';

export interface KubeconfigProps extends SignedCertificateOptions {
  /** The API server URL (`https://host:port`). Metadata only: changes the file, not the certificate. */
  readonly server: string;
  /** The client certificate's CN: the Kubernetes user name, and the kubeconfig's user entry. Re-issues. */
  readonly userName: string;
  /** The client certificate's O values: the user's Kubernetes groups. Re-issues. @default - none */
  readonly groups?: string[];
  /** The kubeconfig's cluster entry. Metadata only. @default - "kubernetes" */
  readonly clusterName?: string;
}

/**
 * A kubeconfig with an embedded client certificate, as kubeadm writes admin.conf and the others. It
 * synthesizes nothing: it holds a private key, so it reaches a node through `cdk8s-pki export-node` only.
 */
export class Kubeconfig extends SignedCertificate {
  /** The kubeconfig without its key, and where the key is: what a node plan records. */
  readonly content: Omit<KubeconfigContent, 'privateKeyPem'>;

  constructor(scope: Construct, id: string, props: KubeconfigProps) {
    super(scope, id, props, () => {
      checkHttpsUrl(props.server, 'server');
      return {
        spec: { subject: { commonName: props.userName, organizations: props.groups }, extendedKeyUsage: ['clientAuth'] },
        propNames: { 'subject.commonName': 'userName', 'subject.organizations': 'groups' },
      };
    });
    this.content = {
      clusterName: props.clusterName ?? 'kubernetes',
      server: props.server,
      caPem: props.ca.trustBundlePem,
      userName: props.userName,
      certificatePem: this.certificatePem,
    };
  }

  /** The whole kubeconfig, its key read from the app's state as export-node writes it. Never put it into a manifest without consent. */
  render(): string {
    return renderContent(pkiStateOf(this), { kind: 'kubeconfig', kubeconfig: this.content, key: this.keyReference });
  }
}
