// A cert-manager Certificate's spec (cert-manager.io/v1) and the rules cert-manager's webhook applies to it
// (internal/apis/certmanager/validation/certificate.go), so that synth fails where `kubectl apply` would. Field paths
// are relative to `spec`, in cert-manager's spelling (`privateKey.size`, `usages[2]`).
import { KUBERNETES_KEY_USAGES } from '../certificates-api/csr-policy';
import { SpecError } from '../engine/errors';
import { isAbsoluteUri, isDnsName, isIpAddress } from '../engine/names';
import { formatGoDuration, parseGoDuration } from '../engine/go-duration';
import { CERT_MANAGER_GROUP, ISSUER_KINDS, ISSUER_TYPES, IssuerType } from './issuers';
import { checkDns1123Subdomain, isPlainEmailAddress } from './names';

/** cert-manager's KeyUsage enum: the Kubernetes certificates API's list, which cert-manager took over as it is. */
export const CERT_MANAGER_USAGES = KUBERNETES_KEY_USAGES;
/** One of cert-manager's key usages (`spec.usages`). */
export type CertManagerUsage = (typeof CERT_MANAGER_USAGES)[number];

/** cert-manager's defaults and limits for a certificate's lifetime. */
export const DEFAULT_DURATION_SECONDS = 90 * 24 * 3600;
/** The shortest `duration` cert-manager's webhook accepts: 1h. */
export const MINIMUM_DURATION_SECONDS = 3600;
/** The shortest `renewBefore` cert-manager's webhook accepts: 5m. */
export const MINIMUM_RENEW_BEFORE_SECONDS = 5 * 60;

/** The key algorithms of `spec.privateKey.algorithm`. */
export const PRIVATE_KEY_ALGORITHMS = ['RSA', 'ECDSA', 'Ed25519'] as const;
/** One of `PRIVATE_KEY_ALGORITHMS`. */
export type PrivateKeyAlgorithm = (typeof PRIVATE_KEY_ALGORITHMS)[number];
/** The ECDSA curve sizes cert-manager accepts: P-256, P-384, P-521. */
export const ECDSA_KEY_SIZES = [256, 384, 521] as const;
/** The RSA key sizes cert-manager accepts, in bits. */
export const RSA_KEY_SIZE_RANGE = {
  /** The smallest RSA key. */
  min: 2048,
  /** The largest RSA key. */
  max: 8192,
} as const;

/** `spec.subject`: the subject attributes besides the common name. */
export interface CertificateSubjectSpec {
  /** O. */
  readonly organizations?: string[];
  /** C. */
  readonly countries?: string[];
  /** OU. */
  readonly organizationalUnits?: string[];
  /** L. */
  readonly localities?: string[];
  /** ST. */
  readonly provinces?: string[];
  /** street. */
  readonly streetAddresses?: string[];
  /** postalCode. */
  readonly postalCodes?: string[];
  /** serialNumber (the subject attribute, not the certificate's serial). */
  readonly serialNumber?: string;
}

/** A Certificate's spec as JSON (what lands in the manifest), limited to the fields this project writes. */
export interface CertificateSpec {
  /** The Secret cert-manager writes the key pair into. */
  readonly secretName?: string;
  /** The issuer that signs it. */
  readonly issuerRef?: {
    /** The issuer's name. */
    readonly name?: string;
    /** `Issuer` or `ClusterIssuer` (or an external issuer's kind). */
    readonly kind?: string;
    /** The issuer's API group. */
    readonly group?: string;
  };
  /** The subject's CN. */
  readonly commonName?: string;
  /** DNS SANs. */
  readonly dnsNames?: string[];
  /** IP SANs. */
  readonly ipAddresses?: string[];
  /** URI SANs. */
  readonly uris?: string[];
  /** email SANs. */
  readonly emailAddresses?: string[];
  /** otherName SANs (checked for presence only). */
  readonly otherNames?: unknown[];
  /** The subject's other attributes. */
  readonly subject?: CertificateSubjectSpec;
  /** The whole subject as an RFC 4514 string, instead of `commonName` and `subject`. */
  readonly literalSubject?: string;
  /** Go duration string. */
  readonly duration?: string;
  /** Go duration string. */
  readonly renewBefore?: string;
  /** Renew once this percentage of the duration remains, instead of `renewBefore`. */
  readonly renewBeforePercentage?: number;
  /** Whether the certificate is a CA. */
  readonly isCA?: boolean;
  /** Key usages and extended key usages, by cert-manager's names. */
  readonly usages?: string[];
  /** The key cert-manager makes. */
  readonly privateKey?: {
    /** `RSA`, `ECDSA` or `Ed25519`. */
    readonly algorithm?: string;
    /** RSA bits or ECDSA curve size. */
    readonly size?: number;
    /** `PKCS1` or `PKCS8`. */
    readonly encoding?: string;
    /** `Never` or `Always`. */
    readonly rotationPolicy?: string;
  };
  /** Labels and annotations of the Secret. */
  readonly secretTemplate?: {
    /** The Secret's annotations. */
    readonly annotations?: Record<string, string>;
    /** The Secret's labels. */
    readonly labels?: Record<string, string>;
  };
}

