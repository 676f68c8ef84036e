import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { locateErrors } from '../src/engine/errors';
import { KeyAlgorithm } from '../src/engine/keys';
import { CertificateSpec, checkKnownProps, PropNames } from '../src/engine/spec';
import { Certificate } from '../src/engine/x509';
import { KeyReference } from '../src/state/pki-state';
import { CertificateRequest, ICertificateAuthority } from './cluster-ca';
import { durationSeconds, renewBeforeWithin } from './durations';

/** kubeadm's leaf validity (certificateValidityPeriod): 8760h. */
export const DEFAULT_CERTIFICATE_VALIDITY = Duration.hours(8760);

/** What every certificate signed by a CA takes besides its names. */
export interface SignedCertificateOptions {
  /** The CA that signs it. Changing it re-issues the certificate (the key is kept). */
  readonly ca: ICertificateAuthority;
  /** Changing it makes a new key and re-issues. @default - "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Re-issues the certificate. @default - 8760h (kubeadm's certificateValidityPeriod) */
  readonly validity?: Duration;
  /** Re-issue once less than this remains. Metadata only. @default - a third of `validity` */
  readonly renewBefore?: Duration;
}

/** What a subclass asks for: the spec without its validity, which the base derives from the options. */
export interface SignedCertificateRequest extends Omit<CertificateRequest, 'spec' | 'keyAlgorithm' | 'renewBeforeSeconds'> {
  /** Subject, SANs and usages; the validity comes from the options. */
  readonly spec: Omit<CertificateSpec, 'validitySeconds'>;
}

/**
 * A certificate a CA signs for this construct, its key kept in the state: the base of TlsCertificate, the
 * kubeadm certificates and Kubeconfig, which differ only in the names they ask for.
 */
export abstract class SignedCertificate extends Construct {
  /** The certificate as issued (parsed): subject, SANs, validity, fingerprints. */
  readonly certificate: Certificate;
  /** The certificate alone, PEM. */
  readonly certificatePem: string;
  /** The certificate followed by its intermediates, without the root: what a TLS server presents. */
  readonly fullChainPem: string;
  /** The CA bundle that verifies it. */
  readonly caPem: string;
  /** Where the key lives in the state; sinks (node plans, Secret plans, export commands) read it from there. */
  readonly keyReference: KeyReference;

  /**
   * `describe` may throw a SpecError for a bad prop: it is located at this construct. `knownProps`, the subclass's
   * whole prop list, refuses a misspelled or mistyped prop (from JavaScript or JSON) before anything is issued.
   */
  protected constructor(
    scope: Construct,
    id: string,
    options: SignedCertificateOptions,
    describe: () => SignedCertificateRequest,
    knownProps?: PropNames<Record<string, unknown>>,
  ) {
    super(scope, id);
    const { request, validitySeconds, renewBeforeSeconds } = locateErrors(this.node.path, () => {
      if (knownProps) checkKnownProps(options as unknown as Record<string, unknown>, knownProps);
      const validity = durationSeconds(options.validity ?? DEFAULT_CERTIFICATE_VALIDITY, 'validity');
      return { request: describe(), validitySeconds: validity, renewBeforeSeconds: renewBeforeWithin(options.renewBefore, validity) };
    });
    const issued = options.ca.issue(this, {
      ...request,
      spec: { ...request.spec, validitySeconds },
      keyAlgorithm: options.keyAlgorithm,
      renewBeforeSeconds,
      propNames: { validitySeconds: 'validity', ...request.propNames },
    });
    this.certificate = issued.certificate;
    this.certificatePem = issued.certificatePem;
    this.fullChainPem = issued.fullChainPem;
    this.caPem = issued.caPem;
    this.keyReference = issued.keyReference;
  }
}
