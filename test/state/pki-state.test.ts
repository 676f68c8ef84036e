import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKey, issueCertificate, publicKeyToPem, SpecError, StateError } from '../../src/engine';
import { CredentialRequest, Issuer, PkiState } from '../../src/state/pki-state';
import { stateStoreFromEnvironment } from '../../src/state/environment';
import { runOk, snapshotDir, tempDir } from '../support/programs';

const DAY = 86400;
const START = new Date('2026-03-01T12:00:00Z');

/** A miniature synth: a CA and two leaves under it, the way constructs ask for them. */
function synth(state: PkiState, leafSans: string[] = ['10.0.0.11'], options: Partial<CredentialRequest> = {}) {
  const ca = state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
  const issuer: Issuer = { certificate: ca.certificate, privateKey: ca.privateKey, chain: ca.chain };
  const server = state.ensure({
    slot: 'cluster/apiserver',
    keyAlgorithm: 'ecdsa-p256',
    spec: { subject: { commonName: 'kube-apiserver' }, sans: { ipAddresses: leafSans }, extendedKeyUsage: ['serverAuth'], validitySeconds: 365 * DAY },
    issuer,
    ...options,
  });
  const client = state.ensure({
    slot: 'cluster/admin',
    keyAlgorithm: 'ecdsa-p256',
    spec: { subject: { commonName: 'kubernetes-admin', organizations: ['kubeadm:cluster-admins'] }, extendedKeyUsage: ['clientAuth'], validitySeconds: 365 * DAY },
    issuer,
  });
  return { ca, server, client };
}

/** The state's files without the lock's, which every locked commit moves on. */
function stateFiles(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshotDir(dir)).filter(([name]) => !/(^|\/)\.(un)?lock-\d+$/.test(name)));
}

/** Temp files anywhere under `dir`. */
function tempFiles(dir: string): string[] {
  return Object.keys(snapshotDir(dir)).filter((name) => name.endsWith('.tmp'));
}

