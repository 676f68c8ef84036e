import * as crypto from 'node:crypto';
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { certificateAnnotations } from '../src/engine/annotations';
import { locateErrors, SpecError } from '../src/engine/errors';
import { checkSignatureAlgorithm, DEFAULT_KEY_ALGORITHM, KeyAlgorithm, keyAlgorithmOf, privateKeyFromPem, samePublicKey } from '../src/engine/keys';
import { rancherCaChecksum } from '../src/engine/pem';
import { rotationCacerts } from '../src/rancher/rotation';
import { CertificateSpec, checkKnownProps, NameConstraintsSpec } from '../src/engine/spec';
import { Certificate } from '../src/engine/x509';
import { CaRotation, Issuer, KeyReference, PkiState, RotationPhase } from '../src/state/pki-state';
import { checkRotation } from '../src/state/rotation-policy';
import { durationSeconds, renewBeforeWithin } from './durations';
import { pkiStateOf, slotOf } from './state';
import { CLUSTER_CA_PROPS } from './known-props';

/** kubeadm's CA validity (caCertificateValidityPeriod): 87600h, ten years without leap days. */
export const DEFAULT_CA_VALIDITY = Duration.hours(87600);

/**
 * A certificate authority that constructs ask for certificates: a ClusterCA, an OfflineRootCA, or your own.
 * Its key never leaves it: what it returns names the issued key by its place in the state.
 */
export interface ICertificateAuthority {
  /** The CA certificate. */
  readonly certificate: Certificate;
  /** The CA certificate followed by its issuers up to the root: what clients of this CA trust. */
  readonly trustBundlePem: string;
  /** Issues (or returns from the state) a certificate signed by this CA for `requester`. */
  issue(requester: IConstruct, request: CertificateRequest): IssuedCertificate;
}

/** A root CA kept outside the app (its key offline); signs only when its key is supplied. */
export class OfflineRootCA implements ICertificateAuthority {
  /**
   * The root from its PEM.
   * @param props - the root's certificate and, where a synth must (re-)issue a certificate it signs, its key
   * @param props.certificatePem - the root certificate (public; always needed: it anchors the trust bundle)
   * @param props.privateKeyPem - the root key: needed only for a synth that must (re-)issue a certificate it signs
   */
  static fromPem(props: { readonly certificatePem: string; readonly privateKeyPem?: string }): OfflineRootCA {
    const certificate = Certificate.fromPem(props.certificatePem, 'issuer.certificatePem');
    const privateKey = props.privateKeyPem === undefined ? undefined : privateKeyFromPem(props.privateKeyPem, 'issuer.privateKeyPem');
    checkCaPair(certificate, privateKey, 'issuer.');
    return new OfflineRootCA({ certificate, privateKey, chain: [] });
  }

  readonly certificate: Certificate;
  readonly trustBundlePem: string;
  // A # field: no property walk, spread or JSON.stringify reaches the key.
  readonly #signer: Issuer;

  private constructor(signer: Issuer) {
    this.#signer = signer;
    this.certificate = signer.certificate;
    this.trustBundlePem = signer.certificate.pem;
  }

