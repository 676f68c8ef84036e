import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { KeyAlgorithm } from '../src/engine/keys';
import { checkKnownProps, ExtendedKeyUsageName } from '../src/engine/spec';
import { Certificate } from '../src/engine/x509';
import { KeyReference } from '../src/state/pki-state';
import { ClusterCA, IssuedCertificate } from './cluster-ca';
import { durationSeconds, renewBeforeWithin } from './durations';
import { TLS_CERTIFICATE_PROPS } from './known-props';

/** Engine spec fields → the TlsCertificate props they come from, so errors name the prop. */
const TLS_PROP_FIELDS = {
  'subject.commonName': 'commonName',
  'subject.organizations': 'organizations',
  'sans.dnsNames': 'dnsNames',
  'sans.ipAddresses': 'ipAddresses',
  'validitySeconds': 'validity',
};

/** kubeadm's leaf validity (certificateValidityPeriod): 8760h. */
export const DEFAULT_CERTIFICATE_VALIDITY = Duration.hours(8760);

/** What the certificate is for, as extended key usages. */
export const TLS_USAGES: Record<'server' | 'client' | 'peer', ExtendedKeyUsageName[]> = {
  server: ['serverAuth'],
  client: ['clientAuth'],
  // etcd's server and peer certificates: each side of a connection both serves and authenticates.
  peer: ['serverAuth', 'clientAuth'],
};

export interface TlsCertificateProps {
  /** The CA that signs it. Changing it re-issues the certificate (the key is kept). */
  readonly ca: ClusterCA;
  /** Subject CN. Re-issues the certificate. */
  readonly commonName: string;
  /** Subject O values (Kubernetes groups for a client certificate). Re-issues the certificate. @default none */
  readonly organizations?: string[];
  /** DNS SANs. Re-issues the certificate. @default none */
  readonly dnsNames?: string[];
  /** IP SANs. Re-issues the certificate. @default none */
  readonly ipAddresses?: string[];
  /** Re-issues the certificate. @default "server" */
  readonly usage?: keyof typeof TLS_USAGES;
  /** Re-issues the certificate. @default 8760h */
  readonly validity?: Duration;
  /** Re-issue once less than this remains. Metadata only. @default a third of `validity` */
  readonly renewBefore?: Duration;
  /** Changing it makes a new key and re-issues. @default "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** "rotate" gives every re-issued certificate a new key. @default "keep" */
  readonly keyPolicy?: 'keep' | 'rotate';
}

/**
 * A TLS server, client or peer certificate signed by a ClusterCA. Synthesizes nothing by itself: its key
 * stays in the state, and the constructs that deliver it (files, Secrets) decide where it goes.
 */
export class TlsCertificate extends Construct {
  readonly certificate: Certificate;
  readonly certificatePem: string;
  /** PKCS#8 PEM. Private. */
  readonly privateKeyPem: string;
  readonly fullChainPem: string;
  readonly caPem: string;
  readonly keyReference: KeyReference;

  constructor(scope: Construct, id: string, props: TlsCertificateProps) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, TLS_CERTIFICATE_PROPS));
    const usage = props.usage ?? 'server';
    const [validitySeconds, renewBeforeSeconds] = locateErrors(this.node.path, () => {
      if (!TLS_USAGES[usage]) throw new SpecError('usage', `must be one of ${Object.keys(TLS_USAGES).join(', ')} (got ${JSON.stringify(usage)})`);
      const validity = durationSeconds(props.validity ?? DEFAULT_CERTIFICATE_VALIDITY, 'validity');
      return [validity, renewBeforeWithin(props.renewBefore, validity)];
    });
    const issued: IssuedCertificate = props.ca.issue(this, {
      spec: {
        subject: { commonName: props.commonName, organizations: props.organizations },
        sans: { dnsNames: props.dnsNames, ipAddresses: props.ipAddresses },
        extendedKeyUsage: TLS_USAGES[usage],
        validitySeconds,
      },
      keyAlgorithm: props.keyAlgorithm,
      renewBeforeSeconds,
      keyPolicy: props.keyPolicy,
      propNames: TLS_PROP_FIELDS,
    });
    this.certificate = issued.certificate;
    this.certificatePem = issued.certificatePem;
    this.privateKeyPem = issued.privateKeyPem;
    this.fullChainPem = issued.fullChainPem;
    this.caPem = issued.caPem;
    this.keyReference = issued.keyReference;
  }
}
