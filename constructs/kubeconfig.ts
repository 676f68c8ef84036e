import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { locateErrors } from '../src/engine/errors';
import { checkHttpsUrl } from '../src/engine/names';
import { KeyAlgorithm } from '../src/engine/keys';
import { Certificate } from '../src/engine/x509';
import { KubeconfigContent, renderKubeconfig } from '../src/kubeadm/kubeconfig';
import { KeyReference } from '../src/state/pki-state';
import { ClusterCA, IssuedCertificate } from './cluster-ca';
import { durationSeconds, renewBeforeWithin } from './durations';
import { DEFAULT_CERTIFICATE_VALIDITY } from './tls-certificate';

export interface KubeconfigProps {
  /** The CA that signs the client certificate and that the kubeconfig trusts for the server. */
  readonly ca: ClusterCA;
  /** The API server URL (`https://host:port`). Metadata only: changes the file, not the certificate. */
  readonly server: string;
  /** The client certificate's CN: the Kubernetes user name, and the kubeconfig's user entry. Re-issues. */
  readonly userName: string;
  /** The client certificate's O values: the user's Kubernetes groups. Re-issues. @default none */
  readonly groups?: string[];
  /** The kubeconfig's cluster entry. Metadata only. @default "kubernetes" */
  readonly clusterName?: string;
  /** Changing it makes a new key and re-issues. @default "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Re-issues. @default 8760h */
  readonly validity?: Duration;
  /** Re-issue once less than this remains. Metadata only. @default a third of `validity` */
  readonly renewBefore?: Duration;
}

/**
 * A kubeconfig with an embedded client certificate, as kubeadm writes admin.conf and the others. It
 * synthesizes nothing: it holds a private key, so it reaches a node through `cdk8s-pki export-node` only.
 */
export class Kubeconfig extends Construct {
  readonly certificate: Certificate;
  /** The kubeconfig without its key, and where the key is: what a node plan records. */
  readonly content: Omit<KubeconfigContent, 'privateKeyPem'>;
  readonly keyReference: KeyReference;
  private readonly privateKeyPem: string;

  constructor(scope: Construct, id: string, props: KubeconfigProps) {
    super(scope, id);
    const [validitySeconds, renewBeforeSeconds] = locateErrors(this.node.path, () => {
      checkHttpsUrl(props.server, 'server');
      const validity = durationSeconds(props.validity ?? DEFAULT_CERTIFICATE_VALIDITY, 'validity');
      return [validity, renewBeforeWithin(props.renewBefore, validity)];
    });
    const issued: IssuedCertificate = props.ca.issue(this, {
      spec: { subject: { commonName: props.userName, organizations: props.groups }, extendedKeyUsage: ['clientAuth'], validitySeconds },
      keyAlgorithm: props.keyAlgorithm,
      renewBeforeSeconds,
      propNames: { 'subject.commonName': 'userName', 'subject.organizations': 'groups', 'validitySeconds': 'validity' },
    });
    this.certificate = issued.certificate;
    this.keyReference = issued.keyReference;
    this.privateKeyPem = issued.privateKeyPem;
    this.content = {
      clusterName: props.clusterName ?? 'kubernetes',
      server: props.server,
      caPem: props.ca.trustBundlePem,
      userName: props.userName,
      certificatePem: issued.certificatePem,
    };
  }

  /** The whole kubeconfig, private key included. Private: never put it into a manifest without consent. */
  render(): string {
    return renderKubeconfig({ ...this.content, privateKeyPem: this.privateKeyPem });
  }
}
