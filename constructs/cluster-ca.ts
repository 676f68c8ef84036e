import * as crypto from 'node:crypto';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { checkSignatureAlgorithm, DEFAULT_KEY_ALGORITHM, KeyAlgorithm, keyAlgorithmOf, privateKeyFromPem, privateKeyToPem, samePublicKey } from '../src/engine/keys';
import { rancherCaChecksum } from '../src/engine/pem';
import { CertificateSpec, checkKnownProps, NameConstraintsSpec } from '../src/engine/spec';
import { Certificate } from '../src/engine/x509';
import { Credential, Issuer, KeyReference, PkiState } from '../src/state/pki-state';
import { durationSeconds, renewBeforeWithin } from './durations';
import { pkiStateOf, slotOf } from './state';
import { CLUSTER_CA_PROPS } from './known-props';

/** kubeadm's CA validity (caCertificateValidityPeriod): 87600h, ten years without leap days. */
export const DEFAULT_CA_VALIDITY = Duration.hours(87600);

/** Something that can sign certificates: a ClusterCA, or a root whose key is kept offline. */
export interface ICertificateIssuer {
  /** The CA as the engine sees it. */
  readonly issuer: Issuer;
}

/** A root CA kept outside the app (its key offline); signs intermediates only when its key is supplied. */
export class OfflineRootCA implements ICertificateIssuer {
  /**
   * @param certificatePem the root certificate (public; always needed: it anchors the trust bundle)
   * @param privateKeyPem the root key: needed only for a synth that must (re-)issue an intermediate
   */
  static fromPem(props: { certificatePem: string; privateKeyPem?: string }): OfflineRootCA {
    const certificate = Certificate.fromPem(props.certificatePem, 'issuer.certificatePem');
    const privateKey = props.privateKeyPem === undefined ? undefined : privateKeyFromPem(props.privateKeyPem, 'issuer.privateKeyPem');
    checkCaPair(certificate, privateKey, 'issuer');
    return new OfflineRootCA({ certificate, privateKey, chain: [] });
  }

  private constructor(readonly issuer: Issuer) {}
}

function checkCaPair(certificate: Certificate, privateKey: crypto.KeyObject | undefined, field: string): void {
  checkSignatureAlgorithm(certificate.signatureAlgorithmOid, `${field}.certificatePem`);
  keyAlgorithmOf(certificate.publicKey, `${field}.certificatePem`);
  if (!certificate.isCA || !certificate.keyUsage.includes('keyCertSign')) {
    throw new SpecError(`${field}.certificatePem`, `"${certificate.subject.commonName}" is not a CA certificate (needs basicConstraints cA=TRUE and keyUsage keyCertSign)`);
  }
  if (privateKey && !samePublicKey(privateKey, certificate.publicKey)) {
    throw new SpecError(`${field}.privateKeyPem`, `does not match the certificate of "${certificate.subject.commonName}"`);
  }
}

export interface ClusterCAProps {
  /**
   * Subject CN. Changing it re-issues the CA certificate (same key) and every certificate it signed.
   * @default "kubernetes" (kubeadm's cluster CA)
   */
  readonly commonName?: string;
  /** Subject O values. Re-issues like commonName. @default none */
  readonly organizations?: string[];
  /** Subject OU values. Re-issues like commonName. @default none */
  readonly organizationalUnits?: string[];
  /** Subject C (two letters). Re-issues like commonName. @default none */
  readonly country?: string;
  /** Subject ST. Re-issues like commonName. @default none */
  readonly province?: string;
  /** Subject L. Re-issues like commonName. @default none */
  readonly locality?: string;
  /** DNS SANs of the CA certificate (kubeadm puts the CN there). Re-issues like commonName. @default none */
  readonly dnsNames?: string[];
  /**
   * The CA key type. Changing it would replace the CA, so synth refuses unless a key rotation was asked
   * for (`cdk8s-pki rotate <slot> --new-key`).
   * @default "ecdsa-p256"
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Lifetime of the CA certificate. Changing it re-issues the certificate with the same key. @default 87600h */
  readonly validity?: Duration;
  /** Re-issue (same key) once less than this remains. Metadata only. @default a third of `validity` */
  readonly renewBefore?: Duration;
  /** basicConstraints pathLenConstraint. Re-issues the certificate. @default unlimited (as kubeadm) */
  readonly pathLength?: number;
  /** Name constraints for everything this CA signs. Re-issues the certificate. @default none */
  readonly nameConstraints?: NameConstraintsSpec;
  /**
   * Make this CA an intermediate signed by `issuer` (a ClusterCA or an OfflineRootCA). Once issued, the
   * state keeps the issuer's certificate; the issuer's key is needed again only to re-issue.
   * @default self-signed root
   */
  readonly issuer?: ICertificateIssuer;
  /**
   * Bring your own CA: its certificate (optionally followed by its issuers up to the root) and key, as PEM.
   * Nothing about it is stored in the state; subject, key and validity props do not apply.
   * @default a CA kept in the state
   */
  readonly existing?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Name of the ConfigMap holding the trust bundle (key `ca.crt`). Metadata only. @default "<id>-bundle" */
  readonly bundleName?: string;
  /** Namespace of that ConfigMap. Metadata only. @default the chart's namespace */
  readonly bundleNamespace?: string;
  /** The state to keep the CA in. @default the app's state (see `pkiStateOf`) */
  readonly state?: PkiState;
  /** Where in the state the CA lives. Changing it makes a new CA. @default derived from the construct path */
  readonly stateSlot?: string;
}

