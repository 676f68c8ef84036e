// cert-manager and trust-manager objects: issuers, Certificates, a CA bootstrap chain, a ClusterCA offered to
// cert-manager, and a trust-manager Bundle. The rules they are checked against live in src/cert-manager; the shapes
// come from the typed imports generated from the CRDs (imports/, `npx cdk8s import`).
import { ApiObject, Chart, Duration, JsonPatch, Names } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import type * as cm from '../imports/cert-manager.io';
import type * as trust from '../imports/trust.cert-manager.io';
import {
  acmeServerUrl,
  CERT_MANAGER_GROUP,
  CertificateSubjectSpec,
  CertManagerUsage,
  checkCertificateSpec,
  checkDns1123Subdomain,
  checkIssuerSpec,
  DEFAULT_CLUSTER_RESOURCE_NAMESPACE,
  formatGoDuration,
  ISSUER_KINDS,
  IssuerKind,
  IssuerType,
  LetsEncryptServerName,
  PrivateKeyAlgorithm,
  SYNC_WAVE_ANNOTATION,
  SYNC_WAVES,
  syncWaveAnnotation,
} from '../src/cert-manager';
import { locateErrors, SpecError } from '../src/engine/errors';
import { ClusterCA, ICertificateAuthority } from './cluster-ca';
import { emitSecret } from './secret-output';
import { checkKnownProps } from '../src/engine/spec';
import { durationMilliseconds } from './durations';
import { CERTIFICATE_PROPS, CLUSTER_ISSUER_PROPS, ISSUER_PROPS } from './known-props';

// The CRD imports (the largest generated modules of the library) are required by the constructs that make these
// objects: an app without cert-manager does not load them.
const certManagerImport = () => require('../imports/cert-manager.io') as typeof cm;
const trustManagerImport = () => require('../imports/trust.cert-manager.io') as typeof trust;

export * from '../src/cert-manager';

/** What a Certificate's `issuerRef` says: an issuer this app does not define (an external issuer, say). */
export interface IssuerReference {
  /** The issuer's metadata.name. */
  readonly name: string;
  /** @default - "Issuer" (cert-manager's default) */
  readonly kind?: string;
  /** @default - "cert-manager.io" */
  readonly group?: string;
}

/** An issuer defined in this app: Issuer, ClusterIssuer, ClusterCaIssuer, CaBootstrapChain. */
export interface ICertManagerIssuer extends IConstruct {
  /** The reference a Certificate writes, with kind and group. */
  readonly issuerRef: Required<IssuerReference>;
  /** selfSigned, ca or acme: decides what a Certificate may ask of it. */
  readonly issuerType: IssuerType;
  /** An Issuer's namespace (its Certificates must be in it). @default - none: a ClusterIssuer */
  readonly issuerNamespace?: string;
}

/** One key of a Secret, as cert-manager's `SecretKeySelector`. */
export interface SecretKeyReference {
  /** Name of a Secret in the issuer's namespace (a ClusterIssuer's: the cluster resource namespace). */
  readonly name: string;
  /** The key within that Secret. */
  readonly key: string;
}

/** HTTP-01: cert-manager answers the challenge through an Ingress of the given class. */
export interface Http01SolverProps {
  /**
   * IngressClass of the solver's Ingress (sets `spec.ingressClassName`). Not with `class`. Changing it affects
   * only the challenges that follow.
   * @default - neither: the cluster's default IngressClass
   */
  readonly ingressClassName?: string;
  /** The older way: sets the `kubernetes.io/ingress.class` annotation on the solver's Ingress. Not with `ingressClassName`. @default - none */
  readonly class?: string;
}

