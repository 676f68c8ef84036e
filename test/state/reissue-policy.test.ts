import { X509Certificate } from 'node:crypto';
import { generateKey, issueCertificate } from '../../src/engine';
import { CertificateSpec } from '../../src/engine/spec';
import { CertificateRecord } from '../../src/state/records';
import { decideReissue, describeReason, ReissueDecision, ReissueRequest, specHashOf } from '../../src/state/reissue-policy';

const HOUR = 3600;
const START = new Date('2026-03-01T12:00:00Z');
const KEY = generateKey('ecdsa-p256');

const leafSpec: CertificateSpec = {
  subject: { commonName: 'kube-apiserver', organizations: ['a'] },
  sans: { dnsNames: ['kubernetes'], ipAddresses: ['10.0.0.11'] },
  extendedKeyUsage: ['serverAuth'],
  validitySeconds: 8760 * HOUR,
};
const caSpec: CertificateSpec = { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 87600 * HOUR };

const request = (spec: CertificateSpec, overrides: Partial<ReissueRequest> = {}): ReissueRequest => ({ slot: 'cluster/x', spec, keyAlgorithm: 'ecdsa-p256', issuer: 'self', ...overrides });

/** A record as synth writes it for `asked`, issued at START. */
function recordFor(asked: ReissueRequest, extra: Partial<CertificateRecord> = {}): CertificateRecord {
  const certificate = issueCertificate(asked.spec, KEY, { privateKey: KEY }, START);
  return {
    version: 1,
    keyAlgorithm: asked.keyAlgorithm,
    keyGeneration: 1,
    specHash: specHashOf(asked),
    spec: JSON.parse(JSON.stringify(asked.spec)),
    issuer: asked.issuer,
    certificate: certificate.pem,
    chain: [],
    issuedAt: START.toISOString(),
    reasons: ['not in the state'],
    ...extra,
  };
}

const reasonsOf = (decision: ReissueDecision) => ('reasons' in decision ? decision.reasons.map(describeReason) : []);
const soon = new Date(START.getTime() + HOUR * 1000);

