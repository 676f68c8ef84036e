// describeCertificate is memoized by fingerprint and can be seeded from a record: a memoized or seeded
// description must be what a fresh description of the same bytes says, and node's X509Certificate (OpenSSL's
// printer) is the judge of the fields.
import * as crypto from 'node:crypto';
import { generateKey, issueCertificate } from '../../src/engine';
import * as annotations from '../../src/engine/annotations';
import { certificateAnnotations, describeCertificate, rememberDescription } from '../../src/engine/annotations';
import { toPem } from '../../src/engine/pem';
import { Certificate } from '../../src/engine/x509';

const YEAR = 365 * 24 * 3600;

function issue(now: Date, validitySeconds: number, sans?: { dnsNames: string[] }): Certificate {
  const key = generateKey('ecdsa-p256');
  return issueCertificate({ subject: { commonName: 'memo, "test"', organizations: ['o+1'] }, sans, validitySeconds }, key, { privateKey: key }, now);
}

/** A description from a module registry of its own, so that no memo of this file's registry answers. */
function freshDescription(der: Buffer): annotations.CertificateDescription {
  let described: annotations.CertificateDescription | undefined;
  jest.isolateModules(() => {
    const isolated = jest.requireActual<typeof annotations>('../../src/engine/annotations');
    const x509 = jest.requireActual<typeof import('../../src/engine/x509')>('../../src/engine/x509');
    described = isolated.describeCertificate(x509.Certificate.fromDer(der));
  });
  return described!;
}

describe('describeCertificate', () => {
  it.each([
    ['UTCTime dates', new Date('2026-02-03T04:05:06.789Z'), YEAR],
    ['GeneralizedTime dates (from 2050)', new Date('2049-06-01T00:00:00Z'), 2 * YEAR],
    ['a UTCTime notBefore in the 1990s', new Date('1999-12-31T23:58:00Z'), YEAR],
  ])('gives, memoized, what a fresh description and X509Certificate say (%s)', (_name, now, validity) => {
    const certificate = issue(now, validity, { dnsNames: ['a.example.com', 'b.example.com'] });
    const first = describeCertificate(Certificate.fromTrustedDer(certificate.der));
    const again = describeCertificate(Certificate.fromTrustedDer(certificate.der));
    expect(again).toBe(first);
    expect(first).toEqual(freshDescription(certificate.der));
    const printed = new crypto.X509Certificate(certificate.der);
    expect(first['not-before']).toBe(new Date(printed.validFrom).toISOString().replace('.000Z', 'Z'));
    expect(first['not-after']).toBe(new Date(printed.validTo).toISOString().replace('.000Z', 'Z'));
    expect(first['sha256-fingerprint']).toBe(printed.fingerprint256);
    expect(first.sans).toBe('DNS:a.example.com, DNS:b.example.com');
    expect(first.subject).toBe('CN=memo\\, \\"test\\",O=o\\+1');
  });

  it('leaves sans out for a certificate without a subjectAltName', () => {
    expect(describeCertificate(issue(new Date(), YEAR))).not.toHaveProperty('sans');
  });

  it('answers from a seeded description without reading the certificate', () => {
    const certificate = issue(new Date(), YEAR);
    const seeded = { ...freshDescription(certificate.der), serial: 'SEEDED' };
    rememberDescription(certificate.fingerprintSha256, seeded);
    expect(describeCertificate(certificate).serial).toBe('SEEDED');
    expect(certificateAnnotations([{ name: 'tls.crt', pem: toPem('CERTIFICATE', certificate.der) }])['pki.cdk8s.io/tls.serial']).toBe('SEEDED');
  });
});
