import { CertificateSigningRequest, createCsr, generateKey, issueCertificate, issueFromCsr, KEY_ALGORITHMS, SpecError } from '../../src/engine';
import { run, runOk, tempDir } from '../support/programs';

const NOW = new Date();
const caKey = generateKey('ecdsa-p256');
const ca = issueCertificate({ subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 10 * 365 * 86400 }, caKey, { privateKey: caKey }, NOW);
const files = tempDir();
afterAll(() => files.cleanup());

describe.each(KEY_ALGORITHMS.filter((a) => !['rsa-3072', 'rsa-4096'].includes(a)))('%s CSR', (algorithm) => {
  const key = generateKey(algorithm);
  const csr = createCsr(
    { subject: { commonName: 'system:node:worker-1', organizations: ['system:nodes'] }, sans: { dnsNames: ['worker-1'], ipAddresses: ['10.0.0.21'] } },
    key,
  );

  test('openssl req -verify accepts it and reads the subject and SANs', () => {
    const text = runOk('openssl', ['req', '-in', files.file(`${algorithm}.csr`, csr.pem), '-noout', '-verify', '-text']);
    expect(text).toMatch(/Subject: O\s?=\s?system:nodes, CN\s?=\s?system:node:worker-1/);
    expect(text).toMatch(/X509v3 Subject Alternative Name:\s+DNS:worker-1, IP Address:10.0.0.21/);
    const verify = run('openssl', ['req', '-in', files.file(`${algorithm}.csr`), '-noout', '-verify']);
    expect(verify.stdout + verify.stderr).toMatch(/verify OK|Certificate request self-signature verify OK/);
  });

  test('parses back and issues a certificate openssl verifies', () => {
    const parsed = CertificateSigningRequest.fromPem(csr.pem);
    expect(parsed.hasValidSignature).toBe(true);
    expect(parsed.subject).toEqual({ commonName: 'system:node:worker-1', organizations: ['system:nodes'] });
    expect(parsed.sans).toEqual({ dnsNames: ['worker-1'], ipAddresses: ['10.0.0.21'] });
    const cert = issueFromCsr(parsed, { extendedKeyUsage: ['clientAuth'], validitySeconds: 86400 }, { privateKey: caKey, certificate: ca }, NOW);
    expect(cert.subject.commonName).toBe('system:node:worker-1');
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(parsed.publicKey.export({ type: 'spki', format: 'der' }));
    const out = runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', files.file('ca.pem', ca.pem), files.file(`${algorithm}.crt`, cert.pem)]);
    expect(out).toContain(': OK');
  });
});

describe('CSRs made by openssl', () => {
  test('are parsed, verified and signed under a profile that decides the usages', () => {
    const keyPath = files.file('ossl.key');
    runOk('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
    const csrPem = runOk('openssl', ['req', '-new', '-key', keyPath, '-subj', '/O=system:nodes/CN=system:node:cp-1', '-addext', 'subjectAltName=DNS:cp-1,IP:10.0.0.11,IP:fd00::11']);
    const csr = CertificateSigningRequest.fromPem(csrPem);
    expect(csr.hasValidSignature).toBe(true);
    expect(csr.sans).toEqual({ dnsNames: ['cp-1'], ipAddresses: ['10.0.0.11', 'fd00::11'] });
    const cert = issueFromCsr(csr, { extendedKeyUsage: ['serverAuth'], validitySeconds: 86400 }, { privateKey: caKey, certificate: ca }, NOW);
    expect(cert.sans.ipAddresses).toEqual(['10.0.0.11', 'fd00::11']);
    expect(cert.extendedKeyUsage).toEqual(['serverAuth']);
  });

  test('a request with a broken self-signature is refused', () => {
    const csr = createCsr({ subject: { commonName: 'tampered' } }, generateKey('ecdsa-p256'));
    const der = Buffer.from(csr.der);
    der[der.length - 5] ^= 0x01; // inside the signature
    const tampered = CertificateSigningRequest.fromPem(`-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    expect(tampered.hasValidSignature).toBe(false);
    expect(() => issueFromCsr(tampered, { validitySeconds: 3600 }, { privateKey: caKey, certificate: ca }, NOW)).toThrow(/not signed by the key it carries/);
  });

  test('a SHA-1 signed request is refused by name', () => {
    const keyPath = files.file('rsa.key');
    runOk('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
    const sha1 = run('openssl', ['req', '-new', '-sha1', '-key', keyPath, '-subj', '/CN=legacy']);
    if (sha1.status !== 0) throw new Error(`openssl cannot make a SHA-1 CSR here: ${sha1.stderr}`);
    const csr = CertificateSigningRequest.fromPem(sha1.stdout);
    let error: unknown;
    try {
      issueFromCsr(csr, { validitySeconds: 3600 }, { privateKey: caKey, certificate: ca }, NOW);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toMatch(/csr: is signed with sha1WithRSAEncryption, which is refused/);
  });

  test('text that is not a CSR names the field', () => {
    expect(() => CertificateSigningRequest.fromPem('hello')).toThrow(expect.objectContaining({ field: 'csrPem' }));
  });
});
