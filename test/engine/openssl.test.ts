// Consumers are the judges: OpenSSL and node's X509Certificate (OpenSSL underneath) read what the engine issues.
import * as crypto from 'node:crypto';
import { Certificate, generateKey, issueCertificate, KeyAlgorithm, KEY_ALGORITHMS, rancherCaChecksum, SpecError } from '../../src/engine';
import { run, runOk, tempDir } from '../support/programs';

const YEAR = 365 * 24 * 3600;
const NOW = new Date();

const OPENSSL_SIGNATURE_NAMES: Record<KeyAlgorithm, string> = {
  'ecdsa-p256': 'ecdsa-with-SHA256',
  'ecdsa-p384': 'ecdsa-with-SHA384',
  'rsa-2048': 'sha256WithRSAEncryption',
  'rsa-3072': 'sha256WithRSAEncryption',
  'rsa-4096': 'sha256WithRSAEncryption',
  'ed25519': 'ED25519',
};

interface Pki {
  root: Certificate;
  intermediate: Certificate;
  server: Certificate;
  client: Certificate;
  underIntermediate: Certificate;
}

function buildPki(algorithm: KeyAlgorithm): Pki {
  const rootKey = generateKey(algorithm);
  const root = issueCertificate({ subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 10 * YEAR }, rootKey, { privateKey: rootKey }, NOW);
  const intermediateKey = generateKey(algorithm);
  const intermediate = issueCertificate(
    { subject: { commonName: 'kubernetes-intermediate', organizations: ['cdk8s-pki'] }, ca: { pathLength: 0 }, validitySeconds: 5 * YEAR },
    intermediateKey,
    { privateKey: rootKey, certificate: root },
    NOW,
  );
  const leaf = (commonName: string, usage: 'serverAuth' | 'clientAuth', signer: { privateKey: crypto.KeyObject; certificate: Certificate }) =>
    issueCertificate(
      {
        subject: { commonName, organizations: usage === 'clientAuth' ? ['kubeadm:cluster-admins'] : undefined },
        sans: usage === 'serverAuth' ? { dnsNames: ['kubernetes', 'kubernetes.default.svc.cluster.local'], ipAddresses: ['10.96.0.1', '127.0.0.1', '::1'] } : undefined,
        extendedKeyUsage: [usage],
        validitySeconds: YEAR,
      },
      generateKey(algorithm),
      signer,
      NOW,
    );
  return {
    root,
    intermediate,
    server: leaf('kube-apiserver', 'serverAuth', { privateKey: rootKey, certificate: root }),
    client: leaf('kubernetes-admin', 'clientAuth', { privateKey: rootKey, certificate: root }),
    underIntermediate: leaf('kube-apiserver', 'serverAuth', { privateKey: intermediateKey, certificate: intermediate }),
  };
}