/** DNS-01: cert-manager answers the challenge with a TXT record at one DNS provider. */
export interface Dns01SolverProps {
  /** Cloudflare, with an API token (Zone:DNS:Edit) kept in a Secret. @default - not Cloudflare */
  readonly cloudflare?: {
    /** The Secret key holding the API token. */
    readonly apiTokenSecretRef: SecretKeyReference;
  };
  /**
   * Route 53. Credentials: a static key (`accessKeyIDSecretRef` with `secretAccessKeySecretRef`), a `role` to
   * assume, or neither for the ambient credentials of cert-manager's pod.
   * @default - not Route 53
   */
  readonly route53?: {
    /** @default - the ambient AWS region */
    readonly region?: string;
    /** @default - found from the names being validated */
    readonly hostedZoneID?: string;
    /** @default - no static key */
    readonly accessKeyIDSecretRef?: SecretKeyReference;
    /** @default - no static key */
    readonly secretAccessKeySecretRef?: SecretKeyReference;
    /** IAM role ARN to assume. @default - none */
    readonly role?: string;
  };
}

/** One way of answering ACME challenges, and which certificates it answers for. */
export interface AcmeSolverProps {
  /** Which certificates this solver answers for. @default - all */
  readonly selector?: {
    /** Exactly these DNS names. @default - any name */
    readonly dnsNames?: string[];
    /** Names in these zones (and their subdomains). @default - any zone */
    readonly dnsZones?: string[];
    /** Certificates with these labels. @default - any labels */
    readonly matchLabels?: Record<string, string>;
  };
  /** HTTP-01 through an Ingress. Not with `dns01`. @default - not HTTP-01 */
  readonly http01?: Http01SolverProps;
  /** DNS-01 through one DNS provider. Not with `http01`; needed for wildcard names. @default - not DNS-01 */
  readonly dns01?: Dns01SolverProps;
}

/** An ACME issuer: the server, the account and how challenges are answered. */
export interface AcmeIssuerProps {
  /**
   * `letsencrypt-production`, `letsencrypt-staging` (certificates no client trusts, generous rate limits) or the
   * https:// directory URL of another ACME server. Changing it registers a new account on the new server; existing
   * certificates stay until they renew there.
   */
  readonly server: LetsEncryptServerName | (string & {});
  /** Account contact, where the CA writes about problems with the account's certificates. */
  readonly email: string;
  /**
   * The Secret cert-manager creates to keep the ACME account key. Changing it registers a new account.
   * @default - { name: "<issuer name>-acme-account" }
   */
  readonly privateKeySecretRef?: {
    /** The Secret's name. */
    readonly name: string;
  };
  /** How challenges are answered; the first whose selector matches a name is used. At least one. */
  readonly solvers: AcmeSolverProps[];
}

/** A cert-manager ClusterIssuer: exactly one of `selfSigned`, `ca`, `acme`. */
export interface ClusterIssuerProps {
  /** metadata.name, which Certificates name in `issuerRef`. @default - generated from the construct path */
  readonly name?: string;
  /** Sign each certificate with its own key (a CA's first certificate, tests). Exactly one of selfSigned, ca, acme. @default - false */
  readonly selfSigned?: boolean;
  /**
   * Sign with the CA key pair of a Secret (`tls.crt`, `tls.key`): for an Issuer, in its namespace; for a ClusterIssuer,
   * in the cluster resource namespace. Updating the Secret does not re-issue what was signed.
   * @default - not a CA issuer
   */
  readonly ca?: {
    /** The Secret with `tls.crt` and `tls.key`. */
    readonly secretName: string;
  };
  /** Obtain certificates from an ACME CA such as Let's Encrypt. @default - not an ACME issuer */
  readonly acme?: AcmeIssuerProps;
  /** Argo CD sync wave. @default - SYNC_WAVES.issuer (-5) */
  readonly syncWave?: number;
}

/** A cert-manager Issuer: a ClusterIssuer's props, in one namespace. */
export interface IssuerProps extends ClusterIssuerProps {
  /** The namespace whose Certificates it serves, and where it reads Secrets. @default - the chart's namespace */
  readonly namespace?: string;
}

