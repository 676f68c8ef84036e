/**
 * What the Kubernetes certificates API (certificates.k8s.io/v1) does with a CertificateSigningRequest: what the
 * API server rejects on create, what the CertificateSubjectRestriction admission plugin forbids, and what the
 * kube-controller-manager signers refuse to sign. Sources: pkg/apis/certificates/validation/validation.go,
 * pkg/apis/certificates/helpers.go (ValidateKubeletClientCSR, ValidateKubeletServingCSR),
 * pkg/controller/certificates/signer/signer.go, plugin/pkg/admission/certificates/subjectrestriction, and
 * https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/. No cdk8s here.
 */
import { CertificateSigningRequest } from '../engine/csr';
import { SpecError } from '../engine/errors';
import { isDns1123Label, isDns1123Subdomain } from '../engine/names';
import { checkSignatureAlgorithm } from '../engine/keys';
import { pemBlocks } from '../engine/pem';
import { DistinguishedName, SubjectAltNames } from '../engine/spec';

/** Every key usage the API server accepts in spec.usages (allValidUsages). */
export const KUBERNETES_KEY_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
] as const;
/** One usage of a CertificateSigningRequest's `spec.usages`. */
export type KubernetesKeyUsage = (typeof KUBERNETES_KEY_USAGES)[number];

/** The SAN kinds of a request, in the order Go's signers check them. */
export type SanKind = 'dnsNames' | 'emails' | 'ipAddresses' | 'uris';
const SAN_KINDS: readonly SanKind[] = ['dnsNames', 'emails', 'ipAddresses', 'uris'];
const SAN_KIND_NAMES: Record<SanKind, string> = { dnsNames: 'DNS names', emails: 'email addresses', ipAddresses: 'IP addresses', uris: 'URIs' };

/** What a built-in signer signs. Every rule is checked at synth, because the cluster would only say so later. */
export interface SignerRules {
  /** Who signs approved requests. */
  readonly signedBy: string;
  /** Whether anything approves requests on its own. */
  readonly autoApproval: string;
  /**
   * The usage sets the signer accepts: `exactly` lists whole sets (set equality, order free); `required` +
   * `allowed` accept any subset of `allowed` that holds every `required` usage.
   */
  readonly usages:
    | {
        /** The whole usage sets accepted. */
        readonly exactly: readonly (readonly KubernetesKeyUsage[])[];
      }
    | {
        /** Usages every request must hold. */
        readonly required: readonly KubernetesKeyUsage[];
        /** Usages a request may hold. */
        readonly allowed: readonly KubernetesKeyUsage[];
      };
  /** What a construct asks for when the user names no usages: the smallest set the signer accepts. */
  readonly defaultUsages: readonly KubernetesKeyUsage[];
  /** What the subject must be. */
  readonly subject: {
    /** Subject O must be exactly this list (Go: reflect.DeepEqual on Subject.Organization). */
    readonly organizationsExactly?: readonly string[];
    /** Subject CN must start with this (`system:node:`). */
    readonly commonNamePrefix?: string;
    /** O values the CertificateSubjectRestriction admission plugin rejects on create. */
    readonly organizationsRejectedOnCreate?: readonly string[];
  };
  /** What the SANs must be. */
  readonly sans: {
    /** At least one DNS or IP SAN. */
    readonly dnsOrIpRequired?: boolean;
    /** SAN kinds a request may not hold. */
    readonly forbidden: readonly SanKind[];
  };
}

/** A signer name the v1 API refuses outright. */
export interface RejectedSigner {
  /** Why the API server refuses to create a request for it. */
  readonly rejectedOnCreate: string;
}

