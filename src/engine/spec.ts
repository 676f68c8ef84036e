import * as net from 'node:net';
import Ajv, { ErrorObject } from 'ajv';
import { SpecError } from './errors';
import certificateSpecSchema from './schemas/certificate-spec.schema.json';

/** A certificate subject. Only these attributes are written; Go and OpenSSL read them all. */
export interface DistinguishedName {
  readonly commonName: string;
  /** `O`: Kubernetes reads these as the user's groups. */
  readonly organizations?: string[];
  readonly organizationalUnits?: string[];
  /** `C`: two letters. */
  readonly country?: string;
  /** `ST` */
  readonly province?: string;
  /** `L` */
  readonly locality?: string;
}

export interface SubjectAltNames {
  /** Lower-case RFC 1123 subdomains; a leading `*.` makes a wildcard. */
  readonly dnsNames?: string[];
  /** IPv4 or IPv6 literals. */
  readonly ipAddresses?: string[];
  readonly uris?: string[];
  readonly emails?: string[];
}

export const KEY_USAGES = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
] as const;
export type KeyUsageName = (typeof KEY_USAGES)[number];

export const EXTENDED_KEY_USAGE_OIDS = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGE_OIDS;

/** Name constraints a CA puts on everything below it (RFC 5280 §4.2.1.10). */
export interface NameConstraintsSpec {
  /** DNS suffixes names must fall under (`cluster.local` admits `a.cluster.local`). */
  readonly permittedDnsDomains?: string[];
  readonly excludedDnsDomains?: string[];
  /** CIDR ranges IP SANs must fall in. */
  readonly permittedIpRanges?: string[];
  readonly excludedIpRanges?: string[];
}

export interface CaSpec {
  /** How many intermediate CAs may follow this one; absent = unlimited (as kubeadm's CAs). */
  readonly pathLength?: number;
  readonly nameConstraints?: NameConstraintsSpec;
}

/** Everything that decides a certificate's content, apart from its key, issuer and issuing time. */
export interface CertificateSpec {
  readonly subject: DistinguishedName;
  readonly sans?: SubjectAltNames;
  /**
   * @default CAs: digitalSignature, keyCertSign, cRLSign. Leaves: digitalSignature, plus keyEncipherment
   * for RSA keys (an ECDSA or Ed25519 key cannot encipher).
   */
  readonly keyUsage?: KeyUsageName[];
  readonly extendedKeyUsage?: ExtendedKeyUsageName[];
  /** Present for a CA certificate. */
  readonly ca?: CaSpec;
  /** notAfter − issuing time, in seconds (notBefore is backdated a further 5 minutes). */
  readonly validitySeconds: number;
}

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat('ip', (v: string) => net.isIP(v) !== 0);
ajv.addFormat('cidr', isCidr);
ajv.addFormat('dns-name', isDnsName);
ajv.addFormat('dns-domain', (v: string) => isDnsName(v) && !v.startsWith('*'));
// SAN URIs and emails are IA5String: ASCII only (RFC 5280 §4.2.1.6).
const IA5 = /^[\x00-\x7f]*$/;
ajv.addFormat('uri', (v: string) => IA5.test(v) && URL.canParse(v) && /^[a-z][a-z0-9+.-]*:/i.test(v));
ajv.addFormat('email', (v: string) => IA5.test(v) && /^[^\s@]+@[^\s@]+$/.test(v));

const DNS_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^(\\*\\.)?${DNS_LABEL}(\\.${DNS_LABEL})*$`);

/** A lower-case RFC 1123 subdomain (kubeadm's IsDNS1123Subdomain), optionally behind a `*.` wildcard. */
export function isDnsName(value: string): boolean {
  return value.length <= 253 && DNS_NAME.test(value);
}

export function isCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  const family = net.isIP(address);
  return extra === undefined && family !== 0 && /^\d{1,3}$/.test(prefix ?? '') && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Turns ajv's JSON-pointer paths into the dotted form users write (`/sans/ipAddresses/2` → `sans.ipAddresses[2]`). */
export function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describeAjvError(error: ErrorObject, data: unknown): SpecError {
  let field = fieldOf(error.instancePath);
  let reason = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    field = field ? `${field}.${extra}` : extra;
    reason = 'is not a known field';
  } else if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    field = field ? `${field}.${missing}` : missing;
    reason = 'is required';
  } else if (error.keyword === 'format') {
    const value = error.instancePath.split('/').slice(1).reduce<any>((v, k) => v?.[k], data);
    reason = `${JSON.stringify(value)} is not a valid ${FORMAT_NAMES[(error.params as { format: string }).format] ?? 'value'}`;
  }
  return new SpecError(field, reason);
}

const FORMAT_NAMES: Record<string, string> = {
  'ip': 'IPv4 or IPv6 address',
  'cidr': 'CIDR range (address/prefix)',
  'dns-name': 'DNS name (lower-case RFC 1123, optional leading "*.")',
  'dns-domain': 'DNS domain (lower-case RFC 1123)',
  'uri': 'absolute URI',
  'email': 'email address',
};

/**
 * Checks data against a compiled JSON Schema, throwing the first error as a SpecError that names the field.
 * The schema is the contract for input that arrives as data (YAML, JSON, props from JavaScript).
 */
export function checkSchema<T>(validate: ReturnType<typeof ajv.compile>, data: unknown): T {
  if (!validate(data)) {
    const errors = validate.errors ?? [];
    // Prefer the most specific message: a bad value inside a field beats "must match a schema in anyOf".
    const best = errors.find((e) => e.keyword === 'format') ?? errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'if') ?? errors[0];
    throw best ? describeAjvError(best, data) : new SpecError('', 'is invalid');
  }
  return data as T;
}

export function compileSchema(schema: object) {
  return ajv.compile(schema);
}

const validateCertificateSpecSchema = compileSchema(certificateSpecSchema);

/** Validates a certificate spec, throwing a SpecError that names the field. */
export function validateCertificateSpec(spec: unknown): CertificateSpec {
  const checked = checkSchema<CertificateSpec>(validateCertificateSpecSchema, spec);
  if (checked.ca && checked.extendedKeyUsage?.length) {
    // Go's verifier intersects EKUs down the chain; a CA with EKUs silently narrows every leaf under it.
    throw new SpecError('extendedKeyUsage', 'a CA certificate takes no extended key usages (they would restrict every certificate it signs)');
  }
  if (!checked.ca && checked.keyUsage?.some((u) => u === 'keyCertSign' || u === 'cRLSign')) {
    throw new SpecError('keyUsage', 'keyCertSign and cRLSign belong to CA certificates: set `ca` or drop them');
  }
  checkSubjectEncodable(checked.subject);
  return checked;
}

/** A lone UTF-16 surrogate has no UTF-8 form: Node would write U+FFFD and the subject would not be what was asked. */
function checkSubjectEncodable(subject: DistinguishedName): void {
  for (const [key, value] of Object.entries(subject)) {
    const values: string[] = Array.isArray(value) ? value : [value];
    values.forEach((text, i) => {
      if (/\p{Cs}/u.test(text)) {
        throw new SpecError(Array.isArray(value) ? `subject.${key}[${i}]` : `subject.${key}`, 'holds a lone UTF-16 surrogate, which has no UTF-8 encoding');
      }
    });
  }
}
