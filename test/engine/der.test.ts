// The hand-written DER writer against the schema library it replaced and against node:crypto's own encoders:
// the same values must give the same bytes, or every state's certificates would change.
import * as crypto from 'node:crypto';
import { AsnConvert, BitString } from '@peculiar/asn1-schema';
import * as asnCsr from '@peculiar/asn1-csr';
import * as asn from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import * as der from '../../src/engine/der';
import { createCsr } from '../../src/engine/csr';
import { CertificateSpec, generateKey, issueCertificate, KEY_ALGORITHMS } from '../../src/engine';

const YEAR = 365 * 24 * 3600;
const toBuffer = (data: ArrayBuffer) => Buffer.from(data);

describe('DER primitives', () => {
  it('writes keyUsage bits as the schema library does, for every combination of the nine flags', () => {
    for (let flags = 0; flags < 512; flags++) {
      expect(der.namedBits(flags).toString('hex')).toBe(toBuffer(AsnConvert.serialize(new BitString(flags))).toString('hex'));
    }
  });

  it('writes INTEGERs, OIDs and long lengths as asn1js does', () => {
    for (const value of [0, 1, 127, 128, 255, 256, 65535, 2 ** 31, 2 ** 40 + 7]) {
      expect(der.integer(value).toString('hex')).toBe(toBuffer(new asn1js.Integer({ value }).toBER()).toString('hex'));
    }
    for (const dotted of ['2.5.29.15', '1.2.840.113549.1.1.11', '1.3.6.1.4.1.311.20.2.3', '2.999.1234567']) {
      expect(der.oid(dotted).toString('hex')).toBe(toBuffer(new asn1js.ObjectIdentifier({ value: dotted }).toBER()).toString('hex'));
    }
    for (const size of [0, 127, 128, 255, 256, 70000]) {
      const value = Buffer.alloc(size, 7);
      expect(der.octetString(value).equals(toBuffer(new asn1js.OctetString({ valueHex: value }).toBER()))).toBe(true);
    }
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280), as the schema library does', () => {
    for (const iso of ['1999-12-31T23:59:59Z', '2026-03-04T05:06:07Z', '2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      expect(der.time(new Date(iso)).toString('hex')).toBe(toBuffer(AsnConvert.serialize(new asn.Time(new Date(iso)))).toString('hex'));
    }
  });

  it('reads back the TLVs it writes', () => {
    const outer = der.sequence(der.integer(5), der.octetString(Buffer.alloc(300, 1)), der.boolean(true));
    const items = der.children(outer, der.readTlv(outer));
    expect(items.map((item) => item.tag)).toEqual([der.TAG.integer, der.TAG.octetString, der.TAG.boolean]);
    expect(items[1].end - items[1].start).toBe(300);
    expect(() => der.readTlv(outer.subarray(0, 10))).toThrow(RangeError);
  });
});

describe('certificates and CSRs', () => {
  const specs: CertificateSpec[] = [
    {
      subject: { commonName: 'root', organizations: ['a', 'b'], organizationalUnits: ['u'], country: 'DE', province: 'Bayern', locality: 'München' },
      ca: { pathLength: 1, nameConstraints: { permittedDnsDomains: ['example.com'], permittedIpRanges: ['10.0.0.0/8', 'fd00::/8'], excludedDnsDomains: ['x.example.com'], excludedIpRanges: ['10.9.0.0/16'] } },
      validitySeconds: 30 * YEAR,
    },
    {
      subject: { commonName: 'leaf' },
      sans: { dnsNames: Array.from({ length: 30 }, (_, i) => `n${i}.example.com`), ipAddresses: ['10.0.0.1', 'fd00::1'], uris: ['spiffe://example.com/a'], emails: ['a@example.com'] },
      extendedKeyUsage: ['serverAuth', 'clientAuth'],
      validitySeconds: YEAR,
    },
  ];

  it.each(KEY_ALGORITHMS)('are in the canonical encoding the schema library writes for the same values (%s)', (algorithm) => {
    const key = generateKey(algorithm);
    const now = new Date('2040-06-01T00:00:00Z');
    for (const spec of specs) {
      const certificate = issueCertificate(spec, key, { privateKey: key }, now);
      expect(toBuffer(AsnConvert.serialize(AsnConvert.parse(certificate.der, asn.Certificate))).equals(certificate.der)).toBe(true);
      const x509 = new crypto.X509Certificate(certificate.der);
      expect(x509.verify(x509.publicKey)).toBe(true);
      expect(new Date(x509.validTo).getTime()).toBe(now.getTime() + spec.validitySeconds * 1000); // 2070: GeneralizedTime
      const csr = createCsr({ subject: spec.subject, sans: spec.sans }, key);
      expect(toBuffer(AsnConvert.serialize(AsnConvert.parse(csr.der, asnCsr.CertificationRequest))).equals(csr.der)).toBe(true);
      expect(csr.hasValidSignature).toBe(true);
      expect(csr.sans).toEqual(spec.sans ?? {});
    }
  });
});
