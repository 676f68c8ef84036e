import type { ErrorObject } from 'ajv';
import { SpecError } from './errors';
import { controlCharacterIndex, hostBitsReason, isIpAddress } from './names';
import { loadValidator } from './schema-compiler';
import certificateSpecSchema from './schemas/certificate-spec.schema.json';

/** A certificate subject. Only these attributes are written; Go and OpenSSL read them all. */
export interface DistinguishedName {
  /** `CN`: for a client certificate, Kubernetes reads it as the user name. */
  readonly commonName: string;
  /** `O`: Kubernetes reads these as the user's groups. */
  readonly organizations?: string[];
  /** `OU`. */
  readonly organizationalUnits?: string[];
  /** `C`: two letters. */
  readonly country?: string;
  /** `ST` */
  readonly province?: string;
  /** `L` */
  readonly locality?: string;
}

/** The subjectAltName entries of a certificate, by kind. */
export interface SubjectAltNames {
  /** Lower-case RFC 1123 subdomains; a leading `*.` makes a wildcard. */
  readonly dnsNames?: string[];
  /** IPv4 or IPv6 literals. */
  readonly ipAddresses?: string[];
  /** Absolute URIs (SPIFFE IDs, say). */
  readonly uris?: string[];
  /** rfc822Name entries. */
  readonly emails?: string[];
}

/** The keyUsage bits by their RFC 5280 names. */
export const KEY_USAGES = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
] as const;
/** One keyUsage bit. */
export type KeyUsageName = (typeof KEY_USAGES)[number];

/** The extendedKeyUsage purposes this project names, and their OIDs. */
export const EXTENDED_KEY_USAGE_OIDS = {
  /** TLS server. */
  serverAuth: '1.3.6.1.5.5.7.3.1',
  /** TLS client (Kubernetes client certificates). */
  clientAuth: '1.3.6.1.5.5.7.3.2',
  /** Code signing. */
  codeSigning: '1.3.6.1.5.5.7.3.3',
  /** S/MIME. */
  emailProtection: '1.3.6.1.5.5.7.3.4',
  /** Time stamping. */
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** OCSP response signing. */
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;
/** One extendedKeyUsage purpose. */
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGE_OIDS;

/** Name constraints a CA puts on everything below it (RFC 5280 §4.2.1.10). */
export interface NameConstraintsSpec {
  /** DNS suffixes names must fall under (`cluster.local` admits `a.cluster.local`). */
  readonly permittedDnsDomains?: string[];
  /** DNS suffixes names may not fall under. */
  readonly excludedDnsDomains?: string[];
  /** CIDR ranges IP SANs must fall in. */
  readonly permittedIpRanges?: string[];
  /** CIDR ranges IP SANs may not fall in. */
  readonly excludedIpRanges?: string[];
}

/** What makes a certificate a CA: basicConstraints cA, its path length and name constraints. */
export interface CaSpec {
  /** How many intermediate CAs may follow this one; absent = unlimited (as kubeadm's CAs). */
  readonly pathLength?: number;
  /** Name constraints on everything below it. @default - none */
  readonly nameConstraints?: NameConstraintsSpec;
}

/** Everything that decides a certificate's content, apart from its key, issuer and issuing time. */
export interface CertificateSpec {
  /** The subject. */
  readonly subject: DistinguishedName;
  /** The subjectAltName entries. @default - none */
  readonly sans?: SubjectAltNames;
  /**
   * @default CAs: digitalSignature, keyCertSign, cRLSign. Leaves: digitalSignature, plus keyEncipherment
   * for RSA keys (an ECDSA or Ed25519 key cannot encipher).
   */
  readonly keyUsage?: KeyUsageName[];
  /** The extendedKeyUsage purposes. @default - none (the extension is left out) */
  readonly extendedKeyUsage?: ExtendedKeyUsageName[];
  /** Present for a CA certificate. */
  readonly ca?: CaSpec;
  /** notAfter − issuing time, in seconds (notBefore is backdated a further 5 minutes). */
  readonly validitySeconds: number;
}

/** Turns ajv's JSON-pointer paths into the dotted form users write (`/sans/ipAddresses/2` → `sans.ipAddresses[2]`). */
export function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describeAjvError(error: ErrorObject, data: unknown, quoteValues: boolean): SpecError {
  let field = fieldOf(error.instancePath);
  const value = error.instancePath.split('/').slice(1).reduce<any>((v, k) => v?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], data);
  let reason = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    field = field ? `${field}.${extra}` : extra;
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    reason = `is not a known field${known.length ? ` (known: ${known.join(', ')})` : ''}`;
  } else if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    field = field ? `${field}.${missing}` : missing;
    reason = 'is required';
  } else if (!quoteValues) {
    // The value may be a secret (a state record's key or token): only the field and the rule are said.
  } else if (error.keyword === 'format' && typeof value === 'string' && isIpAddress(value.split('%')[0]) && value.includes('%')) {
    reason = `${JSON.stringify(value)} has a zone ID, which no certificate can carry: write the bare address`;
  } else if (error.keyword === 'format' && typeof value === 'string' && controlCharacterIndex(value) >= 0) {
    reason = `${JSON.stringify(value)} holds the control character U+${value.charCodeAt(controlCharacterIndex(value)).toString(16).toUpperCase().padStart(4, '0')}`;
  } else if (error.keyword === 'format' && typeof value === 'string' && hostBitsReason(value)) {
    reason = hostBitsReason(value)!;
  } else if (error.keyword === 'format') {
    reason = `${JSON.stringify(value)} is not a valid ${FORMAT_NAMES[(error.params as { format: string }).format] ?? 'value'}`;
  } else if (error.keyword === 'enum') {
    reason = `${JSON.stringify(value)} is not one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (error.keyword === 'const') {
    reason = `${JSON.stringify(value)} is not ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  } else {
    reason = `${reason} (got ${JSON.stringify(value) ?? String(value)})`;
  }
  return new SpecError(field, reason);
}