describe('the reissue policy', () => {
  const recorded = recordFor(request(leafSpec));

  test('nothing recorded: issue', () => {
    expect(decideReissue(request(leafSpec), undefined, START)).toEqual({ action: 'issue' });
  });

  test('the same request before its renewal window: keep', () => {
    expect(decideReissue(request(leafSpec), recorded, soon).action).toBe('keep');
  });

  test.each<[string, CertificateSpec | Partial<ReissueRequest>, string[]]>([
    ['SANs', { ...leafSpec, sans: { dnsNames: ['kubernetes'], ipAddresses: ['10.0.0.11', '10.0.0.5'] } }, ['SANs +10.0.0.5']],
    ['SANs removed and added', { ...leafSpec, sans: { dnsNames: ['k8s.example.com'], ipAddresses: ['10.0.0.11'] } }, ['SANs +k8s.example.com -kubernetes']],
    ['field none of the others names', { ...leafSpec, sans: { dnsNames: ['kubernetes'], ipAddresses: ['10.0.0.11'], uris: [] } }, ['spec changed']],
    ['validity', { ...leafSpec, validitySeconds: 17520 * HOUR }, ['validity 8760h → 17520h']],
    ['subject CN', { ...leafSpec, subject: { commonName: 'b', organizations: ['a'] } }, ['subject CN "kube-apiserver" → "b"']],
    ['subject O', { ...leafSpec, subject: { commonName: 'kube-apiserver', organizations: ['a', 'system:masters'] } }, ['subject O +system:masters']],
    ['extended usages', { ...leafSpec, extendedKeyUsage: ['serverAuth', 'clientAuth'] }, ['usages +clientAuth']],
    ['key usages', { ...leafSpec, keyUsage: ['digitalSignature'] }, ['key usages +digitalSignature']],
    ['issuer', { issuer: 'a'.repeat(64) }, ['issuer changed']],
  ])('a changed %s: reissue, naming the field', (_, change, expected) => {
    const asked = 'subject' in change ? request(change as CertificateSpec) : request(leafSpec, change as Partial<ReissueRequest>);
    const decision = decideReissue(asked, recorded, soon);
    expect(decision).toMatchObject({ action: 'reissue', newKey: false });
    expect(reasonsOf(decision)).toEqual(expected);
  });

  test.each<[string, CertificateSpec, string]>([
    ['pathLength', { ...caSpec, ca: { pathLength: 0 } }, 'CA pathLength unlimited → 0'],
    ['name constraints', { ...caSpec, ca: { nameConstraints: { permittedDnsDomains: ['cluster.local'] } } }, 'CA name constraints changed'],
    ['CA flag', { ...caSpec, ca: undefined }, 'no longer a CA'],
  ])('a CA whose %s changed: reissue with its key', (_, spec, expected) => {
    const decision = decideReissue(request(spec), recordFor(request(caSpec)), soon);
    expect(decision).toMatchObject({ action: 'reissue', newKey: false });
    expect(reasonsOf(decision)).toEqual([expected]);
  });

  test('a leaf key algorithm change: reissue with a new key', () => {
    const decision = decideReissue(request(leafSpec, { keyAlgorithm: 'rsa-2048' }), recorded, soon);
    expect(decision).toMatchObject({ action: 'reissue', newKey: true });
    expect(reasonsOf(decision)).toEqual(['key algorithm ecdsa-p256 → rsa-2048']);
  });

  test('a CA key algorithm change is refused unless a key rotation was requested', () => {
    const ca = recordFor(request(caSpec));
    expect(decideReissue(request(caSpec, { keyAlgorithm: 'ecdsa-p384' }), ca, soon)).toEqual({
      action: 'refuse',
      field: 'keyAlgorithm',
      reason: `changing the key of CA "kubernetes" (ecdsa-p256 → ecdsa-p384) replaces the CA; rotate it in phases instead: declare \`rotation: { id, phase: 'trust-both' }\` (\`caRotation\` in a cluster spec), whose new CA gets the new key`,
    });
    expect(decideReissue(request(caSpec, { keyPolicy: 'rotate', spec: { ...caSpec, validitySeconds: HOUR * 1000 } }), ca, soon).action).toBe('refuse');
    const rotating = decideReissue(request(caSpec, { keyAlgorithm: 'ecdsa-p384' }), { ...ca, keyRotationRequested: true }, soon);
    expect(rotating).toMatchObject({ action: 'rotate', newKey: true });
    expect(reasonsOf(rotating)).toEqual(['key algorithm ecdsa-p256 → ecdsa-p384', 'key rotation requested']);
  });

  test('requests: renewal keeps the key, key rotation does not', () => {
    expect(decideReissue(request(leafSpec), { ...recorded, renewalRequested: true }, soon)).toEqual({ action: 'renew', newKey: false, reasons: [{ kind: 'renewal-requested' }] });
    expect(decideReissue(request(leafSpec), { ...recorded, keyRotationRequested: true }, soon)).toEqual({ action: 'rotate', newKey: true, reasons: [{ kind: 'key-rotation-requested' }] });
  });

  test('keyPolicy rotate gives any re-issue a new key', () => {
    const decision = decideReissue(request({ ...leafSpec, validitySeconds: 100 * HOUR }, { keyPolicy: 'rotate' }), recorded, soon);
    expect(decision).toMatchObject({ action: 'reissue', newKey: true });
  });

  test('a record of an older version (hash only) says "spec changed", and keeps when the hash matches', () => {
    const { spec: _spec, issuer: _issuer, ...old } = recorded;
    expect(decideReissue(request(leafSpec), old, soon).action).toBe('keep');
    expect(reasonsOf(decideReissue(request({ ...leafSpec, validitySeconds: HOUR * 10 }), old, soon))).toEqual(['spec changed']);
    expect(reasonsOf(decideReissue(request(leafSpec, { keyAlgorithm: 'ed25519' }), old, soon))).toEqual(['key algorithm ecdsa-p256 → ed25519', 'spec changed']);
  });

  describe('the renewal window: renew when now >= notAfter - renewBefore', () => {
    // The oracle for notAfter is node's own X.509 parser, not the engine's.
    const notAfter = new Date(new X509Certificate(recorded.certificate).validTo).getTime();
    const at = (ms: number) => new Date(ms);

    test('default renewBefore (a third of the validity): one millisecond before the edge keeps, the edge renews', () => {
      const renewBefore = Math.floor(leafSpec.validitySeconds / 3) * 1000;
      expect(decideReissue(request(leafSpec), recorded, at(notAfter - renewBefore - 1))).toEqual({ action: 'keep', renewAt: at(notAfter - renewBefore) });
      const due = decideReissue(request(leafSpec), recorded, at(notAfter - renewBefore));
      expect(due).toEqual({ action: 'renew', newKey: false, reasons: [{ kind: 'renewal-due', notAfter: at(notAfter), renewAt: at(notAfter - renewBefore) }] });
      expect(reasonsOf(due)).toEqual([`renewal due (expires ${at(notAfter).toISOString()})`]);
    });

    test('an explicit renewBefore, and renewBefore 0 (renew only once expired)', () => {
      const asked = request(leafSpec, { renewBeforeSeconds: 30 * 24 * HOUR });
      expect(decideReissue(asked, recorded, at(notAfter - 30 * 24 * HOUR * 1000 - 1)).action).toBe('keep');
      expect(decideReissue(asked, recorded, at(notAfter - 30 * 24 * HOUR * 1000)).action).toBe('renew');
      const never = request(leafSpec, { renewBeforeSeconds: 0 });
      expect(decideReissue(never, recorded, at(notAfter - 1)).action).toBe('keep');
      expect(decideReissue(never, recorded, at(notAfter)).action).toBe('renew');
    });

    test('a spec change inside the window is a reissue that also names the renewal', () => {
      const decision = decideReissue(request({ ...leafSpec, validitySeconds: 17520 * HOUR }), recorded, at(notAfter));
      expect(decision.action).toBe('reissue');
      expect(reasonsOf(decision)).toEqual(['validity 8760h → 17520h', `renewal due (expires ${at(notAfter).toISOString()})`]);
    });
  });
});