  issue(requester: IConstruct, request: CertificateRequest): IssuedCertificate {
    // Without the key the state keeps what it holds, and says which key it needs when it must sign.
    return issueFrom(requester, request.state ?? pkiStateOf(requester), this.#signer, this.trustBundlePem, request);
  }
}

/** The checks of a CA brought as PEM (OfflineRootCA, fromExisting); `prefix` is where its props sit. */
function checkCaPair(certificate: Certificate, privateKey: crypto.KeyObject | undefined, prefix: string): void {
  checkSignatureAlgorithm(certificate.signatureAlgorithmOid, `${prefix}certificatePem`);
  keyAlgorithmOf(certificate.publicKey, `${prefix}certificatePem`);
  if (!certificate.isCA || !certificate.keyUsage.includes('keyCertSign')) {
    throw new SpecError(`${prefix}certificatePem`, `"${certificate.subject.commonName}" is not a CA certificate (needs basicConstraints cA=TRUE and keyUsage keyCertSign)`);
  }
  if (privateKey && !samePublicKey(privateKey, certificate.publicKey)) {
    throw new SpecError(`${prefix}privateKeyPem`, `does not match the certificate of "${certificate.subject.commonName}"`);
  }
}

/** Where a ClusterCA publishes its trust bundle. */
export interface ClusterCABundleProps {
  /** Name of the ConfigMap holding the trust bundle (key `ca.crt`). Metadata only. @default - "<id>-bundle" */
  readonly bundleName?: string;
  /** Namespace of that ConfigMap. Metadata only. @default - the chart's namespace */
  readonly bundleNamespace?: string;
}

export interface ClusterCAProps extends ClusterCABundleProps {
  /**
   * Subject CN. Changing it re-issues the CA certificate (same key) and every certificate it signed.
   * @default - "kubernetes" (kubeadm's cluster CA)
   */
  readonly commonName?: string;
  /** Subject O values. Re-issues like commonName. @default - none */
  readonly organizations?: string[];
  /** Subject OU values. Re-issues like commonName. @default - none */
  readonly organizationalUnits?: string[];
  /** Subject C (two letters). Re-issues like commonName. @default - none */
  readonly country?: string;
  /** Subject ST. Re-issues like commonName. @default - none */
  readonly province?: string;
  /** Subject L. Re-issues like commonName. @default - none */
  readonly locality?: string;
  /** DNS SANs of the CA certificate (kubeadm puts the CN there). Re-issues like commonName. @default - none */
  readonly dnsNames?: string[];
  /**
   * The CA key type. Changing it would replace the CA, so synth refuses it outside a `rotation`, whose new
   * CA (trust-both) is made with it.
   * @default - "ecdsa-p256"
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Lifetime of the CA certificate. Changing it re-issues the certificate with the same key. @default - 87600h (kubeadm's) */
  readonly validity?: Duration;
  /** Re-issue (same key) once less than this remains. Metadata only. @default - a third of `validity` */
  readonly renewBefore?: Duration;
  /** basicConstraints pathLenConstraint. Re-issues the certificate. @default - unlimited (as kubeadm) */
  readonly pathLength?: number;
  /** Name constraints for everything this CA signs. Re-issues the certificate. @default - none */
  readonly nameConstraints?: NameConstraintsSpec;
  /**
   * Make this CA an intermediate signed by `issuer` (a ClusterCA or an OfflineRootCA). Once issued, the
   * state keeps the issuer's certificate; the issuer's key is needed again only to re-issue.
   * @default - a self-signed root
   */
  readonly issuer?: ICertificateAuthority;
  /** The state to keep the CA in. @default - the app's state (see `pkiStateOf`) */
  readonly state?: PkiState;
  /** Where in the state the CA lives. Changing it makes a new CA. @default - derived from the construct path */
  readonly stateSlot?: string;
  /**
   * Rotate the CA in phases, one synth and one pull request each: `trust-both` makes a new CA (new key,
   * `keyAlgorithm`) that every bundle trusts beside the old one; `issue-from-new` makes it sign, re-issuing
   * everything it signed; `drop-old` leaves only the new one trusted (the old key stays archived in the state).
   * Declaring the previous phase again rolls back (before drop-old); a skipped phase is refused. See
   * docs/rotation.md.
   * @default - no rotation
   */
  readonly rotation?: CaRotation;
}

/** A CA brought by the user (`ClusterCA.fromExisting`). */
export interface ExistingClusterCAProps extends ClusterCABundleProps {
  /** The CA certificate, optionally followed by its issuers up to the root, in order. */
  readonly certificatePem: string;
  /** The CA key (PKCS#8, or the traditional EC/RSA forms). */
  readonly privateKeyPem: string;
  /** The state that keeps what this CA signs (nothing of the CA itself is stored). @default - the app's state */
  readonly state?: PkiState;
}

/** What a construct asks a CA for. */
export interface CertificateRequest {
  /** Subject, SANs, usages and validity of the certificate. */
  readonly spec: CertificateSpec;
  /** @default - "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** @default - a third of the validity */
  readonly renewBeforeSeconds?: number;
  /** @default - "keep": a re-issued certificate keeps its key */
  readonly keyPolicy?: 'keep' | 'rotate';
  /** @default - derived from the requesting construct's path */
  readonly stateSlot?: string;
  /** For a CA certificate: the rotation phase it is in (see `ClusterCAProps.rotation`). @default - no rotation */
  readonly rotation?: CaRotation;
  /** The state the certificate and its key are kept in. @default - a ClusterCA's own state; else the requester's app state */
  readonly state?: PkiState;
  /** Spec fields → the requester's prop names, for error messages (`{ 'sans.dnsNames': 'dnsNames' }`). @default - spec field names */
  readonly propNames?: Readonly<Record<string, string>>;
}

/** A certificate issued by a CA. Its key stays in the state, named by `keyReference`. */
export interface IssuedCertificate {
  /** The issued certificate (parsed). */
  readonly certificate: Certificate;
  /** The issued certificate alone, PEM. */
  readonly certificatePem: string;
  /** Where the key lives in the state: sinks (node plans, Secret plans, export commands) read it from there. */
  readonly keyReference: KeyReference;
  /** The issuer and its issuers up to the root, as at issuance. */
  readonly chain: Certificate[];
  /** The certificate followed by its intermediates, without the root: what a TLS server presents. */
  readonly fullChainPem: string;
  /** The CA bundle that verifies it. */
  readonly caPem: string;
  /** For a CA certificate: every CA certificate verifiers trust in its rotation phase, the issued one first, each with its chain. */
  readonly trusted?: readonly {
    /** A CA certificate verifiers trust. */
    readonly certificate: Certificate;
    /** Its issuers up to the root. */
    readonly chain: Certificate[];
  }[];
  /** For a CA certificate in a rotation: its phase (drop-old once the last one finished). */
  readonly rotationPhase?: RotationPhase;
}

/** Marks the construction `ClusterCA.fromExisting` asks for; not part of the props a user passes. */
const EXISTING = Symbol('existing CA');

/**
 * A cluster certificate authority: self-signed root (default), intermediate under another CA, or an
 * existing CA brought by the user (`ClusterCA.fromExisting`). Synthesizes a ConfigMap with the public trust
 * bundle; its key stays in the state. Other constructs get certificates from it with `issue()`.
 */
export class ClusterCA extends Construct implements ICertificateAuthority {
  /**
   * Bring your own CA: its certificate (optionally followed by its issuers up to the root) and key, as PEM.
   * Nothing of it is stored in the state; what it signs is.
   */
  static fromExisting(scope: Construct, id: string, props: ExistingClusterCAProps): ClusterCA {
    return new ClusterCA(scope, id, { bundleName: props.bundleName, bundleNamespace: props.bundleNamespace, state: props.state, [EXISTING]: props } as ClusterCAProps);
  }

