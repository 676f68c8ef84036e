import * as crypto from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import * as der from './der';
import { systemEntropy } from './entropy';
import { SpecError } from './errors';
import { keyAlgorithmOf, publicKeyOf, sign, SignatureScheme, signatureSchemeFor, spkiDer, verify } from './keys';
import { canonicalIp, ipToBytes, ipToString } from './names';
import { pemBlocks, sha256Hex, toPem } from './pem';
import {
  CertificateSpec,
  DistinguishedName,
  EXTENDED_KEY_USAGE_OIDS,
  ExtendedKeyUsageName,
  KeyUsageName,
  NameConstraintsSpec,
  SubjectAltNames,
  validateCertificateSpec,
} from './spec';

/** kubeadm backdates every certificate by five minutes (CertificateBackdate) to absorb clock skew. */
export const BACKDATE_SECONDS = 5 * 60;
/** The last instant X.509 can encode (RFC 5280 §4.1.2.5: GeneralizedTime, four-digit year). */
const MAX_X509_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

const OID = {
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  province: '2.5.4.8',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
} as const;

const KEY_USAGE_FLAGS: Record<KeyUsageName, number> = {
  digitalSignature: asn.KeyUsageFlags.digitalSignature,
  contentCommitment: asn.KeyUsageFlags.nonRepudiation,
  keyEncipherment: asn.KeyUsageFlags.keyEncipherment,
  dataEncipherment: asn.KeyUsageFlags.dataEncipherment,
  keyAgreement: asn.KeyUsageFlags.keyAgreement,
  keyCertSign: asn.KeyUsageFlags.keyCertSign,
  cRLSign: asn.KeyUsageFlags.cRLSign,
};

export function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

// ---------------------------------------------------------------------------------------------
// Names

/** DER Name: RDNs in the order OpenSSL and Go print them (C, ST, L, O, OU, CN), one attribute per RDN. */
export function encodeName(dn: DistinguishedName): Buffer {
  const rdn = (type: string, value: string, printable = false) =>
    der.set(der.sequence(der.oid(type), printable ? der.asciiString(der.TAG.printableString, value) : der.utf8String(value)));
  return der.sequence(
    ...(dn.country ? [rdn(OID.country, dn.country, true)] : []),
    ...(dn.province ? [rdn(OID.province, dn.province)] : []),
    ...(dn.locality ? [rdn(OID.locality, dn.locality)] : []),
    ...(dn.organizations ?? []).map((o) => rdn(OID.organization, o)),
    ...(dn.organizationalUnits ?? []).map((ou) => rdn(OID.organizationalUnit, ou)),
    rdn(OID.commonName, dn.commonName),
  );
}

export function decodeName(name: asn.Name): DistinguishedName {
  const values = (oid: string) => name.flatMap((rdn) => rdn.filter((atv) => atv.type === oid).map((atv) => atv.value.toString()));
  const optional = (list: string[]) => (list.length ? list : undefined);
  const dn: DistinguishedName = {
    commonName: values(OID.commonName)[0] ?? '',
    organizations: optional(values(OID.organization)),
    organizationalUnits: optional(values(OID.organizationalUnit)),
    country: values(OID.country)[0],
    province: values(OID.province)[0],
    locality: values(OID.locality)[0],
  };
  return Object.fromEntries(Object.entries(dn).filter(([, v]) => v !== undefined)) as unknown as DistinguishedName;
}

// ---------------------------------------------------------------------------------------------
// Subject alternative names (address bytes: names.ts)

export { canonicalIp };

function cidrToBytes(cidr: string): Buffer {
  const [address, prefix] = cidr.split('/');
  const bytes = ipToBytes(address);
  const mask = Buffer.alloc(bytes.length);
  for (let bit = 0; bit < Number(prefix); bit++) mask[bit >> 3] |= 0x80 >> (bit & 7);
  return Buffer.concat([bytes.map((b, i) => b & mask[i]) as Buffer, mask]);
}

function ipInRange(ip: Buffer, range: Buffer): boolean {
  if (range.length !== ip.length * 2) return false;
  return ip.every((b, i) => (b & range[ip.length + i]) === range[i]);
}

