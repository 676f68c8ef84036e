/**
 * The records of the PKI state, their file names, and their schemas. Every record is checked against its
 * schema when read and before it is written, and a record that fails says which file and which field, never
 * what the file holds (a secret record holds a token).
 */
import { CertificateDescription, rememberDescription } from '../engine/annotations';
import { StateError } from '../engine/errors';
import { sha256Hex } from '../engine/pem';
import { KeyAlgorithm } from '../engine/keys';
import { checkSchema, compileSchema } from '../engine/spec';
import { Certificate } from '../engine/x509';
import type { RotationPhase, ShownPhase } from './rotation-policy';
import certificateRecordSchema from './schemas/certificate-record.schema.json';
import keyRecordSchema from './schemas/key-record.schema.json';
import rotationRecordSchema from './schemas/rotation-record.schema.json';
import secretRecordSchema from './schemas/secret-record.schema.json';

/** One issued certificate: which key generation it certifies, the spec it was issued for, the chain above it. */
export interface CertificateRecord {
  readonly version: 1;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly keyGeneration: number;
  /** SHA-256 of the normalized spec, key algorithm and issuer: what decides re-issuing. */
  readonly specHash: string;
  /** The normalized spec itself, so a change can be named field by field. Absent in records of older versions. */
  readonly spec?: object;
  /** SHA-256 fingerprint of the issuer's certificate, or `self`. Absent in records of older versions. */
  readonly issuer?: string;
  readonly certificate: string;
  readonly chain: string[];
  readonly issuedAt: string;
  readonly reasons: string[];
  readonly seeded?: boolean;
  readonly renewalRequested?: boolean;
  readonly keyRotationRequested?: boolean;
  /**
   * Written at issuance, absent in records of older versions: the certificate's notAfter, what its reviewer
   * annotations say of it, the SHA-256 (hex) of the key file's plaintext, and `materialSha256` over those and the
   * PEMs. While that digest holds, a synth keeps the certificate without parsing it or loading its key.
   */
  readonly notAfter?: string;
  readonly description?: Readonly<Record<string, string>>;
  readonly keySha256?: string;
  readonly materialSha256?: string;
}

/** A bare key pair (no certificate): the generation in use and its public key's digest. */
export interface KeyRecord {
  readonly version: 1;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly keyGeneration: number;
  /** SHA-256 (hex) of the public key's SubjectPublicKeyInfo DER. */
  readonly publicKeySha256: string;
  readonly createdAt: string;
  readonly seeded?: boolean;
  readonly rotationRequested?: boolean;
}

/** A secret string (a bootstrap token). */
export interface SecretRecord {
  readonly version: 1;
  readonly value: string;
  readonly generation: number;
  readonly createdAt: string;
  /** When the value stops being accepted (ISO 8601); absent: never, or recorded before expirations were. */
  readonly expiresAt?: string;
  readonly given: boolean;
  readonly seeded?: boolean;
  readonly rotationRequested?: boolean;
}

/** The rotations of a CA or bare-key slot (`<slot>/rotation.json`); see rotation.ts. */
export interface RotationRecord {
  readonly version: 1;
  /** What the slot holds: `certificate` (a CA: embedded certificate records) or `key` (embedded key records). */
  readonly kind: 'certificate' | 'key';
  readonly id: string;
  readonly phase: RotationPhase | 'rolled-back';
  /**
   * While a rotation is in progress, both CAs (or keys): the outgoing one signs in trust-both, the incoming one
   * in issue-from-new. certificate.json (key.json) holds a copy of the signing one; this record is what decides.
   */
  readonly outgoing?: CertificateRecord | KeyRecord;
  readonly incoming?: CertificateRecord | KeyRecord;
  readonly archived: readonly { readonly rotation: string; readonly why: 'dropped' | 'rolled back'; readonly at: string; readonly record: CertificateRecord | KeyRecord }[];
  readonly history: readonly { readonly rotation: string; readonly from: ShownPhase; readonly to: ShownPhase; readonly at: string }[];
}

const SLOT = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/;

/** True for a path-like state name (`cluster/kubernetes-ca`): letters, digits, `-_.`, `/` between segments. */
export function isStateName(name: string): boolean {
  return SLOT.test(name);
}

/** Written first by a commit and removed last: the names it writes, so the next synth can tell a crash from a deletion. */
export const COMMIT_JOURNAL = '.commit.json';
export const certificateRecordName = (slot: string) => `${slot}/certificate.json`;
export const keyRecordName = (slot: string) => `${slot}/key.json`;
export const secretRecordName = (slot: string) => `${slot}/secret.json`;
export const rotationRecordName = (slot: string) => `${slot}/rotation.json`;
export const keyFileName = (slot: string, generation: number) => `${slot}/key-${generation}.pem`;
/** True for a private key's entry (`<slot>/key-<n>.pem`), which is written once and never replaced. */
export const isKeyFileName = (name: string) => /(^|\/)key-[^/]*\.pem$/.test(name);
export const documentFileName = (name: string) => `${name}.doc.json`;

/** The generation of a key file name of `slot`, or undefined when `name` is not one. */
export function keyGenerationOf(slot: string, name: string): number | undefined {
  const prefix = `${slot}/key-`;
  if (!name.startsWith(prefix) || !name.endsWith('.pem')) return undefined;
  const digits = name.slice(prefix.length, -'.pem'.length);
  return /^[1-9]\d*$/.test(digits) ? Number(digits) : undefined;
}

const validators = {
  certificate: compileSchema(certificateRecordSchema),
  key: compileSchema(keyRecordSchema),
  secret: compileSchema(secretRecordSchema),
  rotation: compileSchema(rotationRecordSchema),
};
type RecordKind = keyof typeof validators;
interface RecordOf {
  certificate: CertificateRecord;
  key: KeyRecord;
  secret: SecretRecord;
  rotation: RotationRecord;
}

