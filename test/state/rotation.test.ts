import * as crypto from 'node:crypto';
import { CaRotation, PkiState } from '../../src/state/pki-state';
import { MemoryStore } from '../../src/state/store';

const DAY = 86_400;
const START = new Date('2026-03-01T12:00:00Z');
const CA_SPEC = { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY };
const rotation = (phase?: CaRotation['phase']): CaRotation | undefined => (phase ? { id: '2027', phase } : undefined);

/** A CA, a leaf it signs and a service-account key pair, all in `phase`. */
function synth(store: MemoryStore, phase?: CaRotation['phase']) {
  const state = new PkiState({ store, clock: () => START });
  const ca = state.ensureRotatingCertificate({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: CA_SPEC }, rotation(phase));
  const leaf = state.ensure({
    slot: 'cluster/apiserver',
    keyAlgorithm: 'ecdsa-p256',
    spec: { subject: { commonName: 'kube-apiserver' }, extendedKeyUsage: ['serverAuth'], validitySeconds: 365 * DAY },
    issuer: { certificate: ca.signer.certificate, privateKey: ca.signer.privateKey, chain: [] },
  });
  const sa = state.ensureRotatingKey('cluster/sa', 'ecdsa-p256', rotation(phase));
  return { state, ca, leaf, sa };
}

const copy = (store: MemoryStore) => {
  const out = new MemoryStore();
  for (const name of store.list()) out.write(name, store.read(name)!, false);
  return out;
};
const entries = (store: MemoryStore) => Object.fromEntries(store.list().map((name) => [name, store.read(name)!.toString('utf8')]));
const keyFiles = (store: MemoryStore) => Object.fromEntries(Object.entries(entries(store)).filter(([name]) => /\/key-\d+\.pem$/.test(name)));
const spki = (key: crypto.KeyObject) => crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('hex');
const spkiOfPem = (pem: string) => crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('hex');

describe('a CA and a key pair through the phases, on one state', () => {
  const store = new MemoryStore();
  const seen: Record<string, string> = {};
  /** Runs the phase and commits; every key file ever written is still there, unchanged. */
  const step = (phase?: CaRotation['phase']) => {
    const result = synth(store, phase);
    result.state.commit();
    for (const [name, pem] of Object.entries(keyFiles(store))) {
      if (seen[name] !== undefined) expect(pem).toBe(seen[name]);
      seen[name] = pem;
    }
    expect(Object.keys(keyFiles(store)).length).toBeGreaterThanOrEqual(Object.keys(seen).length);
    return result;
  };
  const x509 = (c: { certificate: { pem: string } }) => new crypto.X509Certificate(c.certificate.pem);

  test('start, trust-both, issue-from-new, drop-old: the bundle, the signer and sa.pub of each', () => {
    const start = step();
    const oldCa = x509(start.ca.signer);
    const oldSa = spki(start.sa.signing.privateKey);
    expect(start.ca.trusted.map(x509).map((c) => c.fingerprint256)).toEqual([oldCa.fingerprint256]);

    const both = step('trust-both');
    const [first, second] = both.ca.trusted.map(x509);
    expect(first.fingerprint256).toBe(oldCa.fingerprint256);
    expect(second.subject).toBe(oldCa.subject);
    expect(spkiOfPem(second.publicKey.export({ type: 'spki', format: 'pem' }) as string)).not.toBe(spkiOfPem(oldCa.publicKey.export({ type: 'spki', format: 'pem' }) as string));
    // Nothing is re-issued: the leaf is the start's, still signed by the old CA.
    expect(both.leaf.certificate.pem).toBe(start.leaf.certificate.pem);
    expect(both.sa.signing.generation).toBe(1);
    expect(both.sa.verifying.map((k) => k.generation)).toEqual([1, 2]);
    expect(spkiOfPem(both.sa.verifying[0].publicKeyPem)).toBe(oldSa);

    const issuing = step('issue-from-new');
    expect(issuing.ca.trusted.map(x509).map((c) => c.fingerprint256)).toEqual([second.fingerprint256, oldCa.fingerprint256]);
    expect(x509(issuing.leaf).verify(second.publicKey)).toBe(true);
    expect(x509(issuing.leaf).verify(oldCa.publicKey)).toBe(false);
    expect(spki(issuing.leaf.privateKey)).toBe(spki(start.leaf.privateKey));
    expect(issuing.sa.verifying.map((k) => k.generation)).toEqual([2, 1]);
    expect(spki(issuing.sa.signing.privateKey)).toBe(spkiOfPem(both.sa.verifying[1].publicKeyPem));

    const dropped = step('drop-old');
    expect(dropped.ca.trusted.map(x509).map((c) => c.fingerprint256)).toEqual([second.fingerprint256]);
    expect(dropped.sa.verifying.map((k) => k.generation)).toEqual([2]);
    expect(dropped.ca.phase).toBe('drop-old');
    // The old CA's key stays in the state, and its record in the archive.
    expect(Object.keys(keyFiles(store)).filter((n) => n.startsWith('cluster/ca/')).sort()).toEqual(['cluster/ca/key-1.pem', 'cluster/ca/key-2.pem']);
    expect(JSON.parse(store.read('cluster/ca/rotation.json')!.toString()).archived.map((a: { why: string; record: { keyGeneration: number } }) => [a.why, a.record.keyGeneration])).toEqual([['dropped', 1]]);

    // Removing the finished declaration changes nothing; a new rotation (a new id) makes generation 3 beside 2.
    const after = synth(store);
    expect(after.state.pendingChanges()).toEqual([]);
    const next = new PkiState({ store, clock: () => START }).ensureRotatingCertificate({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: CA_SPEC }, { id: '2028', phase: 'trust-both' });
    expect(next.trusted.map((t) => new crypto.X509Certificate(t.certificate.pem).fingerprint256)).toEqual([second.fingerprint256, expect.any(String)]);
    expect(JSON.parse(store.read('cluster/ca/rotation.json')!.toString()).id).toBe('2027');
  });
});