/** GeneralName choices (RFC 5280 §4.2.1.6), each an IMPLICIT primitive. */
const GENERAL_NAME = { rfc822Name: der.context(1, false), dNSName: der.context(2, false), uri: der.context(6, false), iPAddress: der.context(7, false) };

function encodeSans(sans: SubjectAltNames): Buffer[] {
  return [
    // Go's order: DNS, email, IP, URI.
    ...(sans.dnsNames ?? []).map((name) => der.asciiString(GENERAL_NAME.dNSName, name)),
    ...(sans.emails ?? []).map((email) => der.asciiString(GENERAL_NAME.rfc822Name, email)),
    ...(sans.ipAddresses ?? []).map((ip) => der.tlv(GENERAL_NAME.iPAddress, ipToBytes(ip))),
    ...(sans.uris ?? []).map((uri) => der.asciiString(GENERAL_NAME.uri, uri)),
  ];
}

function rawGeneralNameBytes(name: asn.GeneralName): Buffer {
  // The DER of an iPAddress GeneralName is [0x87, length, ...bytes].
  return toBuffer(AsnConvert.serialize(name)).subarray(2);
}

/** The DER subjectAltName extension for `sans`, or undefined when there are none. */
export function subjectAltNameExtension(sans: SubjectAltNames): Buffer | undefined {
  const names = encodeSans(sans);
  return names.length ? extension(asn.id_ce_subjectAltName, false, der.sequence(...names)) : undefined;
}

/** The SANs of a subjectAltName extension (from a certificate or a CSR's extensionRequest). */
export function sansOf(san: asn.Extension | undefined): SubjectAltNames {
  if (!san) return {};
  const names = Array.from(AsnConvert.parse(san.extnValue, asn.SubjectAlternativeName));
  const sans = {
    dnsNames: names.filter((n) => n.dNSName !== undefined).map((n) => n.dNSName!),
    ipAddresses: names.filter((n) => n.iPAddress !== undefined).map((n) => ipToString(rawGeneralNameBytes(n))),
    uris: names.filter((n) => n.uniformResourceIdentifier !== undefined).map((n) => n.uniformResourceIdentifier!),
    emails: names.filter((n) => n.rfc822Name !== undefined).map((n) => n.rfc822Name!),
  };
  return Object.fromEntries(Object.entries(sans).filter(([, v]) => v.length)) as SubjectAltNames;
}

// ---------------------------------------------------------------------------------------------
// Extensions

/** DER Extension; `critical` is written only when true (DER leaves out a DEFAULT FALSE). */
export function extension(extnID: string, critical: boolean, valueDer: Buffer): Buffer {
  return der.sequence(der.oid(extnID), ...(critical ? [der.boolean(true)] : []), der.octetString(valueDer));
}

/** RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits (no SHA-1 anywhere). */
export function keyIdentifier(publicKey: crypto.KeyObject): Buffer {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }; the bits follow the unused-bits octet.
  const spki = spkiDer(publicKey);
  const bits = der.children(spki, der.readTlv(spki))[1];
  return crypto.createHash('sha256').update(spki.subarray(bits.start + 1, bits.end)).digest().subarray(0, 20);
}