/** What Issuer and ClusterIssuer share; cert-manager gives both one spec. */
abstract class IssuerBase extends Construct implements ICertManagerIssuer {
  /** The cert-manager.io/v1 Issuer or ClusterIssuer. */
  readonly apiObject: ApiObject;
  /** metadata.name, which Certificates name in `issuerRef`. */
  readonly name: string;
  readonly issuerRef: Required<IssuerReference>;
  readonly issuerType: IssuerType;
  readonly issuerNamespace?: string;

  protected constructor(scope: Construct, id: string, kind: IssuerKind, props: IssuerProps) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, kind === 'Issuer' ? ISSUER_PROPS : CLUSTER_ISSUER_PROPS));
    this.name = props.name ?? Names.toDnsLabel(this);
    const spec = locateErrors(this.node.path, () => {
      checkDns1123Subdomain(this.name, 'name');
      // The import types an Issuer's spec and a ClusterIssuer's apart; they are the same type in cert-manager.
      const json = certManagerImport().toJson_IssuerSpec(issuerSpec(props, this.name))!;
      checkIssuerSpec(json);
      return json;
    });
    this.issuerType = props.acme ? 'acme' : props.ca ? 'ca' : 'selfSigned';
    this.apiObject = new ApiObject(this, 'Resource', {
      ...(kind === 'Issuer' ? certManagerImport().Issuer.GVK : certManagerImport().ClusterIssuer.GVK),
      metadata: { name: this.name, namespace: props.namespace, annotations: syncWaveAnnotation(props.syncWave ?? SYNC_WAVES.issuer) },
      spec,
    });
    if (!ISSUER_KINDS[kind].namespaced) dropNamespace(this.apiObject);
    this.issuerNamespace = ISSUER_KINDS[kind].namespaced ? this.apiObject.metadata.namespace : undefined;
    this.issuerRef = { name: this.name, kind, group: CERT_MANAGER_GROUP };
  }
}

/** A namespaced cert-manager Issuer: serves Certificates of its own namespace. */
export class Issuer extends IssuerBase {
  constructor(scope: Construct, id: string, props: IssuerProps) {
    super(scope, id, 'Issuer', props);
  }
}

/** A cert-manager ClusterIssuer: serves Certificates of every namespace. */
export class ClusterIssuer extends IssuerBase {
  constructor(scope: Construct, id: string, props: ClusterIssuerProps) {
    super(scope, id, 'ClusterIssuer', props);
  }
}

function issuerSpec(props: IssuerProps, name: string): cm.IssuerSpec {
  const acme = props.acme;
  return {
    selfSigned: props.selfSigned ? {} : undefined,
    ca: props.ca && { secretName: props.ca.secretName },
    acme: acme && {
      server: acmeServerUrl(acme.server),
      email: acme.email,
      privateKeySecretRef: { name: acme.privateKeySecretRef?.name ?? `${name}-acme-account` },
      solvers: acme.solvers.map(
        (solver): cm.IssuerSpecAcmeSolvers => ({
          selector: solver.selector,
          http01: solver.http01 && { ingress: { ingressClassName: solver.http01.ingressClassName, class: solver.http01.class } },
          dns01: solver.dns01 && {
            cloudflare: solver.dns01.cloudflare && { apiTokenSecretRef: solver.dns01.cloudflare.apiTokenSecretRef },
            route53: solver.dns01.route53 && {
              region: solver.dns01.route53.region,
              hostedZoneId: solver.dns01.route53.hostedZoneID,
              accessKeyIdSecretRef: solver.dns01.route53.accessKeyIDSecretRef,
              secretAccessKeySecretRef: solver.dns01.route53.secretAccessKeySecretRef,
              role: solver.dns01.route53.role,
            },
          },
        }),
      ),
    },
  };
}