describe('each declaration again changes nothing', () => {
  test.each([undefined, 'trust-both', 'issue-from-new', 'drop-old'] as const)('%s', (phase) => {
    const store = new MemoryStore();
    synth(store).state.commit();
    for (const p of ['trust-both', 'issue-from-new', 'drop-old'] as const) {
      if (phase === undefined) break;
      synth(store, p).state.commit();
      if (p === phase) break;
    }
    const before = entries(store);
    const again = synth(store, phase === undefined ? undefined : phase);
    expect(again.state.pendingChanges()).toEqual([]);
    again.state.commit();
    expect(entries(store)).toEqual(before);
  });
});

describe('rollbacks', () => {
  test('issue-from-new → trust-both signs with the old CA again, with the trust-both bundle byte for byte', () => {
    const store = new MemoryStore();
    synth(store).state.commit();
    const both = synth(store, 'trust-both');
    both.state.commit();
    synth(store, 'issue-from-new').state.commit();
    const back = synth(store, 'trust-both');
    back.state.commit();
    expect(back.ca.trusted.map((t) => t.certificate.pem)).toEqual(both.ca.trusted.map((t) => t.certificate.pem));
    expect(back.sa.verifying).toEqual(both.sa.verifying);
    expect(back.leaf.certificate.isSignedBy(both.ca.signer.certificate.publicKey)).toBe(true);
  });

  test('trust-both → undeclared archives the new CA; a second attempt makes another one', () => {
    const store = new MemoryStore();
    const start = synth(store);
    start.state.commit();
    synth(store, 'trust-both').state.commit();
    const back = synth(store);
    back.state.commit();
    expect(back.ca.trusted.map((t) => t.certificate.pem)).toEqual(start.ca.trusted.map((t) => t.certificate.pem));
    expect(back.sa.verifying).toEqual(start.sa.verifying);
    const again = synth(store, 'trust-both');
    expect(again.ca.trusted.map((t) => t.certificate.pem)[1]).not.toBe(undefined);
    again.state.commit();
    expect(store.list().filter((n) => n.startsWith('cluster/ca/key-'))).toEqual(['cluster/ca/key-1.pem', 'cluster/ca/key-2.pem', 'cluster/ca/key-3.pem']);
  });
});