function defaultKeyUsage(spec: CertificateSpec, subjectKey: crypto.KeyObject): KeyUsageName[] {
  if (spec.ca) return ['digitalSignature', 'keyCertSign', 'cRLSign'];
  return keyAlgorithmOf(subjectKey).startsWith('rsa-') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

function nameConstraintsExtension(nc: NameConstraintsSpec): Buffer {
  // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum DEFAULT 0, maximum OPTIONAL }: the base alone.
  const subtrees = (tag: number, dns: string[] = [], ips: string[] = []) =>
    dns.length + ips.length === 0
      ? []
      : [
          der.tlv(
            tag,
            ...dns.map((name) => der.sequence(der.asciiString(GENERAL_NAME.dNSName, name))),
            ...ips.map((cidr) => der.sequence(der.tlv(GENERAL_NAME.iPAddress, cidrToBytes(cidr)))),
          ),
        ];
  return extension(
    asn.id_ce_nameConstraints,
    true,
    der.sequence(
      ...subtrees(der.context(0, true), nc.permittedDnsDomains, nc.permittedIpRanges),
      ...subtrees(der.context(1, true), nc.excludedDnsDomains, nc.excludedIpRanges),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Certificate: an immutable view of one DER certificate, parsed on first use

/** An X.509 certificate: its DER bytes and the fields this project reads from them. */
export class Certificate {
  /** The first certificate of a PEM text, parsed at once; a SpecError naming `field` when there is none or it is not one. */
  static fromPem(pem: string, field = 'certificatePem'): Certificate {
    const blocks = pemBlocks(pem).filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length === 0) throw new SpecError(field, 'holds no PEM CERTIFICATE block');
    return Certificate.fromDer(blocks[0].der, field);
  }

  /** Every certificate in a PEM bundle, in order. */
  static allFromPem(pem: string, field = 'certificatePem'): Certificate[] {
    const blocks = pemBlocks(pem).filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length === 0) throw new SpecError(field, 'holds no PEM CERTIFICATE block');
    return blocks.map((b, i) => Certificate.fromDer(b.der, `${field}[${i}]`));
  }

  /** Parsed at once, so that bytes that are no certificate are refused here, naming `field`. */
  static fromDer(der: Buffer, field = 'certificate'): Certificate {
    const certificate = new Certificate(der);
    try {
      certificate.parsed();
      void certificate.publicKey;
    } catch (err) {
      throw new SpecError(field, `is not a DER X.509 certificate (${(err as Error).message})`);
    }
    return certificate;
  }

  /**
   * Parsed when a field other than the bytes is first read: for DER the state has verified by its digest, or that
   * issueCertificate has just encoded. A synth that keeps a certificate only copies its PEM, and ASN.1 parsing
   * was most of what such a synth cost.
   */
  static fromTrustedDer(der: Buffer): Certificate {
    return new Certificate(der);
  }

  /** The first certificate of a PEM text the state has verified, parsed when first read (as `fromTrustedDer`). */
  static fromTrustedPem(pem: string): Certificate {
    const block = pemBlocks(pem).find((b) => b.label === 'CERTIFICATE');
    if (!block) throw new SpecError('certificatePem', 'holds no PEM CERTIFICATE block');
    return new Certificate(block.der, pem);
  }

  private parsedAsn1?: { readonly asn1: asn.Certificate; readonly extensions: Map<string, asn.Extension> };
  private pemText?: string;
  private publicKeyObject?: crypto.KeyObject;
  private fingerprint?: string;
  // Encoded once: reports and CA constructs ask for these again and again, and each encoding cost a schema walk.
  private encoded: { subject?: Buffer; issuer?: Buffer; spki?: Buffer; selfSigned?: boolean; notBefore?: Date; notAfter?: Date } = {};

  private constructor(
    /** The certificate's DER bytes, as issued or brought. */
    readonly der: Buffer,
    pem?: string,
  ) {
    // Only the canonical encoding of `der` is kept as given: anything else is encoded again when asked for.
    this.pemText = pem !== undefined && pem === toPem('CERTIFICATE', der) ? pem : undefined;
  }

  private parsed(): { readonly asn1: asn.Certificate; readonly extensions: Map<string, asn.Extension> } {
    if (!this.parsedAsn1) {
      const asn1 = AsnConvert.parse(this.der, asn.Certificate);
      this.parsedAsn1 = { asn1, extensions: new Map((asn1.tbsCertificate.extensions ?? []).map((e) => [e.extnID, e])) };
    }
    return this.parsedAsn1;
  }

  private get asn1(): asn.Certificate {
    return this.parsed().asn1;
  }

  private get extensions(): Map<string, asn.Extension> {
    return this.parsed().extensions;
  }

  /** The certificate as one PEM block. */
  get pem(): string {
    this.pemText ??= toPem('CERTIFICATE', this.der);
    return this.pemText;
  }

  /** The certified public key. */
  get publicKey(): crypto.KeyObject {
    this.publicKeyObject ??= crypto.createPublicKey({ key: this.spkiDer, format: 'der', type: 'spki' });
    return this.publicKeyObject;
  }

  private extension<T>(oid: string, type: new () => T): T | undefined {
    const ext = this.extensions.get(oid);
    return ext ? AsnConvert.parse(ext.extnValue, type) : undefined;
  }

  /** The subject, as the fields this project reads. */
  get subject(): DistinguishedName {
    return decodeName(this.asn1.tbsCertificate.subject);
  }
  /** The issuer's name. */
  get issuer(): DistinguishedName {
    return decodeName(this.asn1.tbsCertificate.issuer);
  }
  /** The subject Name, DER: what a child's issuer field must equal byte for byte. */
  get subjectDer(): Buffer {
    return (this.encoded.subject ??= toBuffer(AsnConvert.serialize(this.asn1.tbsCertificate.subject)));
  }
  /** The issuer Name, DER. */
  get issuerDer(): Buffer {
    return (this.encoded.issuer ??= toBuffer(AsnConvert.serialize(this.asn1.tbsCertificate.issuer)));
  }
  /** The serial number, upper-case hex as `openssl x509 -serial` prints it. */
  get serialNumberHex(): string {
    return toBuffer(this.asn1.tbsCertificate.serialNumber).toString('hex');
  }
  // Read from the DER where it has RFC 5280's form, without parsing the rest: the state asks for notAfter of every
  // certificate it issues.
  /** Start of validity. */
  get notBefore(): Date {
    return new Date((this.encoded.notBefore ??= this.validityField(0) ?? this.asn1.tbsCertificate.validity.notBefore.getTime()));
  }
  /** End of validity. */
  get notAfter(): Date {
    return new Date((this.encoded.notAfter ??= this.validityField(1) ?? this.asn1.tbsCertificate.validity.notAfter.getTime()));
  }
  private validityField(index: 0 | 1): Date | undefined {
    return der.readTime(this.der, der.children(this.der, locateTbs(this.der).field('validity'))[index]);
  }
  /** The SubjectPublicKeyInfo, DER: what kubeadm's `--discovery-token-ca-cert-hash` hashes. */
  get spkiDer(): Buffer {
    return (this.encoded.spki ??= toBuffer(AsnConvert.serialize(this.asn1.tbsCertificate.subjectPublicKeyInfo)));
  }
  /** kubeadm's public-key pin (`--discovery-token-ca-cert-hash`): SHA-256 over the DER SubjectPublicKeyInfo. */
  get spkiPin(): string {
    return `sha256:${sha256Hex(this.spkiDer)}`;
  }
  /** SHA-256 over the whole DER certificate, lower-case hex (what `openssl x509 -fingerprint -sha256` prints, without colons). */
  get fingerprintSha256(): string {
    this.fingerprint ??= sha256Hex(this.der);
    return this.fingerprint;
  }
  /** The OID of the algorithm the issuer signed with. */
  get signatureAlgorithmOid(): string {
    return this.asn1.signatureAlgorithm.algorithm;
  }
  /** basicConstraints cA. */
  get isCA(): boolean {
    return this.extension(asn.id_ce_basicConstraints, asn.BasicConstraints)?.cA ?? false;
  }
  /** basicConstraints pathLenConstraint; undefined when unlimited or not a CA. */
  get pathLength(): number | undefined {
    return this.extension(asn.id_ce_basicConstraints, asn.BasicConstraints)?.pathLenConstraint;
  }
  /** The keyUsage bits, by name. */
  get keyUsage(): KeyUsageName[] {
    const ku = this.extension(asn.id_ce_keyUsage, asn.KeyUsage);
    if (!ku) return [];
    const flags = ku.toNumber();
    return (Object.keys(KEY_USAGE_FLAGS) as KeyUsageName[]).filter((name) => flags & KEY_USAGE_FLAGS[name]);
  }
  /** The extendedKeyUsage purposes this project names (others are left out). */
  get extendedKeyUsage(): ExtendedKeyUsageName[] {
    const eku = Array.from(this.extension(asn.id_ce_extKeyUsage, asn.ExtendedKeyUsage) ?? []);
    const names = Object.entries(EXTENDED_KEY_USAGE_OIDS) as [ExtendedKeyUsageName, string][];
    return eku.map((oid) => names.find(([, o]) => o === oid)?.[0]).filter((n): n is ExtendedKeyUsageName => n !== undefined);
  }
  /** The subjectAltName entries, in the certificate's order per kind. */
  get sans(): SubjectAltNames {
    return sansOf(this.extensions.get(asn.id_ce_subjectAltName));
  }
  /** The subjectKeyIdentifier, when present. */
  get subjectKeyIdentifier(): Buffer | undefined {
    const ski = this.extension(asn.id_ce_subjectKeyIdentifier, asn.SubjectKeyIdentifier);
    return ski ? toBuffer(ski.buffer) : undefined;
  }
  /** The authorityKeyIdentifier's keyIdentifier, when present. */
  get authorityKeyIdentifier(): Buffer | undefined {
    const aki = this.extension(asn.id_ce_authorityKeyIdentifier, asn.AuthorityKeyIdentifier);
    return aki?.keyIdentifier ? toBuffer(aki.keyIdentifier.buffer) : undefined;
  }
  /** A CA's nameConstraints, when present. */
  get nameConstraints(): NameConstraintsSpec | undefined {
    const nc = this.extension(asn.id_ce_nameConstraints, asn.NameConstraints);
    if (!nc) return undefined;
    const dns = (trees?: asn.GeneralSubtrees) => Array.from(trees ?? []).filter((t) => t.base.dNSName !== undefined).map((t) => t.base.dNSName!);
    const ips = (trees?: asn.GeneralSubtrees) =>
      Array.from(trees ?? []).filter((t) => t.base.iPAddress !== undefined).map((t) => rangeToCidr(rawGeneralNameBytes(t.base)));
    const spec = {
      permittedDnsDomains: dns(nc.permittedSubtrees),
      excludedDnsDomains: dns(nc.excludedSubtrees),
      permittedIpRanges: ips(nc.permittedSubtrees),
      excludedIpRanges: ips(nc.excludedSubtrees),
    };
    return Object.fromEntries(Object.entries(spec).filter(([, v]) => v.length)) as NameConstraintsSpec;
  }
  /** True when subject and issuer are equal and the certificate's own key made its signature. */
  get isSelfSigned(): boolean {
    return (this.encoded.selfSigned ??= this.subjectDer.equals(this.issuerDer) && this.isSignedBy(this.publicKey));
  }

  /** True when `issuerKey` made this certificate's signature. */
  isSignedBy(issuerKey: crypto.KeyObject): boolean {
    // The signature is over the TBSCertificate's bytes as they stand in the DER.
    const tbs = der.encoding(this.der, locateTbs(this.der).tbs);
    return verify(tbs, toBuffer(this.asn1.signatureValue), publicKeyOf(issuerKey), this.signatureAlgorithmOid);
  }

  /** The certificate as a spec plus validity, for comparing what was asked with what was issued. */
  describe(): {
    /** The certificate's subject, SANs, usages, CA constraints and validity length. */
    spec: CertificateSpec;
    /** Start of validity. */
    notBefore: Date;
    /** End of validity. */
    notAfter: Date;
  } {
    const spec: CertificateSpec = {
      subject: this.subject,
      sans: this.sans,
      keyUsage: this.keyUsage,
      extendedKeyUsage: this.extendedKeyUsage,
      ca: this.isCA ? { pathLength: this.pathLength, nameConstraints: this.nameConstraints } : undefined,
      validitySeconds: Math.round((this.notAfter.getTime() - this.notBefore.getTime()) / 1000) - BACKDATE_SECONDS,
    };
    return { spec, notBefore: this.notBefore, notAfter: this.notAfter };
  }
}

const TBS_FIELDS = ['serialNumber', 'signature', 'issuer', 'validity', 'subject', 'subjectPublicKeyInfo'] as const;

/**
 * The TBSCertificate of a DER certificate and its fields up to the public key, located without a parse (for bytes
 * already checked to be a certificate: the lazy getters, the reviewer annotations).
 */
export function locateTbs(certificateDer: Buffer): { tbs: der.Tlv; field(name: (typeof TBS_FIELDS)[number]): der.Tlv } {
  const tbs = der.children(certificateDer, der.readTlv(certificateDer))[0];
  const fields = der.children(certificateDer, tbs);
  const first = fields[0].tag === der.context(0, true) ? 1 : 0; // after the optional [0] EXPLICIT version
  return { tbs, field: (name) => fields[first + TBS_FIELDS.indexOf(name)] };
}

function rangeToCidr(bytes: Buffer): string {
  const half = bytes.length / 2;
  const prefix = [...bytes.subarray(half)].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
  return `${ipToString(bytes.subarray(0, half))}/${prefix}`;
}

// ---------------------------------------------------------------------------------------------
// Issuing

/** Who signs: a CA certificate with its key, or (for a self-signed certificate) the subject's own key. */
export interface Signer {
  /** The key that signs. */
  readonly privateKey: crypto.KeyObject;
  /** Absent for a self-signed certificate. */
  readonly certificate?: Certificate;
}

/** How one issuance is made; production callers leave both to the defaults. */
export interface IssueOptions {
  /** @default 126 random bits from the system CSPRNG */
  readonly serial?: Buffer;
  /** RFC 6979 ECDSA signatures (seeded test states only). */
  readonly deterministicSignature?: boolean;
}

/** What issuing under a CA certificate reads of it, decoded once per certificate rather than once per issuance. */
interface IssuerFacts {
  readonly signsCertificates: boolean;
  readonly pathLength: number | undefined;
  readonly notAfter: Date;
  readonly nameConstraints: NameConstraintsSpec | undefined;
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  readonly keyIdentifier: Buffer;
}

const issuerFacts = new WeakMap<Certificate, IssuerFacts>();

function factsOf(issuer: Certificate): IssuerFacts {
  let facts = issuerFacts.get(issuer);
  if (!facts) {
    facts = {
      signsCertificates: issuer.isCA && issuer.keyUsage.includes('keyCertSign'),
      pathLength: issuer.pathLength,
      notAfter: issuer.notAfter,
      nameConstraints: issuer.nameConstraints,
      subjectDer: issuer.subjectDer,
      spkiDer: issuer.spkiDer,
      keyIdentifier: issuer.subjectKeyIdentifier ?? keyIdentifier(issuer.publicKey),
    };
    issuerFacts.set(issuer, facts);
  }
  return facts;
}

function checkIssuerAllows(spec: CertificateSpec, issuer: Certificate, facts: IssuerFacts, notAfter: Date): void {
  if (!facts.signsCertificates) {
    throw new SpecError('issuer', `"${issuer.subject.commonName}" is not a CA certificate (basicConstraints cA and keyUsage keyCertSign are required)`);
  }
  if (spec.ca && facts.pathLength === 0) {
    throw new SpecError('ca', `issuer "${issuer.subject.commonName}" has pathLength 0 and may sign no further CA`);
  }
  if (notAfter > facts.notAfter) {
    throw new SpecError(
      'validitySeconds',
      `the certificate would end ${notAfter.toISOString()}, after its issuer "${issuer.subject.commonName}" ends ${facts.notAfter.toISOString()}: shorten the validity or renew the issuer`,
    );
  }
  const nc = facts.nameConstraints;
  if (!nc) return;
  const under = (name: string, domain: string) => name === domain || name.endsWith(`.${domain}`);
  (spec.sans?.dnsNames ?? []).forEach((name, i) => {
    const bare = name.replace(/^\*\./, '');
    if (nc.permittedDnsDomains?.length && !nc.permittedDnsDomains.some((d) => under(bare, d))) {
      throw new SpecError(`sans.dnsNames[${i}]`, `"${name}" is outside the issuer's permitted DNS domains (${nc.permittedDnsDomains.join(', ')})`);
    }
    if (nc.excludedDnsDomains?.some((d) => under(bare, d))) {
      throw new SpecError(`sans.dnsNames[${i}]`, `"${name}" is in a DNS domain the issuer excludes`);
    }
  });
  (spec.sans?.ipAddresses ?? []).forEach((ip, i) => {
    const bytes = ipToBytes(ip);
    if (nc.permittedIpRanges?.length && !nc.permittedIpRanges.some((r) => ipInRange(bytes, cidrToBytes(r)))) {
      throw new SpecError(`sans.ipAddresses[${i}]`, `${ip} is outside the issuer's permitted IP ranges (${nc.permittedIpRanges.join(', ')})`);
    }
    if (nc.excludedIpRanges?.some((r) => ipInRange(bytes, cidrToBytes(r)))) {
      throw new SpecError(`sans.ipAddresses[${i}]`, `${ip} is in an IP range the issuer excludes`);
    }
  });
}

/**
 * Issues an X.509 v3 certificate for `subjectKey` (its public half is used) under `signer`.
 * Validates the spec first; throws SpecError naming the field for anything a consumer would refuse.
 */
export function issueCertificate(
  specInput: CertificateSpec,
  subjectKey: crypto.KeyObject,
  signer: Signer,
  now: Date,
  options: IssueOptions = {},
): Certificate {
  const spec = validateCertificateSpec(specInput);
  const subjectPublicKey = publicKeyOf(subjectKey);
  keyAlgorithmOf(subjectPublicKey, 'key');
  const issuedAt = Math.floor(now.getTime() / 1000) * 1000;
  const notBefore = new Date(issuedAt - BACKDATE_SECONDS * 1000);
  const notAfter = new Date(issuedAt + spec.validitySeconds * 1000);
  if (!(notAfter.getTime() <= MAX_X509_TIME)) {
    throw new SpecError('validitySeconds', `${spec.validitySeconds} seconds from ${now.toISOString()} ends after 9999-12-31T23:59:59Z, the last time a certificate can hold`);
  }

  const issuer = signer.certificate && factsOf(signer.certificate);
  if (signer.certificate && issuer) {
    checkIssuerAllows(spec, signer.certificate, issuer, notAfter);
    if (!spkiDer(signer.privateKey).equals(issuer.spkiDer)) {
      throw new SpecError('issuer', `the private key given for "${signer.certificate.subject.commonName}" does not match its certificate`);
    }
  } else if (!spkiDer(signer.privateKey).equals(spkiDer(subjectPublicKey))) {
    throw new SpecError('issuer', 'a self-signed certificate must be signed by its own key');
  }

  const ski = keyIdentifier(subjectPublicKey);
  const keyUsage = (spec.keyUsage ?? defaultKeyUsage(spec, subjectPublicKey)).reduce((f, u) => f | KEY_USAGE_FLAGS[u], 0);
  const basicConstraints = [...(spec.ca ? [der.boolean(true)] : []), ...(spec.ca?.pathLength !== undefined ? [der.integer(spec.ca.pathLength)] : [])];
  // Go's order (KU, EKU, BC, SKI, AKI, SAN), then name constraints.
  const extensions: Buffer[] = [extension(asn.id_ce_keyUsage, true, der.namedBits(keyUsage))];
  if (spec.extendedKeyUsage?.length) {
    extensions.push(extension(asn.id_ce_extKeyUsage, false, der.sequence(...spec.extendedKeyUsage.map((u) => der.oid(EXTENDED_KEY_USAGE_OIDS[u])))));
  }
  extensions.push(extension(asn.id_ce_basicConstraints, true, der.sequence(...basicConstraints)));
  extensions.push(extension(asn.id_ce_subjectKeyIdentifier, false, der.octetString(ski)));
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
  if (issuer) extensions.push(extension(asn.id_ce_authorityKeyIdentifier, false, der.sequence(der.tlv(der.context(0, false), issuer.keyIdentifier))));
  const san = subjectAltNameExtension(spec.sans ?? {});
  if (san) extensions.push(san);
  if (spec.ca?.nameConstraints && Object.values(spec.ca.nameConstraints).some((names) => names?.length)) extensions.push(nameConstraintsExtension(spec.ca.nameConstraints));

  const signatureAlgorithm = algorithmIdentifier(signatureSchemeFor(keyAlgorithmOf(signer.privateKey, 'issuer')));
  const subject = encodeName(spec.subject);
  const tbs = der.sequence(
    der.tlv(der.context(0, true), der.integer(2)), // [0] EXPLICIT Version v3
    der.integerBytes(options.serial ?? systemEntropy.serial('')),
    signatureAlgorithm,
    issuer ? issuer.subjectDer : subject,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    subject,
    spkiDer(subjectPublicKey),
    der.tlv(der.context(3, true), der.sequence(...extensions)),
  );
  const signature = sign(tbs, signer.privateKey, options.deterministicSignature);
  // Encoded here from validated parts: parsing it back would cost more than all of the above.
  return Certificate.fromTrustedDer(der.sequence(tbs, signatureAlgorithm, der.bitString(signature)));
}

/** AlgorithmIdentifier of a signature scheme: RSA's carries an explicit NULL, ECDSA's and Ed25519's nothing. */
export function algorithmIdentifier(scheme: SignatureScheme): Buffer {
  return der.sequence(der.oid(scheme.oid), ...(scheme.nullParameters ? [der.nullValue()] : []));
}
