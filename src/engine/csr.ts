import * as crypto from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asnCsr from '@peculiar/asn1-csr';
import * as asn from '@peculiar/asn1-x509';
import * as der from './der';
import { SpecError } from './errors';
import { checkSignatureAlgorithm, keyAlgorithmOf, sign, signatureSchemeFor, spkiDer, verify } from './keys';
import { pemBlocks, toPem } from './pem';
import { CertificateSpec, DistinguishedName, SubjectAltNames, validateCertificateSpec } from './spec';
import { algorithmIdentifier, Certificate, decodeName, encodeName, issueCertificate, IssueOptions, sansOf, Signer, subjectAltNameExtension, toBuffer } from './x509';

/** PKCS#9 extensionRequest: how a CSR carries the SANs it asks for. */
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** A parsed PKCS#10 certificate signing request. */
export class CertificateSigningRequest {
  /** The first request of a PEM text, parsed; a SpecError naming `field` when there is none or it does not parse. */
  static fromPem(pem: string, field = 'csrPem'): CertificateSigningRequest {
    const block = pemBlocks(pem).find((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
    if (!block) throw new SpecError(field, 'holds no PEM CERTIFICATE REQUEST block');
    let parsed: asnCsr.CertificationRequest;
    try {
      parsed = AsnConvert.parse(block.der, asnCsr.CertificationRequest);
    } catch (err) {
      throw new SpecError(field, `is not a PKCS#10 request (${(err as Error).message})`);
    }
    return new CertificateSigningRequest(block.der, parsed, field);
  }

  /** The request as one PEM block. */
  readonly pem: string;
  /** The public key the request asks to certify. */
  readonly publicKey: crypto.KeyObject;

  private constructor(
    /** The request's DER bytes. */
    readonly der: Buffer,
    private readonly asn1: asnCsr.CertificationRequest,
    field: string,
  ) {
    this.pem = toPem('CERTIFICATE REQUEST', der);
    const spki = toBuffer(AsnConvert.serialize(asn1.certificationRequestInfo.subjectPKInfo));
    try {
      this.publicKey = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch (err) {
      throw new SpecError(field, `carries an unreadable public key (${(err as Error).message})`);
    }
    keyAlgorithmOf(this.publicKey, `${field}.publicKey`);
  }

  /** The requested subject. */
  get subject(): DistinguishedName {
    return decodeName(this.asn1.certificationRequestInfo.subject);
  }

  /** The SANs of its extensionRequest attribute. */
  get sans(): SubjectAltNames {
    const request = this.asn1.certificationRequestInfo.attributes.find((a) => a.type === EXTENSION_REQUEST);
    if (!request) return {};
    return sansOf(AsnConvert.parse(request.values[0], asn.Extensions).find((e) => e.extnID === asn.id_ce_subjectAltName));
  }

  /** The OID of the algorithm its self-signature uses. */
  get signatureAlgorithmOid(): string {
    return this.asn1.signatureAlgorithm.algorithm;
  }

  /** True when the request was signed by the key it carries (PKCS#10 proof of possession). */
  get hasValidSignature(): boolean {
    const info = toBuffer(AsnConvert.serialize(this.asn1.certificationRequestInfo));
    return verify(info, toBuffer(this.asn1.signature), this.publicKey, this.asn1.signatureAlgorithm.algorithm);
  }
}

/**
 * Builds and signs a PKCS#10 request for `privateKey`, asking for `subject` and `sans`. With
 * `deterministicSignature`, the request is a pure function of key, subject and SANs (RFC 6979 for ECDSA):
 * what a request kept in a reviewed manifest needs, so that it changes only when its key or names do.
 */
export function createCsr(
  request: { subject: DistinguishedName; sans?: SubjectAltNames },
  privateKey: crypto.KeyObject,
  options: { deterministicSignature?: boolean } = {},
): CertificateSigningRequest {
  // The certificate rules apply: a request that no certificate could satisfy is refused here.
  validateCertificateSpec({ subject: request.subject, sans: request.sans, validitySeconds: 3600 });
  const san = subjectAltNameExtension(request.sans ?? {});
  // Attribute ::= SEQUENCE { type, values SET OF value }; the extensionRequest's value is a SEQUENCE OF Extension.
  const attributes = san ? [der.sequence(der.oid(EXTENSION_REQUEST), der.set(der.sequence(san)))] : [];
  const info = der.sequence(der.integer(0), encodeName(request.subject), spkiDer(privateKey), der.tlv(der.context(0, true), ...attributes));
  const signature = sign(info, privateKey, options.deterministicSignature);
  const csr = der.sequence(info, algorithmIdentifier(signatureSchemeFor(keyAlgorithmOf(privateKey))), der.bitString(signature));
  return CertificateSigningRequest.fromPem(toPem('CERTIFICATE REQUEST', csr));
}

/** What a signer decides when issuing from a CSR; subject and SANs default to the request's own. */
export type CsrProfile = Omit<CertificateSpec, 'subject' | 'sans'> & Partial<Pick<CertificateSpec, 'subject' | 'sans'>>;

/**
 * Issues a certificate for a CSR under a profile: the request supplies the key and (unless the profile
 * overrides them) the subject and SANs; usages and validity come from the profile only, as signers do.
 */
export function issueFromCsr(csr: CertificateSigningRequest, profile: CsrProfile, signer: Signer, now: Date, options: IssueOptions = {}): Certificate {
  checkSignatureAlgorithm(csr.signatureAlgorithmOid, 'csr');
  if (!csr.hasValidSignature) throw new SpecError('csr', 'the request is not signed by the key it carries');
  return issueCertificate({ ...profile, subject: profile.subject ?? csr.subject, sans: profile.sans ?? csr.sans }, csr.publicKey, signer, now, options);
}