describe('refusals write nothing', () => {
  test.each([
    [[], 'issue-from-new', /no rotation was ever started; a rotation starts with trust-both \(got issue-from-new\)/],
    [['trust-both'], 'drop-old', /rotation "2027" is in phase trust-both, so drop-old would skip a phase/],
    [['trust-both', 'issue-from-new'], undefined, /a rollback goes back one phase per synth: declare trust-both first/],
  ] as const)('after %j, %s', (steps, phase, message) => {
    const store = new MemoryStore();
    synth(store).state.commit();
    for (const p of steps) synth(store, p).state.commit();
    const before = entries(store);
    expect(() => synth(store, phase)).toThrow(message);
    expect(entries(store)).toEqual(before);
  });

  test('a rotation of a CA the state does not hold yet is refused', () => {
    expect(() => synth(new MemoryStore(), 'trust-both')).toThrow(/rotation\.phase: "cluster\/ca" is not in the state yet, so there is nothing to rotate/);
  });
});

describe('a commit killed between certificate.json and rotation.json is completed from rotation.json', () => {
  // The two halves of the issue-from-new commit, each alone on disk: what a kill between the two writes leaves.
  const store = new MemoryStore();
  synth(store).state.commit();
  synth(store, 'trust-both').state.commit();
  const trustBoth = copy(store);
  const issuing = synth(store, 'issue-from-new');
  issuing.state.commit();
  const issueFromNew = copy(store);
  const halves = {
    'certificate records written, rotation records not': (() => {
      const s = copy(trustBoth);
      for (const name of ['cluster/ca/certificate.json', 'cluster/sa/key.json']) s.write(name, issueFromNew.read(name)!, false);
      return s;
    })(),
    'rotation records written, certificate records not': (() => {
      const s = copy(issueFromNew);
      for (const name of ['cluster/ca/certificate.json', 'cluster/sa/key.json']) s.write(name, trustBoth.read(name)!, false);
      return s;
    })(),
  };
  test.each(Object.keys(halves))('%s', (name) => {
    const half = halves[name as keyof typeof halves];
    const resumed = synth(half, 'issue-from-new');
    expect(resumed.ca.trusted.map((t) => t.certificate.pem)).toEqual(issuing.ca.trusted.map((t) => t.certificate.pem));
    expect(resumed.ca.signer.keyGeneration).toBe(2);
    expect(resumed.sa.verifying).toEqual(issuing.sa.verifying);
    resumed.state.commit();
    for (const record of ['cluster/ca/certificate.json', 'cluster/ca/rotation.json', 'cluster/sa/key.json', 'cluster/sa/rotation.json']) {
      expect(JSON.parse(half.read(record)!.toString())).toMatchObject(JSON.parse(issueFromNew.read(record)!.toString()));
    }
  });
});

test('the rotation inventory names the standby CA and the archive', () => {
  const store = new MemoryStore();
  synth(store).state.commit();
  const both = synth(store, 'trust-both');
  both.state.commit();
  const listed = new PkiState({ store }).rotationInventory();
  expect(listed.map((e) => [e.slot, e.kind, e.phase, e.standby?.role, e.standby?.keyGeneration])).toEqual([
    ['cluster/ca', 'certificate-authority', 'trust-both', 'incoming', 2],
    ['cluster/sa', 'key', 'trust-both', 'incoming', 2],
  ]);
  expect(listed[0].standby?.certificate?.pem).toBe(both.ca.trusted[1].certificate.pem);
  synth(store).state.commit();
  expect(new PkiState({ store }).rotationInventory().map((e) => [e.phase, e.standby, e.archived.map((a) => [a.why, a.keyGeneration])])).toEqual([
    ['rolled-back', undefined, [['rolled back', 2]]],
    ['rolled-back', undefined, [['rolled back', 2]]],
  ]);
});
