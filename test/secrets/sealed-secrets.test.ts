import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { SpecError } from '../../src/engine/errors';
import { controllerFingerprint, encryptionLabel, hybridEncrypt, readControllerCertificate, scopeAnnotations, SealingScope } from '../../src/secrets/sealed-secrets';
import { runOk, tempDir } from '../support/programs';
import { controller, unseal } from '../support/sealed-secrets-controller';

describe('Sealed Secrets encryption', () => {
  let tmp: ReturnType<typeof tempDir>;
  let rsa2048: { cert: string; key: string };

  beforeAll(() => {
    tmp = tempDir();
    rsa2048 = controller(tmp.dir, 'rsa2048', ['-newkey', 'rsa:2048']);
  });
  afterAll(() => tmp.cleanup());

  const publicKeyOf = (files: { cert: string }) => readControllerCertificate(fs.readFileSync(files.cert, 'utf8'), 'sealedSecrets.certificate');

  test.each<SealingScope>(['strict', 'namespace-wide', 'cluster-wide'])('a %s value is unsealed by the controller under its label', (scope) => {
    const label = encryptionLabel(scope, 'apps', 'db-credentials');
    const plaintext = `password for ${scope} ✓`;
    const ciphertext = hybridEncrypt(publicKeyOf(rsa2048), label, Buffer.from(plaintext));
    // 2-byte length of the 256-byte RSA-2048 block, the block, the AES-GCM ciphertext and its 16-byte tag.
    expect(ciphertext.readUInt16BE(0)).toBe(256);
    expect(ciphertext.length).toBe(2 + 256 + Buffer.byteLength(plaintext) + 16);
    expect(unseal(rsa2048.key, [{ ciphertext, label }])).toEqual([{ plaintext }]);
  });

  test('labels are those of sealed-secrets EncryptionLabel', () => {
    expect(encryptionLabel('strict', 'apps', 'db-credentials')).toBe('apps/db-credentials');
    expect(encryptionLabel('namespace-wide', 'apps', 'db-credentials')).toBe('apps');
    expect(encryptionLabel('cluster-wide', 'apps', 'db-credentials')).toBe('');
  });

  test('a value sealed for one name or namespace cannot be unsealed under another', () => {
    const key = publicKeyOf(rsa2048);
    const strict = hybridEncrypt(key, encryptionLabel('strict', 'apps', 'db-credentials'), Buffer.from('s3cret'));
    const namespaceWide = hybridEncrypt(key, encryptionLabel('namespace-wide', 'apps', 'db-credentials'), Buffer.from('s3cret'));
    const clusterWide = hybridEncrypt(key, encryptionLabel('cluster-wide', 'apps', 'db-credentials'), Buffer.from('s3cret'));
    const results = unseal(rsa2048.key, [
      { ciphertext: strict, label: 'other/db-credentials' },
      { ciphertext: strict, label: 'apps/other' },
      { ciphertext: strict, label: 'apps' },
      { ciphertext: namespaceWide, label: 'other' },
      { ciphertext: namespaceWide, label: 'apps/db-credentials' },
      { ciphertext: clusterWide, label: 'apps' },
    ]);
    for (const result of results) expect(result).toEqual({ error: 'ValueError' });
  });

  test('an RSA-4096 controller key, the size the controller generates', () => {
    const rsa4096 = controller(tmp.dir, 'rsa4096', ['-newkey', 'rsa:4096']);
    const label = encryptionLabel('strict', 'kube-system', 'bootstrap-token-abcdef');
    const ciphertext = hybridEncrypt(publicKeyOf(rsa4096), label, Buffer.from('abcdef.0123456789abcdef'));
    expect(ciphertext.readUInt16BE(0)).toBe(512);
    expect(unseal(rsa4096.key, [{ ciphertext, label }])).toEqual([{ plaintext: 'abcdef.0123456789abcdef' }]);
  });

  test('two seals of the same value differ, and both unseal', () => {
    const key = publicKeyOf(rsa2048);
    const label = encryptionLabel('strict', 'apps', 'db-credentials');
    const first = hybridEncrypt(key, label, Buffer.from('same'));
    const second = hybridEncrypt(key, label, Buffer.from('same'));
    expect(first.equals(second)).toBe(false);
    expect(unseal(rsa2048.key, [first, second].map((ciphertext) => ({ ciphertext, label })))).toEqual([{ plaintext: 'same' }, { plaintext: 'same' }]);
  });

  test('scope annotations are the controller\'s', () => {
    expect(scopeAnnotations('strict')).toEqual({});
    expect(scopeAnnotations('namespace-wide')).toEqual({ 'sealedsecrets.bitnami.com/namespace-wide': 'true' });
    expect(scopeAnnotations('cluster-wide')).toEqual({ 'sealedsecrets.bitnami.com/cluster-wide': 'true' });
  });

  test('the fingerprint is SHA-256 of the certificate\'s SubjectPublicKeyInfo, as openssl computes it', () => {
    const spkiDer = `${tmp.dir}/spki.der`;
    const spkiPem = runOk('openssl', ['x509', '-in', rsa2048.cert, '-pubkey', '-noout']);
    runOk('openssl', ['pkey', '-pubin', '-outform', 'DER', '-out', spkiDer], { input: spkiPem });
    const expected = runOk('openssl', ['dgst', '-sha256', '-r', spkiDer]).split(' ')[0];
    expect(controllerFingerprint(publicKeyOf(rsa2048))).toBe(expected);
    const other = controller(tmp.dir, 'other', ['-newkey', 'rsa:2048']);
    expect(controllerFingerprint(publicKeyOf(other))).not.toBe(expected);
  });

  test('an EC certificate is refused, naming the field and why', () => {
    const ec = controller(tmp.dir, 'ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
    const attempt = () => readControllerCertificate(fs.readFileSync(ec.cert, 'utf8'), 'sealedSecrets.certificate');
    expect(attempt).toThrow(SpecError);
    expect(attempt).toThrow(/^sealedSecrets\.certificate: .*is ec, not RSA.*RSA-OAEP/);
  });

  test('what is not a certificate is refused, naming the field', () => {
    const privateKey = fs.readFileSync(rsa2048.key, 'utf8');
    const publicKey = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    for (const notCertificate of [privateKey, publicKey, 'not a certificate']) {
      const attempt = () => readControllerCertificate(notCertificate, 'sealedSecrets.certificate');
      expect(attempt).toThrow(SpecError);
      expect(attempt).toThrow(/^sealedSecrets\.certificate: is not a PEM X\.509 certificate/);
    }
  });
});