/** The key cert-manager makes for a Certificate (`spec.privateKey`). */
export interface PrivateKeyProps {
  /** Changing it makes a new key at the next issuance. @default - "RSA" (cert-manager's default) */
  readonly algorithm?: PrivateKeyAlgorithm;
  /** RSA 2048–8192, ECDSA 256, 384 or 521; not for Ed25519. Changing it makes a new key. @default - 2048 (RSA), 256 (ECDSA) */
  readonly size?: number;
  /** How `tls.key` is written; the key itself does not change. @default - "PKCS1" */
  readonly encoding?: 'PKCS1' | 'PKCS8';
  /** "Always": each issuance makes a new key; "Never": renewals keep the key. Changing it re-issues nothing. @default - "Always" (cert-manager ≥ 1.18) */
  readonly rotationPolicy?: 'Never' | 'Always';
}

/** A cert-manager Certificate: issuer, names, lifetime, key and the Secret it is written to. */
export interface CertificateProps {
  /** Who signs it: an issuer of this app, or a reference to another one. Changing it re-issues the certificate. */
  readonly issuer: ICertManagerIssuer | IssuerReference;
  /** metadata.name. @default - generated from the construct path */
  readonly name?: string;
  /** Must be the issuer's own namespace when the issuer is an Issuer. @default - the chart's namespace */
  readonly namespace?: string;
  /** The Secret cert-manager writes (`tls.crt`, `tls.key`, `ca.crt`). Changing it issues into a new Secret. @default - the Certificate's name */
  readonly secretName?: string;
  /** Labels and annotations cert-manager puts on that Secret (no `cert-manager.io/` annotations). Metadata only. @default - none */
  readonly secretTemplate?: {
    /** Annotations of the Secret. @default - none */
    readonly annotations?: Record<string, string>;
    /** Labels of the Secret. @default - none */
    readonly labels?: Record<string, string>;
  };
  /** Subject CN, at most 64 bytes; clients ignore it when SANs exist. Not with `literalSubject`. Re-issues. @default - none */
  readonly commonName?: string;
  /** DNS SANs. Re-issues. @default - none */
  readonly dnsNames?: string[];
  /** IP SANs. Re-issues. @default - none */
  readonly ipAddresses?: string[];
  /** URI SANs (spiffe://...). Re-issues. @default - none */
  readonly uris?: string[];
  /** Email SANs. Re-issues. @default - none */
  readonly emailAddresses?: string[];
  /** Subject attributes besides CN. Not with `literalSubject`. Re-issues. @default - none */
  readonly subject?: CertificateSubjectSpec;
  /** The whole subject as an RFC 4514 string, in the order given. Not with `commonName` or `subject`. Re-issues. @default - none */
  readonly literalSubject?: string;
  /** Requested lifetime, at least 1h; written as a Go duration ("2160h0m0s"). Re-issues. @default - 90 days (cert-manager's default) */
  readonly duration?: Duration;
  /** Renew once less than this remains; at least 5m, less than `duration`. Not with `renewBeforePercentage`. Moves the renewal time only. @default - a third of the lifetime */
  readonly renewBefore?: Duration;
  /** Renew once less than this percentage (1–99) of the lifetime remains. Moves the renewal time only. @default - a third of the lifetime */
  readonly renewBeforePercentage?: number;
  /** A CA certificate (cert-manager adds "cert sign"); needs a subject and an issuer type that issues CAs. Re-issues. @default - false */
  readonly isCA?: boolean;
  /** Key usages and extended key usages, in cert-manager's spelling. Re-issues. @default - ["digital signature", "key encipherment"] */
  readonly usages?: CertManagerUsage[];
  /** The key cert-manager generates. @default - RSA 2048, PKCS1, rotated at each issuance */
  readonly privateKey?: PrivateKeyProps;
  /** Argo CD sync wave. @default - SYNC_WAVES.certificate (0) */
  readonly syncWave?: number;
}

/** A cert-manager Certificate, checked at synth against the rules of cert-manager's webhook. */
export class Certificate extends Construct {
  /** The cert-manager.io/v1 Certificate. */
  readonly apiObject: cm.Certificate;
  /** metadata.name. */
  readonly name: string;
  /** The Secret cert-manager writes the key pair into. */
  readonly secretName: string;