const RECORD_ADVICE = 'restore it from a backup — synth never replaces it on its own';

/**
 * The JSON in `data`; `file` names it in the error. JSON.parse's own message quotes the text around the fault,
 * which in a secret record is the token, so it is never passed on.
 */
export function parseJson(data: Buffer, file: string, advice = RECORD_ADVICE): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    throw new StateError(`${file} is corrupt (not valid JSON); ${advice}`);
  }
}


/** A record read from `file`, checked against its schema (and, for a certificate, its PEMs parsed unless its digest holds). */
export function parseRecord<K extends RecordKind>(kind: K, data: Buffer, file: string): RecordOf[K] {
  const known = records.get(data);
  if (known?.kind === kind) return known.record as RecordOf[K];
  const record = checkRecord(kind, parseJson(data, file), file);
  records.set(data, { kind, record });
  if (kind === 'certificate') {
    const certificate = record as CertificateRecord;
    // A record whose digest holds gets its certificates when something asks for them (certificatesOf).
    if (holdsDigest(certificate)) return record;
    try {
      parsed.set(certificate, {
        certificate: Certificate.fromPem(certificate.certificate, 'certificate'),
        chain: certificate.chain.map((pem, i) => Certificate.fromPem(pem, `chain[${i}]`)),
        verified: false,
      });
    } catch (err) {
      throw new StateError(`${file} is corrupt (${(err as Error).message}); ${RECORD_ADVICE}`);
    }
  }
  return record;
}

/** Records by the bytes they were parsed from (the transaction hands out the same bytes for one entry). */
const records = new WeakMap<Buffer, { kind: RecordKind; record: unknown }>();

/**
 * Certificates once per record read, and whether the record's digest holds (then they are parsed only if a
 * field other than the PEM is asked for: parsing was most of what a synth that changes nothing cost).
 */
const parsed = new WeakMap<CertificateRecord, { certificate: Certificate; chain: Certificate[]; verified: boolean }>();

/**
 * One Certificate per PEM of verified records: every leaf's chain holds its CA, and whatever a CA works out
 * once (is it self-signed, its subject) then serves them all. Bounded, as a long-lived process may open many states.
 */
const trustedCertificates = new Map<string, Certificate>();
const MAX_TRUSTED_CERTIFICATES = 50_000;

function trustedCertificate(pem: string): Certificate {
  let certificate = trustedCertificates.get(pem);
  if (!certificate) {
    if (trustedCertificates.size >= MAX_TRUSTED_CERTIFICATES) trustedCertificates.clear();
    certificate = Certificate.fromTrustedPem(pem);
    trustedCertificates.set(pem, certificate);
  }
  return certificate;
}

/** The digest over what a synth trusts of a record without parsing it: the PEMs, the key file's digest, notAfter and the description. */
export function materialDigest(record: Pick<CertificateRecord, 'certificate' | 'chain' | 'keySha256' | 'notAfter' | 'description'>): string {
  return sha256Hex(Buffer.from(JSON.stringify([record.certificate, record.chain, record.keySha256 ?? null, record.notAfter ?? null, record.description ?? null])));
}

const digestChecked = new WeakMap<CertificateRecord, boolean>();

function holdsDigest(record: CertificateRecord): boolean {
  let holds = digestChecked.get(record);
  if (holds === undefined) {
    holds = record.materialSha256 !== undefined && record.keySha256 !== undefined && record.notAfter !== undefined && record.materialSha256 === materialDigest(record);
    digestChecked.set(record, holds);
  }
  return holds;
}

/** The certificate and chain of `record`: parsed when first used, unless its digest holds. */
export function certificatesOf(record: CertificateRecord): { certificate: Certificate; chain: Certificate[] } {
  let certificates = parsed.get(record);
  if (!certificates) {
    if (holdsDigest(record)) {
      certificates = { certificate: trustedCertificate(record.certificate), chain: record.chain.map(trustedCertificate), verified: true };
      // Annotating the kept certificate then parses nothing either.
      if (record.description) rememberDescription(certificates.certificate.fingerprintSha256, record.description as CertificateDescription);
    } else {
      certificates = { certificate: Certificate.fromPem(record.certificate), chain: record.chain.map((pem) => Certificate.fromPem(pem)), verified: false };
    }
    parsed.set(record, certificates);
  }
  return certificates;
}

/** True when `record` was written with its digest and still matches it: its certificate, chain and key file are as issued. */
export function isVerifiedRecord(record: CertificateRecord): boolean {
  return parsed.get(record)?.verified ?? holdsDigest(record);
}

/** The recorded certificate's notAfter: as recorded when the digest holds, else parsed from the certificate. */
export function recordNotAfter(record: CertificateRecord): Date {
  return isVerifiedRecord(record) ? new Date(record.notAfter!) : certificatesOf(record).certificate.notAfter;
}

/** The bytes of `record`, after checking it against its schema (a bug here must not reach the disk). */
export function serializeRecord<K extends RecordKind>(kind: K, record: RecordOf[K], file: string): Buffer {
  checkRecord(kind, JSON.parse(JSON.stringify(record)), file);
  return Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
}

/** `value` checked as a record of `kind` (a record embedded in another, as rotation.json embeds the CA's). */
export function checkRecord<K extends RecordKind>(kind: K, value: unknown, file: string): RecordOf[K] {
  try {
    return checkSchema<RecordOf[K]>(validators[kind], value, { quoteValues: false });
  } catch (err) {
    // The schemas use no `format`, whose message would quote the value: only the field and the rule are said.
    throw new StateError(`${file} is corrupt (${(err as Error).message}); ${RECORD_ADVICE}`);
  }
}