  /** The CA certificate that signs (during a rotation: the old one until issue-from-new, then the new one). */
  readonly certificate: Certificate;
  /** The signing CA certificate alone, PEM. */
  readonly certificatePem: string;
  /** The certificates above this CA, up to the root, as at issuance; empty for a root. */
  readonly chain: Certificate[];
  /** Every CA certificate verifiers trust: the signing one, and during a rotation the other one. */
  readonly trustedCertificates: Certificate[];
  /**
   * What clients of this CA trust: each trusted CA certificate followed by its issuers up to the root, the
   * signing one first (so a file of it pairs with the signing key, as kubeadm's loaders read it).
   */
  readonly trustBundlePem: string;
  /** The signing CA certificate followed by its issuers: what a cert-manager CA issuer's `tls.crt` holds. */
  readonly signingChainPem: string;
  /** kubeadm's `--discovery-token-ca-cert-hash` value of the signing CA: `sha256:<hex of the SPKI>`. */
  readonly spkiPin: string;
  /** The `--discovery-token-ca-cert-hash` of every trusted CA, the signing one first (kubeadm join takes several). */
  readonly spkiPins: string[];
  /** The rotation phase this synth put the CA in; undefined when it never rotated (or was rolled back). */
  readonly rotationPhase?: RotationPhase;
  /** Rancher's CATTLE_CA_CHECKSUM for the trust bundle as cacerts.pem carries it (the old CA first during a rotation). */
  readonly rancherChecksum: string;
  /** Rancher's cacerts.pem of this CA: the trust bundle, with the old CA first during a rotation (see `rotationCacerts`). */
  readonly rancherCacertsPem: string;
  /** The ConfigMap holding `ca.crt`. */
  readonly bundle: kplus.ConfigMap;
  /** Where the CA key lives in the state; absent for a CA brought with `fromExisting`. */
  readonly keyReference?: KeyReference;
  private readonly state: PkiState;
  // A # field: no property walk, spread or JSON.stringify reaches the key.
  readonly #signer: Issuer;