describe.each([...KEY_ALGORITHMS])('%s certificates', (algorithm) => {
  const files = tempDir();
  let pki: Pki;
  const path = (name: keyof Pki) => files.file(`${name}.pem`, pki[name].pem);

  beforeAll(() => {
    pki = buildPki(algorithm);
  });
  afterAll(() => files.cleanup());

  test('openssl verifies a server leaf under the root with -x509_strict -purpose sslserver', () => {
    expect(runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', path('root'), path('server')])).toContain(': OK');
  });

  test('openssl verifies a client leaf with -purpose sslclient and refuses the server leaf for it', () => {
    expect(runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', path('root'), path('client')])).toContain(': OK');
    const wrongPurpose = run('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', path('root'), path('server')]);
    expect(wrongPurpose.status).not.toBe(0);
    expect(wrongPurpose.stdout + wrongPurpose.stderr).toMatch(/unsuitable certificate purpose/);
  });

  test('openssl verifies a leaf under root + intermediate, and refuses it without the intermediate', () => {
    const ok = runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', path('root'), '-untrusted', path('intermediate'), path('underIntermediate')]);
    expect(ok).toContain(': OK');
    const missing = run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', path('root'), path('underIntermediate')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/unable to get local issuer certificate/);
  });

  test('openssl refuses a leaf against another CA', () => {
    const other = tempDir();
    try {
      const stranger = buildPki(algorithm).root;
      const result = run('openssl', ['verify', '-x509_strict', '-CAfile', other.file('stranger.pem', stranger.pem), path('server')]);
      expect(result.status).not.toBe(0);
    } finally {
      other.cleanup();
    }
  });

  test('openssl -text shows the expected extensions', () => {
    const root = runOk('openssl', ['x509', '-in', path('root'), '-noout', '-text']);
    expect(root).toContain('Version: 3 (0x2)');
    expect(root).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/);
    expect(root).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    expect(root).toContain('X509v3 Subject Key Identifier');
    expect(root).not.toContain('X509v3 Authority Key Identifier'); // self-signed, as Go does
    expect(root).toContain(`Signature Algorithm: ${OPENSSL_SIGNATURE_NAMES[algorithm]}`);

    const intermediate = runOk('openssl', ['x509', '-in', path('intermediate'), '-noout', '-text']);
    expect(intermediate).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);

    const server = runOk('openssl', ['x509', '-in', path('server'), '-noout', '-text']);
    expect(server).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE\n/);
    const keyUsage = algorithm.startsWith('rsa-') ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
    expect(server).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${keyUsage}\\n`));
    expect(server).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
    expect(server).toMatch(
      /X509v3 Subject Alternative Name:\s+DNS:kubernetes, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1\n/,
    );
    expect(server).toContain('X509v3 Authority Key Identifier');
    expect(server).not.toMatch(/sha1|SHA1/);

    // The AKI of the leaf is the SKI of the root.
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(root)![1];
    expect(server).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${ski}`));
  });

  test("node's X509Certificate agrees on subject, SANs, issuer and signature", () => {
    const server = new crypto.X509Certificate(pki.server.pem);
    const root = new crypto.X509Certificate(pki.root.pem);
    expect(server.subject).toBe('CN=kube-apiserver');
    expect(server.issuer).toBe('CN=kubernetes');
    expect(server.subjectAltName).toBe('DNS:kubernetes, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkIssued(root)).toBe(true);
    expect(server.verify(root.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(root.ca).toBe(true);
    expect(new crypto.X509Certificate(pki.client.pem).subject).toBe('O=kubeadm:cluster-admins\nCN=kubernetes-admin');
    expect(server.serialNumber.length).toBeGreaterThanOrEqual(16); // ≥ 64 bits, in hex
  });

  test('the engine reads back what openssl reads', () => {
    const ossl = runOk('openssl', ['x509', '-in', path('server'), '-noout', '-serial', '-fingerprint', '-sha256', '-pubkey']);
    expect(ossl).toContain(`serial=${pki.server.serialNumberHex.toUpperCase()}`);
    expect(ossl.replace(/:/g, '')).toContain(pki.server.fingerprintSha256.toUpperCase());
    const spkiDer = runOk('openssl', ['pkey', '-pubin', '-in', files.file('server.pub', ossl.slice(ossl.indexOf('-----BEGIN PUBLIC KEY'))), '-outform', 'DER']);
    // openssl writes DER to stdout as binary; compare through the PEM form instead.
    expect(spkiDer.length).toBeGreaterThan(0);
    expect(pki.server.publicKey.export({ type: 'spki', format: 'pem' })).toBe(ossl.slice(ossl.indexOf('-----BEGIN PUBLIC KEY')));
  });
});

describe('identities consumers compute', () => {
  const files = tempDir();
  afterAll(() => files.cleanup());
  const key = generateKey('ecdsa-p256');
  const ca = issueCertificate({ subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: YEAR }, key, { privateKey: key }, NOW);

  test("the SPKI pin is kubeadm's --discovery-token-ca-cert-hash, as the documented openssl pipeline computes it", () => {
    const pem = files.file('ca.pem', ca.pem);
    const script = `openssl x509 -pubkey -in '${pem}' | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'`;
    expect(ca.spkiPin).toBe(`sha256:${runOk('sh', ['-c', script]).trim()}`);
  });

  test("Rancher's CA checksum equals sha256sum of the trimmed PEM plus one newline", () => {
    const padded = files.file('cacerts.pem', `\n\n  ${ca.pem}\n\n`);
    const script = `printf '%s\\n' "$(sed -e 's/^[[:space:]]*//' '${padded}' | sed -e '/./,$!d')" | sha256sum | cut -d' ' -f1`;
    expect(rancherCaChecksum(`\n\n  ${ca.pem}\n\n`)).toBe(runOk('sh', ['-c', script]).trim());
  });
});

describe('refusals', () => {
  const caKey = generateKey('ecdsa-p256');
  const ca = issueCertificate({ subject: { commonName: 'short-ca' }, ca: {}, validitySeconds: 30 * 24 * 3600 }, caKey, { privateKey: caKey }, NOW);

  test('RSA keys below 2048 bits are refused', () => {
    const weak = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => issueCertificate({ subject: { commonName: 'x' }, validitySeconds: 3600 }, weak, { privateKey: caKey, certificate: ca }, NOW)).toThrow(
      expect.objectContaining({ field: 'key', reason: expect.stringMatching(/1024 bits are refused/) }),
    );
  });

  test('a validity beyond the issuer is an error, not a silent clamp', () => {
    let error: SpecError | undefined;
    try {
      issueCertificate({ subject: { commonName: 'x' }, validitySeconds: YEAR }, generateKey('ecdsa-p256'), { privateKey: caKey, certificate: ca }, NOW);
    } catch (err) {
      error = err as SpecError;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect(error!.field).toBe('validitySeconds');
    expect(error!.message).toMatch(/after its issuer "short-ca" ends/);
  });

  test('a leaf outside the name constraints of its CA is refused at issuance, and openssl enforces the constraint too', () => {
    const files = tempDir();
    try {
      const constrainedKey = generateKey('ecdsa-p256');
      const constrained = issueCertificate(
        { subject: { commonName: 'cluster-local-ca' }, ca: { nameConstraints: { permittedDnsDomains: ['cluster.local'], permittedIpRanges: ['10.0.0.0/8'] } }, validitySeconds: YEAR },
        constrainedKey,
        { privateKey: constrainedKey },
        NOW,
      );
      const text = runOk('openssl', ['x509', '-in', files.file('nc.pem', constrained.pem), '-noout', '-text']);
      expect(text).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+DNS:cluster.local\s+IP:10.0.0.0\/255.0.0.0/);
      const signer = { privateKey: constrainedKey, certificate: constrained };
      expect(() => issueCertificate({ subject: { commonName: 'x' }, sans: { dnsNames: ['example.com'] }, validitySeconds: 3600 }, generateKey('ecdsa-p256'), signer, NOW)).toThrow(
        expect.objectContaining({ field: 'sans.dnsNames[0]' }),
      );
      expect(() => issueCertificate({ subject: { commonName: 'x' }, sans: { ipAddresses: ['192.168.1.1'] }, validitySeconds: 3600 }, generateKey('ecdsa-p256'), signer, NOW)).toThrow(
        expect.objectContaining({ field: 'sans.ipAddresses[0]' }),
      );
      const inside = issueCertificate(
        { subject: { commonName: 'svc' }, sans: { dnsNames: ['svc.ns.svc.cluster.local'], ipAddresses: ['10.1.2.3'] }, extendedKeyUsage: ['serverAuth'], validitySeconds: 3600 },
        generateKey('ecdsa-p256'),
        signer,
        NOW,
      );
      expect(runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', files.file('nc.pem'), files.file('inside.pem', inside.pem)])).toContain(': OK');
    } finally {
      files.cleanup();
    }
  });

  test('a CA with pathLength 0 signs no further CA', () => {
    const key = generateKey('ecdsa-p256');
    const leafOnly = issueCertificate({ subject: { commonName: 'leaf-only' }, ca: { pathLength: 0 }, validitySeconds: YEAR }, key, { privateKey: key }, NOW);
    expect(() => issueCertificate({ subject: { commonName: 'sub' }, ca: {}, validitySeconds: 3600 }, generateKey('ecdsa-p256'), { privateKey: key, certificate: leafOnly }, NOW)).toThrow(
      expect.objectContaining({ field: 'ca' }),
    );
  });

  test('a non-CA certificate cannot issue', () => {
    const leafKey = generateKey('ecdsa-p256');
    const leaf = issueCertificate({ subject: { commonName: 'leaf' }, validitySeconds: 3600 }, leafKey, { privateKey: caKey, certificate: ca }, NOW);
    expect(() => issueCertificate({ subject: { commonName: 'x' }, validitySeconds: 60 }, generateKey('ecdsa-p256'), { privateKey: leafKey, certificate: leaf }, NOW)).toThrow(
      expect.objectContaining({ field: 'issuer' }),
    );
  });
});