/** What a construct asks a CA for. */
export interface CertificateRequest {
  /** Subject, SANs, usages and validity of the certificate. */
  readonly spec: CertificateSpec;
  /** @default "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** @default a third of the validity */
  readonly renewBeforeSeconds?: number;
  /** @default "keep": a re-issued certificate keeps its key */
  readonly keyPolicy?: 'keep' | 'rotate';
  /** @default derived from the requesting construct's path */
  readonly stateSlot?: string;
  /** Spec fields → the requester's prop names, for error messages (`{ 'sans.dnsNames': 'dnsNames' }`). @default spec field names */
  readonly propNames?: Readonly<Record<string, string>>;
}

/** A key and certificate issued by a ClusterCA. */
export interface IssuedCertificate {
  readonly certificate: Certificate;
  readonly certificatePem: string;
  /** PKCS#8 PEM. Private: never put it into a manifest without the user's explicit consent. */
  readonly privateKeyPem: string;
  /** Where the key lives in the state, for node bundles that copy it at export time. */
  readonly keyReference: KeyReference;
  /** The certificate followed by its intermediates, without the root: what a TLS server presents. */
  readonly fullChainPem: string;
  /** The CA bundle that verifies it. */
  readonly caPem: string;
}

/**
 * A cluster certificate authority: self-signed root (default), intermediate under another CA, or an
 * existing CA brought by the user. Synthesizes a ConfigMap with the public trust bundle; its key stays in
 * the state. Other constructs get certificates from it with `issue()`.
 */
export class ClusterCA extends Construct implements ICertificateIssuer {
  readonly issuer: Issuer;
  /** The CA certificate. */
  readonly certificate: Certificate;
  readonly certificatePem: string;
  /** This CA's certificate followed by its issuers up to the root: what clients of this CA trust. */
  readonly trustBundlePem: string;
  /** kubeadm's `--discovery-token-ca-cert-hash` value: `sha256:<hex of the SPKI>`. */
  readonly spkiPin: string;
  /** Rancher's CATTLE_CA_CHECKSUM for the trust bundle. */
  readonly rancherChecksum: string;
  /** The ConfigMap holding `ca.crt`. */
  readonly bundle: kplus.ConfigMap;
  /** Where the CA key lives in the state; absent for a CA brought with `existing`. */
  keyReference?: KeyReference;
  private readonly state: PkiState;

