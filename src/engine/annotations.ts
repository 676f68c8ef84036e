/**
 * Reviewer annotations: what every certificate an object carries says of itself, as metadata a pull request's
 * diff shows even where the data does not (base64 in a Secret, ciphertext in a SealedSecret, a path in a static
 * Pod). Modelled on cert-manager's `cert-manager.io/*` Secret annotations, with each value as openssl prints it,
 * so that a reviewer can compare with `openssl x509 -noout -subject -nameopt RFC2253 -serial -fingerprint -sha256
 * -ext subjectAltName -dates` on the file.
 *
 * Keys: `pki.cdk8s.io/<label>.<field>`. The label names where the certificate sits in the object (the data key or
 * file name without `.crt`/`.pem`, other characters than letters, digits and `-` as `-`: `tls.crt` → `tls`,
 * `pki/etcd/ca.crt` → `etcd-ca`); the n-th certificate of a bundle (n ≥ 2) is `<label>.<n>`. Every object uses the
 * labels, also with one certificate, so a key never changes meaning when a chain grows.
 */
import { rfc3339Utc } from './time';
import * as crypto from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import * as der from './der';
import { pemBlocks, sha256Hex } from './pem';
import { Certificate, locateTbs, toBuffer } from './x509';

export const ANNOTATION_PREFIX = 'pki.cdk8s.io/';

/** The fields annotated per certificate, in the order they are written. */
export const CERTIFICATE_FIELDS = ['subject', 'sans', 'issuer', 'serial', 'not-before', 'not-after', 'sha256-fingerprint'] as const;
export type CertificateField = (typeof CERTIFICATE_FIELDS)[number];

/** Room a label leaves in the 63 characters of an annotation name: `.<index up to 999>.sha256-fingerprint`. */
const MAX_LABEL = 63 - '.999.'.length - 'sha256-fingerprint'.length;

/** Certificates an object carries under one label: a PEM file or data value, possibly a bundle. */
export interface CarriedCertificates {
  /** A data key or file name (`tls.crt`, `etcd/ca.crt`, `controller-manager.conf`); see `certificateLabel`. */
  readonly name: string;
  /** PEM text; blocks other than CERTIFICATE are ignored. */
  readonly pem: string;
}

/**
 * The label of a data key or file name: without a `.crt`/`.pem` extension, every character outside
 * [A-Za-z0-9-] as `-`, trimmed to what an annotation name allows (at most 63 characters, alphanumeric at both ends).
 */
export function certificateLabel(name: string): string {
  const label = name
    .replace(/\.(crt|pem)$/, '')
    .replace(/[^A-Za-z0-9-]/g, '-')
    .slice(0, MAX_LABEL)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return label || 'certificate';
}

/** Whether `text` holds a PEM certificate (a data value worth annotating). */
export function holdsCertificate(text: string): boolean {
  return pemBlocks(text).some((block) => block.label === 'CERTIFICATE');
}

/**
 * The annotations of every certificate in `carried`, in its order, fields in CERTIFICATE_FIELDS order (`sans`
 * only when the certificate has a subjectAltName). Pure: the same certificates give the same annotations.
 */
export function certificateAnnotations(carried: readonly CarriedCertificates[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const { name, pem } of carried) {
    const label = certificateLabel(name);
    const certificates = pemBlocks(pem).filter((block) => block.label === 'CERTIFICATE');
    certificates.forEach((block, i) => {
      // A certificate described before is not parsed again (nor checked: it was, when first described).
      const described = descriptions.get(sha256Hex(block.der)) ?? describeCertificate(Certificate.fromDer(block.der, name));
      for (const field of CERTIFICATE_FIELDS) {
        const value = described[field];
        if (value !== undefined) annotations[`${ANNOTATION_PREFIX}${label}${i === 0 ? '' : `.${i + 1}`}.${field}`] = value;
      }
    });
  }
  return annotations;
}

/** What `describeCertificate` returns: every field but `sans` (absent without a subjectAltName). */
export type CertificateDescription = Partial<Record<CertificateField, string>> & Record<Exclude<CertificateField, 'sans'>, string>;

/** Descriptions by SHA-256 fingerprint: a description is a function of the DER alone. */
const descriptions = new Map<string, CertificateDescription>();

/**
 * Seeds the memo of `describeCertificate` with a description recorded when the certificate of fingerprint
 * `fingerprintSha256` (lower-case hex) was issued, so that annotating a kept certificate parses nothing.
 * The caller vouches for the pairing (the state checks the record's digest first).
 */
export function rememberDescription(fingerprintSha256: string, description: CertificateDescription): void {
  descriptions.set(fingerprintSha256, Object.freeze({ ...description }));
}

/**
 * One certificate's fields as annotated: subject and issuer in RFC 4514 (as `-nameopt RFC2253`), SANs, serial and
 * fingerprint as openssl prints them (node:crypto's X509Certificate is OpenSSL's printer), dates RFC 3339 UTC.
 * Memoized by fingerprint; the object returned is frozen.
 */
export function describeCertificate(certificate: Certificate): CertificateDescription {
  const fingerprint = certificate.fingerprintSha256;
  let description = descriptions.get(fingerprint);
  if (!description) {
    const printed = new crypto.X509Certificate(certificate.der);
    // The names are located in the DER rather than read through a parse of the whole certificate.
    const tbs = locateTbs(certificate.der);
    description = Object.freeze({
      'subject': rfc4514(der.encoding(certificate.der, tbs.field('subject'))),
      ...(printed.subjectAltName ? { sans: printed.subjectAltName } : {}),
      'issuer': rfc4514(der.encoding(certificate.der, tbs.field('issuer'))),
      'serial': printed.serialNumber.toUpperCase(),
      'not-before': rfc3339Utc(certificate.notBefore),
      'not-after': rfc3339Utc(certificate.notAfter),
      'sha256-fingerprint': printed.fingerprint256,
    });
    descriptions.set(fingerprint, description);
  }
  return description;
}

/** RFC 4514 §3's short names; any other attribute is written as its OID with the DER value in hex. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/**
 * A DER Name as RFC 4514 writes it: the last RDN first, RDNs joined by `,`, the values of a multi-valued RDN by
 * `+` (also last first, as openssl's `-nameopt RFC2253` prints them: RFC 4514 leaves their order open). Values are
 * escaped as §2.4 asks (and control characters as `\XX`); other characters stay UTF-8, as Go's pkix.Name.String()
 * keeps them (openssl's RFC2253 option escapes them as bytes).
 */
export function rfc4514(nameDer: Buffer): string {
  // Every leaf names its CA as issuer: each distinct name is parsed once.
  const key = nameDer.toString('base64');
  let text = printedNames.get(key);
  if (text === undefined) printedNames.set(key, (text = printName(nameDer)));
  return text;
}

const printedNames = new Map<string, string>();

function printName(nameDer: Buffer): string {
  const name = AsnConvert.parse(nameDer, asn.Name);
  return [...name]
    .reverse()
    .map((rdn) =>
      [...rdn]
        .reverse()
        .map((atv) => {
          const short = SHORT_NAMES[atv.type];
          return short ? `${short}=${escapeValue(atv.value.toString())}` : `${atv.type}=#${toBuffer(AsnConvert.serialize(atv.value)).toString('hex')}`;
        })
        .join('+'),
    )
    .join(',');
}

function escapeValue(value: string): string {
  return value
    .replace(/[\\"+,;<>]/g, '\\$&')
    .replace(/^[ #]/, '\\$&')
    .replace(/ $/, '\\ ')
    // eslint-disable-next-line no-control-regex -- control characters are what this line escapes
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