/** The built-in signers, keyed by signerName. Any other `kubernetes.io/` name is signed by nobody. */
export const KUBERNETES_SIGNERS: Readonly<Record<string, SignerRules | RejectedSigner>> = {
  'kubernetes.io/kube-apiserver-client': {
    signedBy: "kube-controller-manager's csrsigning controller (--cluster-signing-kube-apiserver-client-*-file or the cluster CA)",
    autoApproval: 'never: kube-controller-manager does not approve these; an approver must',
    usages: { required: ['client auth'], allowed: ['digital signature', 'key encipherment', 'client auth'] },
    defaultUsages: ['digital signature', 'client auth'],
    subject: { organizationsRejectedOnCreate: ['system:masters'] },
    sans: { forbidden: [] }, // not checked by the signer
  },
  'kubernetes.io/kube-apiserver-client-kubelet': {
    signedBy: "kube-controller-manager's csrsigning controller (--cluster-signing-kube-apiserver-client-kubelet-*-file or the cluster CA)",
    autoApproval:
      "kube-controller-manager's csrapproving controller approves it when the requester may create certificatesigningrequests/nodeclient (bootstrap) or /selfnodeclient (a node renewing its own)",
    usages: {
      exactly: [
        ['digital signature', 'client auth'],
        ['digital signature', 'key encipherment', 'client auth'],
      ],
    },
    defaultUsages: ['digital signature', 'client auth'],
    subject: { organizationsExactly: ['system:nodes'], commonNamePrefix: 'system:node:' },
    sans: { forbidden: ['dnsNames', 'emails', 'ipAddresses', 'uris'] },
  },
  'kubernetes.io/kubelet-serving': {
    signedBy: "kube-controller-manager's csrsigning controller (--cluster-signing-kubelet-serving-*-file or the cluster CA)",
    autoApproval: 'never: kube-controller-manager does not approve these; an approver must',
    usages: {
      exactly: [
        ['digital signature', 'server auth'],
        ['digital signature', 'key encipherment', 'server auth'],
      ],
    },
    defaultUsages: ['digital signature', 'server auth'],
    subject: { organizationsExactly: ['system:nodes'], commonNamePrefix: 'system:node:' },
    sans: { dnsOrIpRequired: true, forbidden: ['emails', 'uris'] },
  },
  'kubernetes.io/legacy-unknown': {
    rejectedOnCreate: 'the API server rejects the create: the legacy signerName is not allowed via this API version (certificates.k8s.io/v1)',
  },
};

/** The smallest spec.expirationSeconds the API server accepts. */
export const MIN_EXPIRATION_SECONDS = 600;
const MAX_INT32 = 2 ** 31 - 1;

/** The rules of `signerName` when it is a built-in signer that the v1 API accepts. */
export function builtInSignerRules(signerName: string): SignerRules | undefined {
  const entry = KUBERNETES_SIGNERS[signerName];
  return entry && !('rejectedOnCreate' in entry) ? entry : undefined;
}

/** What a construct asks for when the user names no usages; undefined for a custom signer (the user must say). */
export function defaultUsagesFor(signerName: string): KubernetesKeyUsage[] | undefined {
  const rules = builtInSignerRules(signerName);
  return rules && [...rules.defaultUsages];
}

/** The subject and SANs a request carries (or will carry, before its key is drawn). */
/** The names a request will carry, before it is made. */
export interface RequestedNames {
  /** Its subject. */
  readonly subject: DistinguishedName;
  /** Its SANs. */
  readonly sans: SubjectAltNames;
}

/** A CertificateSigningRequest's spec as the API server and its signer check it. */
export interface CertificateSigningRequestCheck {
  /** `spec.signerName`. */
  readonly signerName: string;
  /** `spec.usages`. */
  readonly usages: readonly string[];
  /** `spec.expirationSeconds`. @default - none: the signer's own duration */
  readonly expirationSeconds?: number;
  /** A parsed request (its self-signature is checked too), or only the names it will carry. */
  readonly csr: CertificateSigningRequest | RequestedNames;
}

const SIGNER_FORM = "must be a fully qualified domain and path of the form 'example.com/signer-name'";

/**
 * Throws a SpecError naming the field (`signerName`, `usages[2]`, `expirationSeconds`, `subject.organizations`,
 * `sans.dnsNames`, `request` …) of the first thing the API server would reject or the signer would refuse, in the
 * order the cluster meets them: API validation, admission, then the signer once the request is approved.
 */