  constructor(scope: Construct, id: string, props: CertificateProps) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, CERTIFICATE_PROPS));
    this.name = props.name ?? Names.toDnsLabel(this);
    this.secretName = props.secretName ?? this.name;
    const namespace = props.namespace ?? Chart.of(this).namespace;
    const issuer = 'issuerRef' in props.issuer ? props.issuer : undefined;
    const spec = locateErrors(this.node.path, () => {
      if (issuer?.issuerNamespace !== undefined && issuer.issuerNamespace !== namespace) {
        throw new SpecError(
          'issuer',
          `${issuer.node.path} is an Issuer of namespace "${issuer.issuerNamespace}", but this Certificate is in ${namespace ? `"${namespace}"` : 'no namespace'}: cert-manager looks for an Issuer in the Certificate's own namespace (a ClusterIssuer serves every namespace)`,
        );
      }
      const typed: cm.CertificateSpec = {
        secretName: this.secretName,
        secretTemplate: props.secretTemplate,
        issuerRef: issuer?.issuerRef ?? (props.issuer as IssuerReference),
        commonName: props.commonName,
        dnsNames: props.dnsNames,
        ipAddresses: props.ipAddresses,
        uris: props.uris,
        emailAddresses: props.emailAddresses,
        subject: props.subject,
        literalSubject: props.literalSubject,
        duration: props.duration && goDuration(props.duration, 'duration'),
        renewBefore: props.renewBefore && goDuration(props.renewBefore, 'renewBefore'),
        renewBeforePercentage: props.renewBeforePercentage,
        isCa: props.isCA,
        usages: props.usages?.map((usage) => usage as cm.CertificateSpecUsages),
        privateKey: props.privateKey && {
          algorithm: props.privateKey.algorithm as cm.CertificateSpecPrivateKeyAlgorithm | undefined,
          size: props.privateKey.size,
          encoding: props.privateKey.encoding as cm.CertificateSpecPrivateKeyEncoding | undefined,
          rotationPolicy: props.privateKey.rotationPolicy as cm.CertificateSpecPrivateKeyRotationPolicy | undefined,
        },
      };
      checkDns1123Subdomain(this.name, 'name');
      checkCertificateSpec(certManagerImport().toJson_CertificateSpec(typed)!, issuer?.issuerType);
      return typed;
    }, { issuerRef: 'issuer', isCA: 'isCA' }); // the spec's spelling → the props'
    this.apiObject = new (certManagerImport().Certificate)(this, 'Resource', {
      metadata: { name: this.name, namespace, annotations: syncWaveAnnotation(props.syncWave ?? SYNC_WAVES.certificate) },
      spec,
    });
  }
}

function goDuration(duration: Duration, field: string): string {
  return formatGoDuration(durationMilliseconds(duration, field) / 1000, field);
}

/** A CA made by cert-manager itself: its name, subject, lifetime and key. */
export interface CaBootstrapChainProps {
  /** Names the objects: ClusterIssuers "<name>-selfsigned" and "<name>", Certificate "<name>", Secret "<name>-key-pair". @default - generated from the construct path */
  readonly name?: string;
  /** Subject CN of the CA. Changing it re-issues the CA certificate. @default - the name */
  readonly commonName?: string;
  /** Other subject attributes of the CA. Re-issues the CA certificate. @default - none */
  readonly subject?: CertificateSubjectSpec;
  /** cert-manager's --cluster-resource-namespace, where the CA Certificate and its Secret live. @default - "cert-manager" */
  readonly clusterResourceNamespace?: string;
  /** Lifetime of the CA certificate. Re-issues it. @default - 87600h (ten years, as kubeadm's CAs) */
  readonly duration?: Duration;
  /**
   * The CA key. The default rotation policy is "Never": a renewed CA keeps its key, so certificates it signed
   * before still verify against the new CA certificate.
   * @default - ECDSA P-256; rotationPolicy "Never" unless given
   */
  readonly privateKey?: PrivateKeyProps;
}