/** The compiled test/support/killed-synth.ts (`npm test` builds lib/ first), run against `dir`. */
function killedSynth(dir: string, mode: 'after' | 'during' | 'gitignore', writes: number) {
  const script = path.resolve(__dirname, '../../lib/test/support/killed-synth.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` (npm test does it)`);
  return spawnSync(process.execPath, [script, dir, mode, String(writes)], { encoding: 'utf8', timeout: 30_000 });
}

const spki = (cred: { privateKey: import('node:crypto').KeyObject }) => cred.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('hex');

describe('a directory state', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dir: string;
  let now: Date;
  const open = (options: { frozen?: boolean } = {}) => PkiState.inDirectory(dir, { clock: () => now, ...options });

  beforeEach(() => {
    tmp = tempDir();
    dir = path.join(tmp.dir, '.pki');
    now = START;
  });
  afterEach(() => tmp.cleanup());

  test('the same spec, state and clock give the same material and write nothing', () => {
    const state = open();
    const a = synth(state);
    state.commit();
    const before = snapshotDir(dir);
    const again = open();
    const b = synth(again);
    expect(again.pendingChanges()).toEqual([]);
    again.commit();
    expect(snapshotDir(dir)).toEqual(before);
    expect(b.ca.certificate.pem).toBe(a.ca.certificate.pem);
    expect(b.server.certificate.pem).toBe(a.server.certificate.pem);
    expect(spki(b.server)).toBe(spki(a.server));
  });

  test('material of a synth that never committed is not kept', () => {
    const uncommitted = synth(open());
    const state = open();
    const committed = synth(state);
    expect(state.pendingChanges()).toHaveLength(3);
    expect(committed.ca.certificate.pem).not.toBe(uncommitted.ca.certificate.pem);
  });

  test('changing one SAN re-issues only that certificate, with its key kept', () => {
    const state = open();
    const a = synth(state);
    state.commit();
    now = new Date(START.getTime() + 3600_000);
    const next = open();
    const b = synth(next, ['10.0.0.11', '192.0.2.10']);
    expect(next.pendingChanges()).toEqual([{ slot: 'cluster/apiserver', reasons: ['SANs +192.0.2.10'] }]);
    expect(b.server.certificate.pem).not.toBe(a.server.certificate.pem);
    expect(b.server.certificate.sans.ipAddresses).toEqual(['10.0.0.11', '192.0.2.10']);
    expect(spki(b.server)).toBe(spki(a.server));
    expect(b.ca.certificate.pem).toBe(a.ca.certificate.pem);
    expect(b.client.certificate.pem).toBe(a.client.certificate.pem);
    next.commit();
    expect(fs.existsSync(path.join(dir, 'cluster/apiserver/key-2.pem'))).toBe(false);
  });

  test('a certificate is renewed with the same key once its renewal window opens, not before', () => {
    const state = open();
    const a = synth(state);
    state.commit();
    now = new Date(START.getTime() + 240 * DAY * 1000); // 125 days left: more than a third of 365
    const early = open();
    synth(early);
    expect(early.pendingChanges()).toEqual([]);
    now = new Date(START.getTime() + 250 * DAY * 1000); // 115 days left: inside the window
    const due = open();
    const b = synth(due);
    expect(due.pendingChanges().map((c) => c.slot).sort()).toEqual(['cluster/admin', 'cluster/apiserver']);
    expect(due.pendingChanges()[0].reasons[0]).toMatch(/^renewal due \(expires /);
    expect(b.server.certificate.notAfter.getTime()).toBe(now.getTime() + 365 * DAY * 1000);
    expect(spki(b.server)).toBe(spki(a.server));
    expect(b.ca.certificate.pem).toBe(a.ca.certificate.pem);
  });

  test('keyPolicy rotate gives a re-issued certificate a new key', () => {
    const state = open();
    const a = synth(state, ['10.0.0.11'], { keyPolicy: 'rotate' });
    state.commit();
    const next = open();
    const b = synth(next, ['10.0.0.12'], { keyPolicy: 'rotate' });
    expect(spki(b.server)).not.toBe(spki(a.server));
    expect(b.server.keyGeneration).toBe(2);
  });

  test("a CA's new key is refused outside the phases: it would replace the CA in every bundle at once", () => {
    const state = open();
    synth(state);
    state.commit();
    expect(() => open().requestRotation('cluster/ca', { newKey: true })).toThrow(/"cluster\/ca" is a CA, and a new CA key is rolled out in phases: declare `rotation: \{ id, phase: 'trust-both' \}`/);
  });

  test('a requested key rotation makes a new key generation and keeps the old key file', () => {
    const state = open();
    const a = synth(state);
    state.commit();
    open().requestRotation('cluster/apiserver', { newKey: true });
    const next = open();
    const b = synth(next);
    expect(b.server.keyGeneration).toBe(2);
    expect(spki(b.server)).not.toBe(spki(a.server));
    expect(b.server.certificate.isSignedBy(b.ca.privateKey)).toBe(true);
    next.commit();
    expect(fs.readFileSync(path.join(dir, 'cluster/apiserver/key-1.pem'), 'utf8')).toBe(a.server.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(open().pendingChanges()).toEqual([]);
    const third = open();
    synth(third);
    expect(third.pendingChanges()).toEqual([]);
  });

  test('a requested renewal re-issues with the same key', () => {
    const state = open();
    const a = synth(state);
    state.commit();
    open().requestRotation('cluster/apiserver', { newKey: false });
    const next = open();
    const b = synth(next);
    expect(next.pendingChanges()).toEqual([{ slot: 'cluster/apiserver', reasons: ['renewal requested'] }]);
    expect(spki(b.server)).toBe(spki(a.server));
    expect(b.server.certificate.serialNumberHex).not.toBe(a.server.certificate.serialNumberHex);
  });

  test("a CA's key algorithm is not changed without an explicit rotation", () => {
    const state = open();
    synth(state);
    state.commit();
    const next = open();
    expect(() => next.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p384', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } })).toThrow(
      /keyAlgorithm: changing the key of CA "kubernetes" \(ecdsa-p256 → ecdsa-p384\) replaces the CA; rotate it in phases instead: declare `rotation: \{ id, phase: 'trust-both' \}`/,
    );
  });

  test('a corrupt record stops synth with the file named, and nothing is regenerated', () => {
    const state = open();
    synth(state);
    state.commit();
    const record = path.join(dir, 'cluster/ca/certificate.json');
    fs.writeFileSync(record, '{"version": 1, "keyAlg');
    const before = snapshotDir(dir);
    expect(() => synth(open())).toThrow(new RegExp(`${record.replace(/[/.]/g, '\\$&')} is corrupt`));
    fs.writeFileSync(record, JSON.stringify({ version: 2 }));
    expect(() => synth(open())).toThrow(StateError);
    expect(snapshotDir(dir)).toEqual({ ...before, 'cluster/ca/certificate.json': Buffer.from(JSON.stringify({ version: 2 })).toString('base64') });
  });

  test('a missing or unreadable key file stops synth with the file named', () => {
    const state = open();
    synth(state);
    state.commit();
    const key = path.join(dir, 'cluster/apiserver/key-1.pem');
    fs.writeFileSync(key, 'not a key');
    expect(() => synth(open())).toThrow(/key-1.pem is not a readable private key/);
    fs.rmSync(key);
    expect(() => synth(open())).toThrow(/key-1.pem is missing but .*certificate.json refers to it/);
  });

  test('files are 0600, directories 0700, and the directory ignores itself in Git', () => {
    const state = open();
    synth(state);
    state.commit();
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'cluster/ca')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'cluster/ca/key-1.pem')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'cluster/ca/certificate.json')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  test('frozen: a complete state synthesizes; a missing entry fails, lists what would change, and writes nothing', () => {
    const frozenEmpty = open({ frozen: true });
    synth(frozenEmpty);
    expect(() => frozenEmpty.commit()).toThrow(/is frozen, but this synth needs to change it:\n {2}- cluster\/ca: new ecdsa-p256 key; not in the state\n {2}- cluster\/apiserver/);
    expect(fs.existsSync(dir)).toBe(false);

    const state = open();
    synth(state);
    state.commit();
    const before = snapshotDir(dir);
    const frozen = open({ frozen: true });
    synth(frozen);
    expect(() => frozen.commit()).not.toThrow();
    const frozenChanged = open({ frozen: true });
    synth(frozenChanged, ['10.0.0.99']);
    expect(() => frozenChanged.commit()).toThrow(/\n {2}- cluster\/apiserver: SANs \+10\.0\.0\.99 -10\.0\.0\.11\n/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  test('two synths racing: the second commit fails and the first one stands', () => {
    const first = open();
    const second = open();
    const a = synth(first);
    synth(second);
    first.commit();
    const after = stateFiles(dir);
    expect(() => second.commit()).toThrow(/changed while this synth ran \(another synth\?\); nothing was written/);
    expect(stateFiles(dir)).toEqual(after);
    expect(synth(open()).ca.certificate.pem).toBe(a.ca.certificate.pem);
  });

  test('an invalid request writes nothing', () => {
    const state = open();
    expect(() =>
      state.ensure({ slot: 'cluster/bad', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'x' }, sans: { ipAddresses: ['10.0.0.300'] }, validitySeconds: 3600 } }),
    ).toThrow(expect.objectContaining({ field: 'sans.ipAddresses[0]' }));
    state.commit();
    expect(fs.existsSync(dir)).toBe(false);
  });

  test.each([0, 1, 2, 3, 4])('a synth SIGKILLed after %i state writes loses nothing, and the next synth recovers', (writes) => {
    const child = killedSynth(dir, 'after', writes);
    expect(child.signal).toBe('SIGKILL');
    const intendedCaKey = child.stdout;
    const state = open();
    const { ca, server } = synth(state);
    state.commit();
    // Keys that reached the disk were adopted, not replaced: one generation per slot, and a written CA key is the one in use.
    for (const slot of ['cluster/ca', 'cluster/apiserver']) {
      expect(fs.readdirSync(path.join(dir, slot)).filter((f) => f.startsWith('key-'))).toEqual(['key-1.pem']);
    }
    const caKeyWritten = writes >= 2; // the commit journal is the first write
    expect(publicKeyToPem(ca.privateKey) === intendedCaKey).toBe(caKeyWritten);
    expect(tempFiles(dir)).toEqual([]);
    expect(server.certificate.isSignedBy(ca.privateKey)).toBe(true);
    const settled = open();
    synth(settled);
    expect(settled.pendingChanges()).toEqual([]);
  });

  test.each([0, 1, 2])('a synth SIGKILLed inside its write %i leaves a temp file, which the next synth removes under the lock', (writes) => {
    const child = killedSynth(dir, 'during', writes);
    expect(child.signal).toBe('SIGKILL');
    expect(tempFiles(dir)).toHaveLength(1); // written and fsynced, never renamed: what kill -9 leaves
    const state = open();
    synth(state);
    state.commit();
    expect(tempFiles(dir)).toEqual([]);
  });

  test('a synth SIGKILLed while creating the directory leaves no .gitignore; the next synth writes it', () => {
    const child = killedSynth(dir, 'gitignore', 0);
    expect(child.signal).toBe('SIGKILL');
    expect(fs.existsSync(path.join(dir, '.gitignore'))).toBe(false);
    // Opening the state, as every synth and command does, puts it back before anything is written.
    stateStoreFromEnvironment(dir, {});
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    fs.writeFileSync(path.join(dir, '.gitignore'), '');
    const state = open();
    synth(state);
    state.commit();
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  test('git ignores every file of a plaintext state after a kill while the directory was created', () => {
    fs.mkdirSync(path.join(tmp.dir, 'repo'));
    dir = path.join(tmp.dir, 'repo', '.pki');
    runOk('git', ['init', '-q'], { cwd: path.join(tmp.dir, 'repo') });
    expect(killedSynth(dir, 'gitignore', 0).signal).toBe('SIGKILL');
    const state = open();
    synth(state);
    state.commit();
    expect(runOk('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: path.join(tmp.dir, 'repo') })).toBe('');
  });
});

describe('an in-memory state', () => {
  test('with a seed and a fixed clock, two runs give byte-identical material for every algorithm', () => {
    const run = () => {
      const state = PkiState.inMemory({ clock: () => START, seed: 'snapshot' });
      return (['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048'] as const).map((keyAlgorithm) => {
        const ca = state.ensure({ slot: `${keyAlgorithm}/ca`, keyAlgorithm, spec: { subject: { commonName: 'ca' }, ca: {}, validitySeconds: 3650 * DAY } });
        const leaf = state.ensure({
          slot: `${keyAlgorithm}/leaf`,
          keyAlgorithm,
          spec: { subject: { commonName: 'leaf' }, validitySeconds: DAY },
          issuer: { certificate: ca.certificate, privateKey: ca.privateKey, chain: [] },
        });
        expect(leaf.certificate.isSignedBy(ca.privateKey)).toBe(true);
        return ca.certificate.pem + leaf.certificate.pem + leaf.privateKey.export({ type: 'pkcs8', format: 'pem' });
      });
    };
    expect(run()).toEqual(run());
  });

  test('without a seed, keys are random', () => {
    const make = () => PkiState.inMemory().ensure({ slot: 'ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'ca' }, ca: {}, validitySeconds: DAY } });
    expect(make().certificate.pem).not.toBe(make().certificate.pem);
  });

  test('slots must be path-like names', () => {
    expect(() => PkiState.inMemory().ensure({ slot: '../etc', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'x' }, validitySeconds: DAY } })).toThrow(SpecError);
  });

  test('an intermediate under an offline root needs the root key only to be issued', () => {
    const rootKey = generateKey('ecdsa-p256');
    const root = issueCertificate({ subject: { commonName: 'offline-root' }, ca: {}, validitySeconds: 3650 * DAY }, rootKey, { privateKey: rootKey }, START);
    const state = PkiState.inMemory({ clock: () => START });
    const request = (privateKey?: import('node:crypto').KeyObject): CredentialRequest => ({
      slot: 'intermediate',
      keyAlgorithm: 'ecdsa-p256',
      spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 1825 * DAY },
      issuer: { certificate: root, privateKey, chain: [] },
    });
    expect(() => state.ensure(request())).toThrow(/issuer.privateKey: "kubernetes" must be issued \(not in the state\), which needs the private key of its issuer "offline-root"/);
    const issued = state.ensure(request(rootKey));
    state.commit();
    const again = state.ensure(request());
    expect(again.certificate.pem).toBe(issued.certificate.pem);
    expect(again.chain.map((c) => c.pem)).toEqual([root.pem]);
  });
});