export function checkCertificateSigningRequest(check: CertificateSigningRequestCheck): void {
  checkSignerName(check.signerName);
  checkUsages(check.usages);
  if (check.expirationSeconds !== undefined) checkExpirationSeconds(check.expirationSeconds);
  if (check.csr instanceof CertificateSigningRequest) checkSelfSignature(check.csr);

  const rules = builtInSignerRules(check.signerName);
  if (!rules) return; // a custom signer decides for itself; only the API's own checks apply
  const short = check.signerName.slice('kubernetes.io/'.length);
  const subject = check.csr.subject;
  const sans = check.csr.sans;
  const organizations = subject.organizations ?? [];

  (rules.subject.organizationsRejectedOnCreate ?? []).forEach((rejected) => {
    const i = organizations.indexOf(rejected);
    if (i >= 0) {
      throw new SpecError(
        `subject.organizations[${i}]`,
        `the API server's CertificateSubjectRestriction admission plugin rejects the create: use of ${check.signerName} signer with ${rejected} group is not allowed`,
      );
    }
  });

  // Past admission, the signer checks the request only after approval, and marks it Failed instead of signing.
  const refused = (field: string, why: string) =>
    new SpecError(field, `${why}; once approved, kube-controller-manager would mark the request Failed (SignerValidationFailure) instead of signing it`);
  const expected = rules.subject.organizationsExactly;
  if (expected && !sameList(organizations, expected)) {
    throw refused('subject.organizations', `the ${short} signer only signs a subject whose O is exactly ${JSON.stringify(expected)} (got ${JSON.stringify(organizations)})`);
  }
  const prefix = rules.subject.commonNamePrefix;
  if (prefix && !subject.commonName.startsWith(prefix)) {
    throw refused('subject.commonName', `the ${short} signer only signs a CN that begins with "${prefix}" (got ${JSON.stringify(subject.commonName)})`);
  }
  for (const kind of rules.sans.forbidden) {
    const names = sans[kind] ?? [];
    if (names.length === 0) continue;
    const why = SAN_KINDS.every((k) => rules.sans.forbidden.includes(k))
      ? `the ${short} signer never signs a request with SANs (${SAN_KIND_NAMES[kind]} here: ${names.join(', ')})`
      : `the ${short} signer never signs a request with ${SAN_KIND_NAMES[kind]} (got ${names.join(', ')})`;
    throw refused(`sans.${kind}`, why);
  }
  if (rules.sans.dnsOrIpRequired && !(sans.dnsNames?.length || sans.ipAddresses?.length)) {
    throw refused('sans', `the ${short} signer needs at least one DNS name or IP address SAN`);
  }
  checkUsagesForSigner(short, rules, check.usages, refused);
}

/** Throws unless the API server accepts `signerName` on create (and, for `kubernetes.io/…`, a built-in signer has it). */
export function checkSignerName(signerName: string): void {
  const invalid = (why: string) => new SpecError('signerName', `the API server rejects the create: ${why}`);
  if (typeof signerName !== 'string' || signerName.length === 0) throw new SpecError('signerName', 'is required');
  const entry = KUBERNETES_SIGNERS[signerName];
  if (entry && 'rejectedOnCreate' in entry) throw new SpecError('signerName', entry.rejectedOnCreate);
  // ValidateCertificateSigningRequestSignerName, rule by rule.
  const segments = signerName.split('/');
  if (segments.length !== 2) throw invalid(`${JSON.stringify(signerName)} ${SIGNER_FORM}`);
  const [domain, path] = segments;
  if (domain.length > 253) throw invalid(`the domain of ${JSON.stringify(signerName)} is longer than 253 characters`);
  const domainLabels = domain.split('.');
  const badDomainLabel = domainLabels.find((label) => !isDns1123Label(label));
  if (badDomainLabel !== undefined) throw invalid(`${JSON.stringify(signerName)}: domain label ${JSON.stringify(badDomainLabel)} is not a lower-case RFC 1123 label; it ${SIGNER_FORM}`);
  if (domainLabels.length < 2) throw invalid(`${JSON.stringify(signerName)}: the domain must have at least two segments separated by dots; it ${SIGNER_FORM}`);
  const badPathLabel = path.split('.').find((label) => !isDns1123Subdomain(label)) // one label of at most 253 characters;
  if (badPathLabel !== undefined) throw invalid(`${JSON.stringify(signerName)}: path segment ${JSON.stringify(badPathLabel)} is not lower-case RFC 1123 (letters, digits, "-")`);
  if (signerName.length > 571) throw invalid(`${JSON.stringify(signerName)} is longer than 571 characters`);
  if (domain === 'kubernetes.io' && !entry) {
    throw new SpecError(
      'signerName',
      `no built-in signer is named ${JSON.stringify(signerName)} (kubernetes.io names are reserved for ${Object.keys(KUBERNETES_SIGNERS)
        .filter((name) => builtInSignerRules(name))
        .join(', ')}); nothing would ever sign the request`,
    );
  }
}

function checkUsages(usages: readonly string[]): void {
  if (!Array.isArray(usages) || usages.length === 0) throw new SpecError('usages', 'the API server rejects the create: usages must be provided');
  const seen = new Set<string>();
  usages.forEach((usage, i) => {
    if (!(KUBERNETES_KEY_USAGES as readonly string[]).includes(usage)) {
      throw new SpecError(`usages[${i}]`, `the API server rejects the create: ${JSON.stringify(usage)} is not a key usage it knows (one of ${KUBERNETES_KEY_USAGES.map((u) => `"${u}"`).join(', ')})`);
    }
    if (seen.has(usage)) throw new SpecError(`usages[${i}]`, `the API server rejects the create: ${JSON.stringify(usage)} is a duplicate`);
    seen.add(usage);
  });
}