/**
 * cert-manager's CA bootstrap: a selfSigned ClusterIssuer issues a CA Certificate into the cluster resource
 * namespace, and a `ca` ClusterIssuer signs with that CA. The key never leaves the cluster (nothing is in the state).
 * Certificates name the chain itself as their issuer.
 */
export class CaBootstrapChain extends Construct implements ICertManagerIssuer {
  /** The selfSigned ClusterIssuer that signs the CA certificate. */
  readonly selfSignedIssuer: ClusterIssuer;
  /** The CA Certificate, in the cluster resource namespace. */
  readonly caCertificate: Certificate;
  /** The `ca` ClusterIssuer signing with the CA certificate's key pair. */
  readonly caIssuer: ClusterIssuer;
  readonly issuerRef: Required<IssuerReference>;
  readonly issuerType: IssuerType = 'ca';

  constructor(scope: Construct, id: string, props: CaBootstrapChainProps = {}) {
    super(scope, id);
    const name = props.name ?? Names.toDnsLabel(this);
    this.selfSignedIssuer = new ClusterIssuer(this, 'SelfSigned', { name: `${name}-selfsigned`, selfSigned: true, syncWave: SYNC_WAVES.bootstrapIssuer });
    this.caCertificate = new Certificate(this, 'CaCertificate', {
      issuer: this.selfSignedIssuer,
      name,
      namespace: props.clusterResourceNamespace ?? DEFAULT_CLUSTER_RESOURCE_NAMESPACE,
      secretName: `${name}-key-pair`,
      isCA: true,
      commonName: props.commonName ?? name,
      subject: props.subject,
      duration: props.duration ?? Duration.hours(87600),
      // ECDSA P-256 unless another algorithm is asked for; a partial privateKey keeps the default algorithm.
      privateKey: {
        rotationPolicy: 'Never',
        ...(props.privateKey?.algorithm === undefined || props.privateKey.algorithm === 'ECDSA' ? { algorithm: 'ECDSA', size: 256 } : {}),
        ...props.privateKey,
      },
      syncWave: SYNC_WAVES.caCertificate,
    });
    this.caIssuer = new ClusterIssuer(this, 'CaIssuer', { name, ca: { secretName: this.caCertificate.secretName } });
    this.issuerRef = this.caIssuer.issuerRef;
  }
}

/** A ClusterCA offered to cert-manager: the CA, the issuer's kind and name, and where its key pair Secret goes. */
export interface ClusterCaIssuerProps {
  /** The CA to offer; its key is read from the state when the Secret is written. */
  readonly ca: ClusterCA;
  /** "ClusterIssuer" serves every namespace; "Issuer" only its own. @default - "ClusterIssuer" */
  readonly kind?: IssuerKind;
  /** The issuer's name. @default - generated from the construct path */
  readonly name?: string;
  /** Issuer only: its namespace, which holds the Secret too. @default - the chart's namespace */
  readonly namespace?: string;
  /** ClusterIssuer only: cert-manager's --cluster-resource-namespace, which holds the Secret. @default - "cert-manager" */
  readonly clusterResourceNamespace?: string;
  /** The Secret holding the CA key pair. @default - "<issuer name>-key-pair" */
  readonly secretName?: string;
}

/**
 * A ClusterCA of this project offered to cert-manager as a `ca` issuer. Its key pair goes into a kubernetes.io/tls
 * Secret (tls.crt: the CA and its issuers; tls.key: the CA key; ca.crt: the root) written as the app's secret
 * output decides: left out (to apply out of band), sealed, or plaintext. During a CA rotation it is the signing CA
 * of the phase (the new one from issue-from-new on). cert-manager puts only that chain's root into the ca.crt of
 * what it issues, and does not re-issue existing Certificates when the Secret changes (`cmctl renew`); trust both
 * CAs through a `TrustBundle`.
 */