const FORMAT_NAMES: Record<string, string> = {
  'ip': 'IPv4 or IPv6 address',
  'cidr': 'CIDR range (address/prefix)',
  'dns-name': 'DNS name (lower-case RFC 1123, optional leading "*.", not ending in a number)',
  'dns-domain': 'DNS domain (lower-case RFC 1123, not ending in a number)',
  'uri': 'absolute URI',
  'email': 'email address',
  'subject-text': 'subject value (not blank)',
  'country': 'country code (two capital letters, ISO 3166-1 alpha-2)',
  'network-cidr': 'CIDR range (address/prefix)',
};

/** ajv's own words for what only wraps other errors: said only when nothing more specific was found at that place. */
const WRAPPERS = new Set(['anyOf', 'oneOf', 'if']);

/**
 * Checks data against a compiled JSON Schema, throwing a SpecError that names the field of every error (one per
 * field: a bad value inside a field beats "must match a schema in anyOf").
 * The schema is the contract for input that arrives as data (YAML, JSON, props from JavaScript). Messages quote
 * the offending value unless `quoteValues` is false (data that may hold secrets).
 */
export function checkSchema<T>(validate: SchemaValidator, data: unknown, options: { quoteValues?: boolean } = {}): T {
  if (!validate(data)) {
    const errors = validate.errors ?? [];
    const specific = errors.filter((e) => !WRAPPERS.has(e.keyword));
    // anyOf of formats: each branch fails with its own format error; one "format" line says it best.
    const byField = new Map<string, { error: SpecError; order: number }>();
    for (const error of [...specific.filter((e) => e.keyword === 'format'), ...specific.filter((e) => e.keyword !== 'format'), ...errors]) {
      const described = describeAjvError(error, data, options.quoteValues ?? true);
      const place = error.keyword === 'additionalProperties' || error.keyword === 'required' ? described.field : fieldOf(error.instancePath);
      const covered = [...byField.keys()].some((f) => f === place || f.startsWith(`${place}.`) || f.startsWith(`${place}[`));
      if (!byField.has(place) && !(covered && WRAPPERS.has(error.keyword))) byField.set(place, { error: described, order: errors.indexOf(error) });
    }
    const found = [...byField.values()].sort((a, b) => a.order - b.order).map((e) => e.error);
    throw found.length ? SpecError.all(found) : new SpecError('', 'is invalid');
  }
  return data as T;
}

/** A JSON Schema's validator as ajv makes them: whether `data` passes, and the errors of the last call. */
export interface SchemaValidator {
  (data: unknown): boolean;
  /** ajv's errors of the last call, when it returned false. */
  errors?: ErrorObject[] | null;
}