function checkExpirationSeconds(seconds: number): void {
  if (!Number.isInteger(seconds)) throw new SpecError('expirationSeconds', `must be a whole number of seconds (got ${seconds})`);
  if (seconds < MIN_EXPIRATION_SECONDS) {
    throw new SpecError('expirationSeconds', `the API server rejects the create: may not specify a duration less than ${MIN_EXPIRATION_SECONDS} seconds (10 minutes) (got ${seconds})`);
  }
  if (seconds > MAX_INT32) throw new SpecError('expirationSeconds', `the API server rejects the create: ${seconds} does not fit the field's int32`);
}

function checkSelfSignature(csr: CertificateSigningRequest): void {
  // The API server only parses and verifies (Go's CheckSignature); SHA-1 and MD5 are refused here as everywhere in the engine.
  checkSignatureAlgorithm(csr.signatureAlgorithmOid, 'request');
  if (!csr.hasValidSignature) {
    throw new SpecError('request', 'the API server rejects the create: the request is not signed by the key it carries (its self-signature does not verify)');
  }
}

function checkUsagesForSigner(short: string, rules: SignerRules, usages: readonly string[], refused: (field: string, why: string) => SpecError): void {
  const describe = (set: readonly string[]) => `{${set.join(', ')}}`;
  if ('exactly' in rules.usages) {
    if (!rules.usages.exactly.some((set) => sameSet(set, usages))) {
      throw refused('usages', `the ${short} signer only signs usages exactly ${rules.usages.exactly.map(describe).join(' or ')} (got ${describe(usages)})`);
    }
    return;
  }
  const { required, allowed } = rules.usages;
  const i = usages.findIndex((usage) => !(allowed as readonly string[]).includes(usage));
  if (i >= 0) throw refused(`usages[${i}]`, `the ${short} signer only signs usages among ${describe(allowed)} (got ${JSON.stringify(usages[i])})`);
  const missing = required.find((usage) => !usages.includes(usage));
  if (missing) throw refused('usages', `the ${short} signer requires the usage ${JSON.stringify(missing)} (got ${describe(usages)})`);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return new Set(a).size === new Set(b).size && b.every((value) => a.includes(value));
}

// ---------------------------------------------------------------------------------------------
// The request itself

/**
 * A PKCS#10 request the API server can read, from user-supplied PEM: exactly one `CERTIFICATE REQUEST` block
 * (the API server reads only the first block and needs that label; anything else in the text is a mistake, a
 * private key worst of all), parsed, on an accepted signature algorithm, and self-signed by the key it carries.
 */
export function readCertificateSigningRequestPem(pem: string, field = 'csrPem'): CertificateSigningRequest {
  if (typeof pem !== 'string') throw new SpecError(field, 'must be PEM text');
  const blocks = pemBlocks(pem);
  const others = blocks.filter((b) => b.label !== 'CERTIFICATE REQUEST' && b.label !== 'NEW CERTIFICATE REQUEST');
  if (others.length > 0) {
    const key = others.find((b) => b.label.includes('PRIVATE KEY'));
    throw new SpecError(field, key ? `holds a ${key.label} block: a private key never goes into a manifest; give the request alone` : `holds a ${others[0].label} block; give one CERTIFICATE REQUEST block alone`);
  }
  if (blocks.length > 1) throw new SpecError(field, `holds ${blocks.length} CERTIFICATE REQUEST blocks; the API server reads only the first, so give one`);
  const csr = CertificateSigningRequest.fromPem(pem, field);
  checkSignatureAlgorithm(csr.signatureAlgorithmOid, field);
  if (!csr.hasValidSignature) throw new SpecError(field, 'is not signed by the key it carries (its self-signature does not verify), so the API server would reject it');
  return csr;
}

/** RBAC rules that let a subject approve requests for `signerName` (the Kubernetes documentation's csr-approver). */
export function approverRules(signerName: string): {
  /** The API groups. */
  apiGroups: string[];
  /** The resources. */
  resources: string[];
  /** The verbs allowed on them. */
  verbs: string[];
  /** Only these objects. */
  resourceNames?: string[];
}[] {
  return [
    { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
    { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: [signerName], verbs: ['approve'] },
  ];
}
