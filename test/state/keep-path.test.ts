// What a synth that keeps everything does: with records written by this version (their digest holds), nothing
// is parsed and no key is loaded unless something uses it; records of older versions are checked as before and
// never rewritten; a record or key file changed by hand is caught as it always was.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as asn1Schema from '@peculiar/asn1-schema';
import { CredentialRequest, Issuer, PkiState } from '../../src/state/pki-state';
import { EncryptedDirectoryStore } from '../../src/state/store';
import { snapshotDir, tempDir } from '../support/programs';

const DAY = 86400;
const START = new Date('2026-03-01T12:00:00Z');

function synth(state: PkiState) {
  const ca = state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
  // As ClusterCA hands it out: the key is read only if a certificate must be signed.
  const issuer: Issuer = {
    certificate: ca.certificate,
    chain: ca.chain,
    get privateKey() {
      return ca.privateKey;
    },
  };
  const leaf = (slot: string, commonName: string, extra: Partial<CredentialRequest['spec']>) =>
    state.ensure({ slot, keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName }, validitySeconds: 365 * DAY, ...extra }, issuer });
  return {
    ca,
    server: leaf('cluster/apiserver', 'kube-apiserver', { sans: { ipAddresses: ['10.0.0.11'] }, extendedKeyUsage: ['serverAuth'] }),
    client: leaf('cluster/admin', 'kubernetes-admin', { extendedKeyUsage: ['clientAuth'] }),
  };
}

const recordFiles = (dir: string) => Object.keys(snapshotDir(dir)).filter((name) => name.endsWith('/certificate.json'));
const editRecords = (dir: string, edit: (record: Record<string, unknown>) => Record<string, unknown>) => {
  for (const name of recordFiles(dir)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `${JSON.stringify(edit(JSON.parse(fs.readFileSync(file, 'utf8'))), null, 2)}\n`);
  }
};

describe('a synth that keeps everything', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dir: string;
  const open = (options: { frozen?: boolean } = {}) => PkiState.inDirectory(dir, { clock: () => START, ...options });
  // The module object itself: what the state's `import * as crypto` reads through.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeCrypto = require('node:crypto') as typeof crypto;
  const spies = () => ({
    privateKeys: jest.spyOn(nodeCrypto, 'createPrivateKey'),
    checks: jest.spyOn(nodeCrypto.X509Certificate.prototype, 'checkPrivateKey'),
    asn1: jest.spyOn(asn1Schema.AsnConvert, 'parse'),
  });

  beforeEach(() => {
    tmp = tempDir();
    dir = path.join(tmp.dir, '.pki');
    const first = open();
    synth(first);
    first.commit();
  });
  afterEach(() => {
    jest.restoreAllMocks();
    tmp.cleanup();
  });

  test('parses no certificate and loads no key until one is used, and that key is the certified one', () => {
    const calls = spies();
    const state = open();
    const { server } = synth(state);
    expect(state.pendingChanges()).toEqual([]);
    expect(calls.privateKeys).not.toHaveBeenCalled();
    expect(calls.checks).not.toHaveBeenCalled();
    expect(calls.asn1).not.toHaveBeenCalled();

    // The key is loaded when used: once, and it is the key the certificate certifies (OpenSSL's check).
    const key = server.privateKey;
    expect(server.privateKey).toBe(key);
    expect(calls.privateKeys).toHaveBeenCalledTimes(1);
    expect(new crypto.X509Certificate(server.certificate.pem).checkPrivateKey(key)).toBe(true);
  });

  test('a record of an older version (no digest) is parsed and checked, kept, and not rewritten', () => {
    editRecords(dir, ({ notAfter: _n, description: _d, keySha256: _k, materialSha256: _m, ...older }) => older);
    const before = snapshotDir(dir);
    const calls = spies();
    const state = open({ frozen: true });
    synth(state);
    expect(calls.privateKeys).toHaveBeenCalledTimes(3);
    expect(calls.checks).toHaveBeenCalledTimes(3);
    state.commit();
    expect(snapshotDir(dir)).toEqual(before);
  });

  test('list reads a verified record without parsing it, and says what parsing the certificate says', () => {
    const calls = spies();
    const fromRecords = open().inventory();
    expect(calls.asn1.mock.calls.length).toBeLessThanOrEqual(1); // the CA, once, for its leaves' issuer name
    editRecords(dir, ({ notAfter: _n, description: _d, keySha256: _k, materialSha256: _m, ...older }) => older);
    expect(open().inventory()).toEqual(fromRecords);
    expect(fromRecords.map((e) => [e.slot, e.commonName, e.issuer, e.isCA])).toEqual([
      ['cluster/admin', 'kubernetes-admin', 'kubernetes', false],
      ['cluster/apiserver', 'kube-apiserver', 'kubernetes', false],
      ['cluster/ca', 'kubernetes', 'kubernetes', true],
    ]);
  });

  test('a record edited by hand no longer matches its digest, so the certificate decides, not the edited field', () => {
    // Were the edited notAfter believed, every certificate would be due for renewal.
    editRecords(dir, (record) => ({ ...record, notAfter: '2026-03-02T00:00:00.000Z' }));
    const state = open();
    synth(state);
    expect(state.pendingChanges()).toEqual([]);
    expect(state.decisions().map((d) => [d.slot, d.action, d.notAfter!.getTime() > START.getTime() + 300 * DAY * 1000])).toEqual([
      ['cluster/admin', 'keep', true],
      ['cluster/apiserver', 'keep', true],
      ['cluster/ca', 'keep', true],
    ]);
  });

  test('a key file swapped for another key stops synth, though this synth would not have used the key', () => {
    const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    fs.writeFileSync(path.join(dir, 'cluster/admin/key-1.pem'), other);
    expect(() => synth(open())).toThrow(/cluster\/admin\/key-1\.pem does not hold the key that the certificate in .*cluster\/admin\/certificate\.json certifies/);
    // Exporting it (what export-node reads) is refused the same way.
    expect(() => open().privateKey('cluster/admin', 1)).toThrow(/does not hold the key that the certificate/);
  });
});

describe('a passphrase-encrypted state (one scrypt per file)', () => {
  test('a synth that keeps everything decrypts no key file; a key is decrypted, and checked, when it is used', () => {
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, '.pki');
      const passphrase = { passphrase: 'correct horse battery staple' };
      const open = () => new PkiState({ store: new EncryptedDirectoryStore(dir, { recipients: passphrase, identities: passphrase, scryptWorkFactor: 10 }), clock: () => START });
      const first = open();
      synth(first);
      first.commit();

      const read = jest.spyOn(EncryptedDirectoryStore.prototype, 'read');
      const readKeys = () => read.mock.calls.map(([name]) => name).filter((name) => /\/key-\d+\.pem$/.test(name));
      const state = open();
      const { server } = synth(state);
      expect(state.pendingChanges()).toEqual([]);
      expect(readKeys()).toEqual([]);
      expect(new crypto.X509Certificate(server.certificate.pem).checkPrivateKey(server.privateKey)).toBe(true);
      expect(readKeys()).toEqual(['cluster/apiserver/key-1.pem']);

      // Another key, encrypted as the state's own files are, is refused when the synth comes to use it.
      const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
      fs.rmSync(path.join(dir, 'cluster/admin/key-1.pem'));
      open().store.write('cluster/admin/key-1.pem', Buffer.from(other), true);
      const { client } = synth(open());
      expect(() => client.privateKey).toThrow(/cluster\/admin\/key-1\.pem does not hold the key that the certificate in .*certifies/);
    } finally {
      jest.restoreAllMocks();
      tmp.cleanup();
    }
  });
});