const NO_NAMES_MESSAGE =
  'at least one of commonName (from the commonName field or from a literalSubject), dnsNames, uriSANs, ipAddresses, emailSANs or otherNames must be set';

/**
 * Throws a SpecError for the first thing cert-manager's webhook would refuse in a Certificate spec, and for two
 * things it lets through but that cannot work: a CA certificate from an issuer type that cannot issue one (given
 * `issuerType`), and a CA without a subject. Ed25519 with a `size` is refused too: cert-manager ignores the size.
 */
export function checkCertificateSpec(spec: CertificateSpec, issuerType?: IssuerType): void {
  if (!spec.secretName) throw new SpecError('secretName', 'must be specified');
  checkDns1123Subdomain(spec.secretName, 'secretName');
  checkIssuerRef(spec.issuerRef ?? {});
  const commonName = checkSubject(spec);
  const hasName = [spec.dnsNames, spec.uris, spec.emailAddresses, spec.ipAddresses, spec.otherNames].some((names) => (names?.length ?? 0) > 0);
  if (!commonName && !hasName) throw new SpecError('', NO_NAMES_MESSAGE);
  if (commonName && Buffer.byteLength(commonName) > 64) throw new SpecError('commonName', `may not be more than 64 bytes (got ${Buffer.byteLength(commonName)})`);
  spec.ipAddresses?.forEach((ip, i) => {
    // Go's net.ParseIP takes no zone (fe80::1%eth0) and no prefix length.
    if (typeof ip !== 'string' || !isIpAddress(ip)) throw new SpecError(`ipAddresses[${i}]`, `${JSON.stringify(ip)}: invalid IP address`);
  });
  // The webhook lets these through, but the issued certificate would not serve them: a name no client matches
  // (or that browsers read as an IPv4 address), a URI that is not one.
  spec.dnsNames?.forEach((name, i) => {
    if (typeof name !== 'string' || !isDnsName(name)) throw new SpecError(`dnsNames[${i}]`, `${JSON.stringify(name)} is not a valid DNS name (lower-case RFC 1123, optional leading "*.", not ending in a number)`);
  });
  spec.uris?.forEach((uri, i) => {
    if (typeof uri !== 'string' || !isAbsoluteUri(uri)) throw new SpecError(`uris[${i}]`, `${JSON.stringify(uri)} is not an absolute URI (scheme:…, ASCII without spaces)`);
  });
  spec.emailAddresses?.forEach((email, i) => {
    if (!isPlainEmailAddress(email)) {
      throw new SpecError(`emailAddresses[${i}]`, `"${email}": invalid email address: make sure the supplied value only contains the email address itself`);
    }
  });
  checkPrivateKey(spec.privateKey ?? {});
  checkLifetime(spec);
  spec.usages?.forEach((usage, i) => {
    if (!(CERT_MANAGER_USAGES as readonly string[]).includes(usage)) {
      throw new SpecError(`usages[${i}]`, `"${usage}": unknown keyusage (cert-manager knows: ${CERT_MANAGER_USAGES.join(', ')})`);
    }
  });
  for (const annotation of Object.keys(spec.secretTemplate?.annotations ?? {})) {
    if (annotation.startsWith('cert-manager.io/') && annotation !== 'cert-manager.io/allow-direct-injection') {
      throw new SpecError('secretTemplate.annotations', `"${annotation}": cert-manager.io/* annotations are not allowed`);
    }
  }
  if (spec.isCA) checkCa(spec, commonName, issuerType);
}

function checkIssuerRef(issuerRef: NonNullable<CertificateSpec['issuerRef']>): void {
  if (!issuerRef.name) throw new SpecError('issuerRef.name', 'must be specified');
  const builtIn = issuerRef.group === undefined || issuerRef.group === '' || issuerRef.group === CERT_MANAGER_GROUP;
  if (builtIn && issuerRef.kind && !Object.hasOwn(ISSUER_KINDS, issuerRef.kind)) {
    // An external issuer's kind (AWSPCAClusterIssuer, say) without its group is the usual cause.
    const hint = issuerRef.group ? '' : ' (did you forget to set spec.issuerRef.group?)';
    throw new SpecError('issuerRef.kind', `"${issuerRef.kind}": must be one of Issuer or ClusterIssuer${hint}`);
  }
}

/** Checks literalSubject against commonName and subject; returns the common name, from either. */
function checkSubject(spec: CertificateSpec): string | undefined {
  if (spec.literalSubject === undefined || spec.literalSubject === '') return spec.commonName;
  if (spec.commonName) throw new SpecError('commonName', 'When providing a `LiteralSubject` no `commonName` may be provided.');
  if (Object.values(spec.subject ?? {}).some(isGiven)) throw new SpecError('subject', 'When providing a `LiteralSubject` no `Subject` properties may be provided.');
  const attributes = literalSubjectAttributes(spec.literalSubject);
  return attributes.find((attribute) => attribute.type.toUpperCase() === 'CN')?.value;
}