  constructor(scope: Construct, id: string, props: ClusterCAProps = {}) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, CLUSTER_CA_PROPS));
    this.state = props.state ?? pkiStateOf(this);
    const existing = (props as { [EXISTING]?: ExistingClusterCAProps })[EXISTING];
    const made: MadeCa = existing ? this.importExisting(existing) : this.makeInState(props);
    this.#signer = made.signer;
    this.keyReference = made.keyReference;
    this.rotationPhase = made.rotationPhase;
    this.certificate = made.signer.certificate;
    this.certificatePem = this.certificate.pem;
    this.chain = made.signer.chain;
    this.trustedCertificates = made.trusted.map((t) => t.certificate);
    this.signingChainPem = [this.certificate, ...this.chain].map((c) => c.pem).join('');
    // An issuer shared by both CAs (an intermediate's root) appears once.
    this.trustBundlePem = [...new Set(made.trusted.flatMap((t) => [t.certificate, ...t.chain].map((c) => c.pem)))].join('');
    this.spkiPin = this.certificate.spkiPin;
    this.spkiPins = this.trustedCertificates.map((c) => c.spkiPin);
    this.rancherCacertsPem = rotationCacerts(this.trustBundlePem, this.trustedCertificates, this.rotationPhase);
    this.rancherChecksum = rancherCaChecksum(this.rancherCacertsPem);
    this.bundle = new kplus.ConfigMap(this, 'Bundle', {
      metadata: {
        name: props.bundleName ?? `${id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-bundle`,
        namespace: props.bundleNamespace,
        // The pin is kubeadm's join hash; every certificate of the bundle is described as `ca`, `ca.2` …
        annotations: { 'pki.cdk8s.io/spki-pin': this.spkiPins.join(','), ...certificateAnnotations([{ name: 'ca.crt', pem: this.trustBundlePem }]) },
      },
      data: { 'ca.crt': this.trustBundlePem },
    });
  }

  private importExisting(existing: ExistingClusterCAProps): MadeCa {
    const signer = locateErrors(this.node.path, () => importExisting(existing));
    return { signer, trusted: [signer] };
  }

  /** A root from the state, or an intermediate its issuer signs; either way its key is the state's. */
  private makeInState(props: ClusterCAProps): MadeCa {
    locateErrors(this.node.path, () => checkRotation(props.rotation, 'rotation'));
    const validitySeconds = locateErrors(this.node.path, () => durationSeconds(props.validity ?? DEFAULT_CA_VALIDITY, 'validity'));
    const request: CertificateRequest = {
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
      keyAlgorithm: props.keyAlgorithm,
      renewBeforeSeconds: locateErrors(this.node.path, () => renewBeforeWithin(props.renewBefore, validitySeconds)),
      stateSlot: props.stateSlot,
      state: this.state,
      propNames: CA_PROP_FIELDS,
      rotation: props.rotation,
    };
    // A root has no CA bundle above it: its own trustBundlePem is itself.
    const issued = props.issuer ? props.issuer.issue(this, request) : issueFrom(this, this.state, undefined, '', request);
    // The key is read when a certificate must be signed: a synth that keeps every certificate never loads it.
    const { state } = this;
    const { slot, generation } = issued.keyReference;
    let privateKey: crypto.KeyObject | undefined;
    const signer: Issuer = {
      certificate: issued.certificate,
      chain: issued.chain,
      get privateKey() {
        privateKey ??= state.privateKey(slot, generation);
        return privateKey;
      },
    };
    return { signer, keyReference: issued.keyReference, trusted: issued.trusted!, rotationPhase: issued.rotationPhase };
  }

  /**
   * Issues (or returns from the state) a certificate signed by this CA for `requester`.
   * Errors name the requester's construct path, and its props as `request.propNames` maps them.
   */
  issue(requester: IConstruct, request: CertificateRequest): IssuedCertificate {
    return issueFrom(requester, request.state ?? this.state, this.#signer, this.trustBundlePem, request);
  }
}