export class ClusterCaIssuer extends Construct implements ICertManagerIssuer {
  /** The CA it offers. */
  readonly ca: ClusterCA;
  /** The `ca` Issuer or ClusterIssuer reading the key pair Secret. */
  readonly issuer: Issuer | ClusterIssuer;
  /** What the secret output synthesized for the key pair; undefined when it leaves the Secret out. */
  readonly secret?: ApiObject;
  /** The key pair Secret's name. */
  readonly secretName: string;
  /** The key pair Secret's namespace: the Issuer's, or the cluster resource namespace for a ClusterIssuer. */
  readonly secretNamespace: string;
  readonly issuerRef: Required<IssuerReference>;
  readonly issuerType: IssuerType = 'ca';
  readonly issuerNamespace?: string;

  constructor(scope: Construct, id: string, props: ClusterCaIssuerProps) {
    super(scope, id);
    this.ca = props.ca;
    const kind = props.kind ?? 'ClusterIssuer';
    const name = props.name ?? Names.toDnsLabel(this);
    this.secretName = props.secretName ?? `${name}-key-pair`;
    const { key, namespace } = locateErrors(this.node.path, () => {
      const ca = props.ca;
      if (!ca.keyReference) {
        throw new SpecError('ca', `${ca.node.path} was brought with \`ClusterCA.fromExisting\`, so its key is not in the state: create its Secret out of band and use an Issuer with ca.secretName`);
      }
      checkDns1123Subdomain(this.secretName, 'secretName');
      return { key: ca.keyReference, namespace: secretNamespaceOf(this, kind, props) };
    });
    this.secretNamespace = namespace;
    const rootPem = (props.ca.chain.at(-1) ?? props.ca.certificate).pem;
    this.secret = emitSecret(this, 'Secret', {
      name: this.secretName,
      namespace,
      type: 'kubernetes.io/tls',
      data: {
        // The signing CA and its issuers only: cert-manager signs with the first certificate of tls.crt and refuses
        // a tls.crt that is not one chain (pkg/util/pki SignCSRTemplate → ParseSingleCertificateChain: "certificate
        // chain is malformed or broken"), which both CAs of a rotation are not.
        'tls.crt': { kind: 'text', text: props.ca.signingChainPem },
        'tls.key': { kind: 'private-key', key },
        'ca.crt': { kind: 'text', text: rootPem },
      },
    });
    this.secret?.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, String(SYNC_WAVES.caSecret));
    const issuerProps = { name, ca: { secretName: this.secretName } };
    this.issuer = kind === 'Issuer' ? new Issuer(this, 'Issuer', { ...issuerProps, namespace }) : new ClusterIssuer(this, 'Issuer', issuerProps);
    this.issuerRef = this.issuer.issuerRef;
    this.issuerNamespace = this.issuer.issuerNamespace;
  }
}

/** Where cert-manager reads a `ca` issuer's Secret: the Issuer's namespace, or the cluster resource namespace. */
function secretNamespaceOf(scope: Construct, kind: IssuerKind, props: ClusterCaIssuerProps): string {
  if (ISSUER_KINDS[kind].namespaced) {
    if (props.clusterResourceNamespace !== undefined) throw new SpecError('clusterResourceNamespace', 'applies to a ClusterIssuer only; an Issuer reads its Secret from its own namespace');
    const namespace = props.namespace ?? Chart.of(scope).namespace;
    if (!namespace) throw new SpecError('namespace', `required for an Issuer (or a chart namespace): cert-manager reads its Secret from ${ISSUER_KINDS.Issuer.secretsFrom}`);
    return namespace;
  }
  if (props.namespace !== undefined) throw new SpecError('namespace', `a ClusterIssuer has no namespace; cert-manager reads its Secret from ${ISSUER_KINDS.ClusterIssuer.secretsFrom} (clusterResourceNamespace)`);
  return props.clusterResourceNamespace ?? DEFAULT_CLUSTER_RESOURCE_NAMESPACE;
}