/** The type=value pairs of an RFC 4514 string, split at unescaped `,` and `+`. */
function literalSubjectAttributes(literal: string): { type: string; value: string }[] {
  const parts: string[] = [''];
  for (let i = 0; i < literal.length; i++) {
    const char = literal[i];
    if (char === '\\') {
      parts[parts.length - 1] += char + (literal[i + 1] ?? '');
      i++;
    } else if (char === ',' || char === '+') {
      parts.push('');
    } else {
      parts[parts.length - 1] += char;
    }
  }
  return parts.map((part) => {
    const equals = part.indexOf('=');
    if (equals <= 0) throw new SpecError('literalSubject', `"${part.trim()}" is not an attribute (type=value) of an RFC 4514 subject such as "CN=app,O=Example"`);
    return { type: part.slice(0, equals).trim(), value: part.slice(equals + 1).trim() };
  });
}

function checkPrivateKey(privateKey: NonNullable<CertificateSpec['privateKey']>): void {
  const { algorithm, size } = privateKey;
  const sized = size !== undefined && size > 0;
  switch (algorithm || 'RSA') {
    case 'RSA':
      if (sized && (size < RSA_KEY_SIZE_RANGE.min || size > RSA_KEY_SIZE_RANGE.max)) {
        throw new SpecError('privateKey.size', `${size}: must be between ${RSA_KEY_SIZE_RANGE.min} & ${RSA_KEY_SIZE_RANGE.max} for rsa keyAlgorithm`);
      }
      return;
    case 'ECDSA':
      if (sized && !(ECDSA_KEY_SIZES as readonly number[]).includes(size)) {
        throw new SpecError('privateKey.size', `Unsupported value: ${size}: supported values: ${ECDSA_KEY_SIZES.map((s) => `"${s}"`).join(', ')}`);
      }
      return;
    case 'Ed25519':
      // The webhook lets it through and cert-manager ignores it: refusing it keeps the manifest from promising a size.
      if (sized) throw new SpecError('privateKey.size', `${size}: an Ed25519 key has one size; cert-manager ignores this field for Ed25519, so leave it out`);
      return;
    default:
      throw new SpecError('privateKey.algorithm', `"${algorithm}": must be either empty or one of rsa, ecdsa or ed25519`);
  }
}

function checkLifetime(spec: CertificateSpec): void {
  const duration = spec.duration === undefined ? DEFAULT_DURATION_SECONDS : parseGoDuration(spec.duration, 'duration');
  if (duration < MINIMUM_DURATION_SECONDS) {
    throw new SpecError('duration', `${showDuration(duration)}: certificate duration must be greater than ${showDuration(MINIMUM_DURATION_SECONDS)}`);
  }
  if (spec.renewBefore !== undefined) {
    const renewBefore = parseGoDuration(spec.renewBefore, 'renewBefore');
    if (spec.renewBeforePercentage !== undefined) {
      throw new SpecError('renewBeforePercentage', 'cannot be set together with renewBefore: cert-manager takes one or the other');
    }
    if (renewBefore < MINIMUM_RENEW_BEFORE_SECONDS) {
      throw new SpecError('renewBefore', `${showDuration(renewBefore)}: certificate renewBefore must be greater than ${showDuration(MINIMUM_RENEW_BEFORE_SECONDS)}`);
    }
    if (renewBefore >= duration) {
      throw new SpecError('renewBefore', `certificate duration ${showDuration(duration)} must be greater than renewBefore ${showDuration(renewBefore)}`);
    }
  }
  const percentage = spec.renewBeforePercentage;
  if (percentage !== undefined) {
    if (!Number.isInteger(percentage) || percentage <= 0 || percentage >= 100) {
      throw new SpecError('renewBeforePercentage', `${percentage}: must be an integer in the range (0,100)`);
    }
    const renewBefore = Math.floor((duration * percentage) / 100);
    if (renewBefore < MINIMUM_RENEW_BEFORE_SECONDS) {
      throw new SpecError(
        'renewBeforePercentage',
        `${percentage}% of duration ${showDuration(duration)} is ${showDuration(renewBefore)}; the renewBefore it gives must be at least ${showDuration(MINIMUM_RENEW_BEFORE_SECONDS)}`,
      );
    }
  }
}

function checkCa(spec: CertificateSpec, commonName: string | undefined, issuerType: IssuerType | undefined): void {
  if (issuerType && !ISSUER_TYPES[issuerType].issuesCaCertificates) {
    throw new SpecError('isCA', `${issuerType} does not support CA certificates (cert-manager refuses the request with a BadConfig event)`);
  }
  // A CA's subject is the issuer name of everything it signs; RFC 5280 requires it to be non-empty.
  if (!commonName && !Object.values(spec.subject ?? {}).some(isGiven)) {
    throw new SpecError('commonName', 'a CA certificate needs a subject (commonName, subject or literalSubject): it becomes the issuer name of every certificate the CA signs');
  }
}

function isGiven(value: string | string[] | undefined): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '';
}

/** A duration for a message, in cert-manager's own form where it has one. */
function showDuration(seconds: number): string {
  return Number.isInteger(seconds) && seconds >= 0 ? formatGoDuration(seconds, '') : `${seconds}s`;
}