/** What a ClusterCA is made of: how it signs, where its key is, and what verifiers trust. */
interface MadeCa {
  readonly signer: Issuer;
  readonly keyReference?: KeyReference;
  readonly trusted: readonly { readonly certificate: Certificate; readonly chain: Certificate[] }[];
  readonly rotationPhase?: RotationPhase;
}

/**
 * `request` through the state, signed by `signer` (undefined: self-signed); errors located at the requester.
 * A CA certificate goes through its rotation (declared or recorded), which says what verifiers trust.
 */
function issueFrom(requester: IConstruct, state: PkiState, signer: Issuer | undefined, caPem: string, request: CertificateRequest): IssuedCertificate {
  return locateErrors(requester.node.path, () => {
    const credentialRequest = {
      slot: request.stateSlot ?? slotOf(requester),
      keyAlgorithm: request.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
      spec: request.spec,
      issuer: signer,
      renewBeforeSeconds: request.renewBeforeSeconds,
      keyPolicy: request.keyPolicy,
    };
    if (!request.spec.ca && request.rotation) throw new SpecError('rotation', 'only a CA certificate rotates in phases; a leaf is re-issued by its spec');
    const rotating = request.spec.ca ? state.ensureRotatingCertificate(credentialRequest, request.rotation) : undefined;
    const credential = rotating?.signer ?? state.ensure(credentialRequest);
    const intermediates = credential.chain.filter((c) => !c.isSelfSigned);
    return {
      certificate: credential.certificate,
      certificatePem: credential.certificate.pem,
      keyReference: { slot: credential.slot, generation: credential.keyGeneration },
      chain: credential.chain,
      fullChainPem: [credential.certificate, ...intermediates].map((c) => c.pem).join(''),
      caPem,
      ...(rotating ? { trusted: rotating.trusted, ...(rotating.phase ? { rotationPhase: rotating.phase } : {}) } : {}),
    };
  }, request.propNames);
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

function importExisting(props: ExistingClusterCAProps): Issuer {
  for (const pem of ['certificatePem', 'privateKeyPem'] as const) if (typeof props[pem] !== 'string') throw new SpecError(pem, 'is required, as PEM text');
  const [certificate, ...chain] = Certificate.allFromPem(props.certificatePem, 'certificatePem');
  const privateKey = privateKeyFromPem(props.privateKeyPem, 'privateKeyPem');
  checkCaPair(certificate, privateKey, '');
  chain.forEach((parent, i) => {
    const child = i === 0 ? certificate : chain[i - 1];
    if (!child.isSignedBy(parent.publicKey)) {
      throw new SpecError(`certificatePem[${i + 1}]`, `"${parent.subject.commonName}" did not sign "${child.subject.commonName}": give the chain in order, CA first`);
    }
  });
  return { certificate, privateKey, chain };
}