/** The key a trust-manager Bundle writes into each target ConfigMap. */
export const TRUST_BUNDLE_KEY = 'ca.crt';

/** trust-manager's trust namespace default (Helm app.trust.namespace): where Bundle sources are read from. */
export const DEFAULT_TRUST_NAMESPACE = 'cert-manager';

/** A trust-manager Bundle: the CA it distributes, its source and the namespaces that receive it. */
export interface TrustBundleProps {
  /** The CA whose trust bundle (the CA and its issuers) is distributed. */
  readonly ca: ICertificateAuthority;
  /** The Bundle's name, which is also the name of the ConfigMap it writes in each namespace. @default - generated from the construct path */
  readonly name?: string;
  /**
   * "inLine": the PEM is in the Bundle. "configMap": the PEM is in a ConfigMap "<name>-source" in the trust namespace,
   * which the Bundle reads. Either way a changed CA reaches every namespace at the next sync.
   * @default - "inLine"
   */
  readonly source?: 'inLine' | 'configMap';
  /** trust-manager's trust namespace, where a "configMap" source is written. @default - "cert-manager" */
  readonly trustNamespace?: string;
  /** Namespaces that receive the ConfigMap. @default - every namespace */
  readonly namespaceSelector?: {
    /** Namespaces with these labels. @default - any labels */
    readonly matchLabels?: Record<string, string>;
    /** Namespaces whose labels satisfy every expression. @default - none */
    readonly matchExpressions?: {
      /** The label key. */
      readonly key: string;
      /** How the label's value is compared with `values`. */
      readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
      /** The values for In and NotIn. @default - none (Exists, DoesNotExist) */
      readonly values?: string[];
    }[];
  };
}

/**
 * A trust-manager Bundle that copies a ClusterCA's trust bundle into a ConfigMap (key `ca.crt`) of each selected
 * namespace: during a CA rotation, every CA of the phase. trust-manager de-duplicates the certificates and writes
 * them sorted by their SHA-256 (pkg/util/cert_pool.go), so the order of the source does not reach the targets.
 */
export class TrustBundle extends Construct {
  /** The trust.cert-manager.io/v1alpha1 Bundle. */
  readonly apiObject: trust.Bundle;
  /** The ConfigMap the Bundle reads, for source "configMap". */
  readonly sourceConfigMap?: ApiObject;
  /** The Bundle's name, and of the ConfigMap it writes in each namespace. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: TrustBundleProps) {
    super(scope, id);
    this.name = props.name ?? Names.toDnsLabel(this);
    locateErrors(this.node.path, () => checkDns1123Subdomain(this.name, 'name'));
    let source: trust.BundleSpecSources = { inLine: props.ca.trustBundlePem };
    if (props.source === 'configMap') {
      this.sourceConfigMap = new ApiObject(this, 'Source', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${this.name}-source`, namespace: props.trustNamespace ?? DEFAULT_TRUST_NAMESPACE, annotations: syncWaveAnnotation(SYNC_WAVES.bundleSource) },
        data: { [TRUST_BUNDLE_KEY]: props.ca.trustBundlePem },
      });
      source = { configMap: { name: this.sourceConfigMap.name, key: TRUST_BUNDLE_KEY } };
    }
    this.apiObject = new (trustManagerImport().Bundle)(this, 'Resource', {
      metadata: { name: this.name, annotations: syncWaveAnnotation(SYNC_WAVES.bundle) },
      spec: { sources: [source], target: { configMap: { key: TRUST_BUNDLE_KEY }, namespaceSelector: props.namespaceSelector } },
    });
    dropNamespace(this.apiObject);
  }
}

/** A cluster-scoped object takes no namespace, even in a chart that has one. */
function dropNamespace(apiObject: ApiObject): void {
  if (apiObject.metadata.namespace !== undefined) apiObject.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
}