/**
 * `schema`'s validator; `references` are the schemas its `$ref`s name by `$id`. Nothing is compiled until the
 * first check (a module declaring its schema costs nothing to load), and then the build's validator is taken
 * when there is one.
 */
export function compileSchema(schema: object, references: { $id: string }[] = []): SchemaValidator {
  let compiled: SchemaValidator | undefined;
  const validate: SchemaValidator = (data) => {
    compiled ??= loadValidator(schema, references);
    const valid = compiled(data);
    validate.errors = compiled.errors;
    return valid;
  };
  return validate;
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

/**
 * What a prop holds, as checkKnownProps checks it before anything reads it: a JavaScript type, or an object of this
 * library known by a member it has (`{ has: 'issue', what: 'a ClusterCA' }`).
 */
export type PropKind =
  | 'string'
  | 'strings'
  | 'number'
  | 'boolean'
  | 'object'
  | 'objects'
  | 'duration'
  | 'number-or-duration'
  | 'date-or-string'
  | 'string-or-object'
  | 'object-or-false'
  | 'boolean-or-object'
  | {
      /** The member such an object has. */
      readonly has: string;
      /** What the error calls it (`a ClusterCA`). */
      readonly what: string;
    };

/** Every prop of `T` with its kind (the type keeps the list complete). */
export type PropNames<T> = { readonly [K in keyof Required<T>]: PropKind };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDuration = (v: unknown) => isObject(v) && typeof v.toMilliseconds === 'function';
const KIND_CHECKS: Record<Exclude<PropKind, object>, [(v: unknown) => boolean, string]> = {
  'string': [(v) => typeof v === 'string', 'a string'],
  'strings': [(v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'a list of strings'],
  'number': [(v) => typeof v === 'number' && Number.isFinite(v), 'a finite number'],
  'boolean': [(v) => typeof v === 'boolean', 'true or false'],
  'object': [isObject, 'an object'],
  'objects': [(v) => Array.isArray(v) && v.every(isObject), 'a list of objects'],
  'duration': [isDuration, 'a Duration such as Duration.hours(24)'],
  'number-or-duration': [(v) => (typeof v === 'number' && Number.isFinite(v)) || isDuration(v), 'a number of seconds or a Duration'],
  'date-or-string': [(v) => v instanceof Date || typeof v === 'string', 'a Date or an RFC 3339 string'],
  'string-or-object': [(v) => typeof v === 'string' || isObject(v), 'a string or an object'],
  'object-or-false': [(v) => v === false || isObject(v), 'an object or false'],
  'boolean-or-object': [(v) => typeof v === 'boolean' || isObject(v), 'true, false or an object'],
};

/**
 * Refuses props that are not an object, prop names the construct does not know (`commonNmae`) and values of the
 * wrong kind (`dnsNames: "a.example"`): TypeScript catches those, but props from JavaScript or from JSON would
 * otherwise be ignored without a word, or fail with a TypeError deep inside.
 */
export function checkKnownProps<T extends object>(props: T | undefined, known: PropNames<T>, field = ''): void {
  if (props === undefined) return;
  if (!isObject(props)) throw new SpecError(field, `props must be an object (got ${JSON.stringify(props) ?? String(props)})`);
  const named = (name: string) => (field ? `${field}.${name}` : name);
  SpecError.throwIfAny(
    Object.entries(props).flatMap(([name, value]) => {
      if (!Object.hasOwn(known, name)) return [new SpecError(named(name), `is not a known prop (known: ${Object.keys(known).join(', ')})`)];
      if (value === undefined) return [];
      const kind = (known as Record<string, PropKind>)[name];
      const items: unknown[] = kind === 'strings' && Array.isArray(value) ? value : [];
      const notString = items.findIndex((x) => typeof x !== 'string');
      if (notString >= 0) return [new SpecError(`${named(name)}[${notString}]`, `must be a string (got ${describeValue(items[notString])})`)];
      const [ok, what] = typeof kind === 'object' ? [isObject(value) && value[kind.has] !== undefined, kind.what] : [KIND_CHECKS[kind][0](value), KIND_CHECKS[kind][1]];
      return ok ? [] : [new SpecError(named(name), `must be ${what} (got ${describeValue(value)})`)];
    }),
  );
}

function describeValue(value: unknown): string {
  if (isObject(value) && value.constructor !== Object) return `a ${value.constructor?.name ?? 'object'}`;
  return JSON.stringify(value) ?? String(value);
}