  constructor(scope: Construct, id: string, props: ClusterCAProps = {}) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, CLUSTER_CA_PROPS));
    this.state = props.state ?? pkiStateOf(this);
    this.issuer = locateErrors(this.node.path, () => (props.existing ? importExisting(props) : this.ensureInState(props)), CA_PROP_FIELDS);
    this.certificate = this.issuer.certificate;
    this.certificatePem = this.certificate.pem;
    this.trustBundlePem = [this.certificate, ...this.issuer.chain].map((c) => c.pem).join('');
    this.spkiPin = this.certificate.spkiPin;
    this.rancherChecksum = rancherCaChecksum(this.trustBundlePem);
    this.bundle = new kplus.ConfigMap(this, 'Bundle', {
      metadata: {
        name: props.bundleName ?? `${id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-bundle`,
        namespace: props.bundleNamespace,
        annotations: {
          'pki.cdk8s.io/spki-pin': this.spkiPin,
          'pki.cdk8s.io/not-after': this.certificate.notAfter.toISOString(),
        },
      },
      data: { 'ca.crt': this.trustBundlePem },
    });
  }

  private ensureInState(props: ClusterCAProps): Issuer {
    const validitySeconds = durationSeconds(props.validity ?? DEFAULT_CA_VALIDITY, 'validity');
    const credential: Credential = this.state.ensure({
      slot: props.stateSlot ?? slotOf(this),
      keyAlgorithm: props.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
      spec: {
        subject: {
          commonName: props.commonName ?? 'kubernetes',
          organizations: props.organizations,
          organizationalUnits: props.organizationalUnits,
          country: props.country,
          province: props.province,
          locality: props.locality,
        },
        sans: props.dnsNames && { dnsNames: props.dnsNames },
        ca: { pathLength: props.pathLength, nameConstraints: props.nameConstraints },
        validitySeconds,
      },
      issuer: props.issuer?.issuer,
      renewBeforeSeconds: renewBeforeWithin(props.renewBefore, validitySeconds),
    });
    this.keyReference = { slot: credential.slot, generation: credential.keyGeneration };
    return { certificate: credential.certificate, privateKey: credential.privateKey, chain: credential.chain };
  }

  /**
   * Issues (or returns from the state) a certificate signed by this CA for `requester`.
   * Errors name the requester's construct path, and its props as `request.propNames` maps them.
   */
  issue(requester: IConstruct, request: CertificateRequest): IssuedCertificate {
    return locateErrors(requester.node.path, () => {
      if (!this.issuer.privateKey) throw new SpecError('ca', `${this.node.path} has no private key to sign with`);
      const credential = this.state.ensure({
        slot: request.stateSlot ?? slotOf(requester),
        keyAlgorithm: request.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
        spec: request.spec,
        issuer: this.issuer,
        renewBeforeSeconds: request.renewBeforeSeconds,
        keyPolicy: request.keyPolicy,
      });
      const intermediates = credential.chain.filter((c) => !c.isSelfSigned);
      return {
        certificate: credential.certificate,
        certificatePem: credential.certificate.pem,
        privateKeyPem: privateKeyToPem(credential.privateKey),
        keyReference: { slot: credential.slot, generation: credential.keyGeneration },
        fullChainPem: [credential.certificate, ...intermediates].map((c) => c.pem).join(''),
        caPem: this.trustBundlePem,
      };
    }, request.propNames);
  }
}

/** Engine spec fields → the ClusterCA props they come from, so errors name the prop. */
const CA_PROP_FIELDS = {
  'subject.commonName': 'commonName',
  'subject.organizations': 'organizations',
  'subject.organizationalUnits': 'organizationalUnits',
  'subject.country': 'country',
  'subject.province': 'province',
  'subject.locality': 'locality',
  'sans.dnsNames': 'dnsNames',
  'ca.pathLength': 'pathLength',
  'ca.nameConstraints': 'nameConstraints',
  'validitySeconds': 'validity',
};

function importExisting(props: ClusterCAProps): Issuer {
  const owned = ['commonName', 'organizations', 'organizationalUnits', 'country', 'province', 'locality', 'dnsNames', 'keyAlgorithm', 'validity', 'pathLength', 'nameConstraints', 'issuer'] as const;
  const conflicting = owned.find((name) => props[name] !== undefined);
  if (conflicting) throw new SpecError(conflicting, 'does not apply to an existing CA (its certificate already decides it)');
  for (const pem of ['certificatePem', 'privateKeyPem'] as const) if (typeof props.existing![pem] !== 'string') throw new SpecError(`existing.${pem}`, 'is required, as PEM text');
  const [certificate, ...chain] = Certificate.allFromPem(props.existing!.certificatePem, 'existing.certificatePem');
  const privateKey = privateKeyFromPem(props.existing!.privateKeyPem, 'existing.privateKeyPem');
  checkCaPair(certificate, privateKey, 'existing');
  chain.forEach((parent, i) => {
    const child = i === 0 ? certificate : chain[i - 1];
    if (!child.isSignedBy(parent.publicKey)) {
      throw new SpecError(`existing.certificatePem[${i + 1}]`, `"${parent.subject.commonName}" did not sign "${child.subject.commonName}": give the chain in order, CA first`);
    }
  });
  return { certificate, privateKey, chain };
}
