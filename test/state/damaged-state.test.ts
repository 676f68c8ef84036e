import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateKey, privateKeyToPem, SpecError, StateError } from '../../src/engine';
import { frozenFromEnvironment } from '../../src/state/environment';
import { PkiState } from '../../src/state/pki-state';
import { EncryptedDirectoryStore, reencryptState } from '../../src/state/store';
import { run, runOk, snapshotDir, tempDir } from '../support/programs';
import { issueCaAndLeaf } from '../support/mini-pki';

const START = new Date('2026-03-01T12:00:00Z');
const TOKEN = 'ipz2wy.4zd7kq0mbr3xv8ts';
const escape = (text: string) => text.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&');
const compiled = (name: string) => {
  const file = path.resolve(__dirname, `../../lib/${name}.js`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm test does it)`);
  return file;
};

/** The miniature synth: a CA, a leaf under it, a service-account key, a token and a node plan. */
function synth(state: PkiState) {
  const { ca, leaf } = issueCaAndLeaf(state);
  const sa = state.ensureKey('cluster/sa', 'ecdsa-p256');
  state.ensureSecret('cluster/token', { given: TOKEN, generate: () => TOKEN });
  state.putDocument('nodes/cp-1', { node: 'cp-1', files: [] });
  return { ca, leaf, sa };
}

describe('a damaged state stops synth with the file named, and nothing is written', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dir: string;
  const open = (options: { frozen?: boolean } = {}) => PkiState.inDirectory(dir, { clock: () => START, ...options });
  const file = (name: string) => path.join(dir, name);
  /** Synth over the damaged state: it must fail with `message` and leave every file as it was. */
  const expectRefused = (message: RegExp | string, run: (state: PkiState) => unknown = synth) => {
    const before = snapshotDir(dir);
    const state = open();
    expect(() => {
      run(state);
      state.commit();
    }).toThrow(message);
    expect(snapshotDir(dir)).toEqual(before);
  };

  beforeEach(() => {
    tmp = tempDir();
    dir = path.join(tmp.dir, '.pki');
    const state = open();
    synth(state);
    state.commit();
  });
  afterEach(() => tmp.cleanup());

  test('a CA key file replaced by another key of the same type', () => {
    fs.writeFileSync(file('cluster/ca/key-1.pem'), privateKeyToPem(generateKey('ecdsa-p256')));
    expectRefused(`${file('cluster/ca/key-1.pem')} does not hold the key that the certificate in ${file('cluster/ca/certificate.json')} certifies (replaced?); restore the key file from a backup`);
  });

  test('a CA key file replaced by another key in an age-encrypted state', () => {
    runOk('age-keygen', ['-o', path.join(tmp.dir, 'key.txt')]);
    const text = fs.readFileSync(path.join(tmp.dir, 'key.txt'), 'utf8');
    const keys = { recipients: [/^# public key: (age1\S+)$/m.exec(text)![1]], identities: [/^AGE-SECRET-KEY-1\S+$/m.exec(text)![0]] };
    dir = path.join(tmp.dir, 'encrypted');
    const encrypted = () => new PkiState({ store: new EncryptedDirectoryStore(dir, keys), clock: () => START });
    const state = encrypted();
    synth(state);
    state.commit();
    const foreign = tmp.file('foreign.pem', privateKeyToPem(generateKey('ecdsa-p256')));
    runOk('age', ['-e', '-r', keys.recipients[0], '-o', file('cluster/ca/key-1.pem.new'), foreign]);
    fs.renameSync(file('cluster/ca/key-1.pem.new'), file('cluster/ca/key-1.pem'));
    const before = snapshotDir(dir);
    expect(() => synth(encrypted())).toThrow(`${file('cluster/ca/key-1.pem')} does not hold the key that the certificate in ${file('cluster/ca/certificate.json')} certifies`);
    expect(snapshotDir(dir)).toEqual(before);
  });

  test('a CA certificate with a flipped signature byte, which openssl rejects too', () => {
    const recordFile = file('cluster/ca/certificate.json');
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8'));
    const der = Buffer.from(record.certificate.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 1] ^= 0x01; // the last byte of the signature value
    record.certificate = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    fs.writeFileSync(recordFile, JSON.stringify(record));
    const pem = tmp.file('tampered.pem', record.certificate);
    expect(run('openssl', ['verify', '-check_ss_sig', '-CAfile', pem, pem]).status).not.toBe(0);
    expectRefused(`the certificate in ${recordFile} does not verify under its own key (modified?); restore it from a backup`);
  });

  test('a deleted service-account key is not silently replaced', () => {
    fs.rmSync(file('cluster/sa/key-1.pem'));
    expectRefused(`${file('cluster/sa/key-1.pem')} is missing but ${file('cluster/sa/key.json')} refers to it`);
  });

  test('a service-account key replaced by another', () => {
    fs.writeFileSync(file('cluster/sa/key-1.pem'), privateKeyToPem(generateKey('ecdsa-p256')));
    expectRefused(`${file('cluster/sa/key-1.pem')} is not the key ${file('cluster/sa/key.json')} records (replaced?)`);
  });

  test('a deleted CA record does not re-issue the CA', () => {
    fs.rmSync(file('cluster/ca/certificate.json'));
    expectRefused(`${file('cluster/ca/key-1.pem')} has no record (${file('cluster/ca/certificate.json')} is missing)`);
  });

  test('a corrupt certificate PEM names the file, in synth and in list', () => {
    const recordFile = file('cluster/apiserver/certificate.json');
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8'));
    fs.writeFileSync(recordFile, JSON.stringify({ ...record, certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }));
    expectRefused(new RegExp(`^${escape(recordFile)} is corrupt \\(certificate: `));
    expect(() => open().inventory()).toThrow(new RegExp(`^${escape(recordFile)} is corrupt`));
  });

  test('a garbled secret record never shows the token in the error', () => {
    const secretFile = file('cluster/token/secret.json');
    fs.writeFileSync(secretFile, fs.readFileSync(secretFile, 'utf8').replace(`"${TOKEN}"`, TOKEN)); // quotes lost
    let message = '';
    try {
      synth(open());
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`${secretFile} is corrupt (not valid JSON); restore it from a backup — synth never replaces it on its own`);
    fs.writeFileSync(secretFile, JSON.stringify({ version: 1, value: TOKEN, generation: 'one', createdAt: START.toISOString(), given: true }));
    expectRefused(`${secretFile} is corrupt (generation: must be integer)`);
  });

  test.each([
    ['not JSON', '{"node": "cp-1", "fi', 'not valid JSON'],
    ['not an object', '"cp-1"', 'not a JSON object'],
  ])('a garbled document (%s) names the file', (_, content, reason) => {
    fs.writeFileSync(file('nodes/cp-1.doc.json'), content);
    expect(() => open().readDocument('nodes/cp-1')).toThrow(new StateError(`${file('nodes/cp-1.doc.json')} is corrupt (${reason}); restore it from a backup or remove it to have synth write it again`));
  });

  test('a document its owner rejects names the file and the field, not the value', () => {
    const check = (doc: unknown) => {
      if (typeof (doc as { node?: unknown }).node !== 'number') throw new SpecError('node', `"${(doc as { node: string }).node}" must be a number`);
      return doc;
    };
    expect(() => open().readDocument('nodes/cp-1', check)).toThrow(`${file('nodes/cp-1.doc.json')} is corrupt (node: … must be a number)`);
  });

  test('a slot directory the synth cannot read (mode 000) stops it naming the directory', () => {
    // As root every directory is readable: the reader runs as nobody, over a state nobody owns.
    fs.chmodSync(tmp.dir, 0o755);
    spawnSync('chown', ['-R', '65534:65534', dir]);
    fs.chmodSync(file('cluster/ca'), 0o000);
    const reader = `const { PkiState } = require(${JSON.stringify(compiled('src/state/pki-state'))});
      const { reportErrors } = require(${JSON.stringify(compiled('src/report'))});
      reportErrors(() => PkiState.inDirectory(${JSON.stringify(dir)}).inventory());`;
    const child = spawnSync(process.execPath, ['-e', reader], { uid: 65534, gid: 65534, encoding: 'utf8' });
    expect(child.stderr).toBe(`cdk8s-pki: cannot read the state directory ${file('cluster/ca')}: permission denied (EACCES)\n`);
    fs.chmodSync(file('cluster/ca'), 0o700);
  });

  test('a full disk (ENOSPC) stops the commit naming the file, and leaves no temp file', () => {
    const mount = path.join(tmp.dir, 'small');
    fs.mkdirSync(mount);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs for this test: ${mounted.stderr}`);
    try {
      dir = path.join(mount, '.pki');
      const state = open();
      synth(state);
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.writeFileSync(path.join(dir, '.gitignore'), '*\n');
      // Fill the file system but one page (the lock's), so that the commit's first write fails.
      const fd = fs.openSync(path.join(mount, 'filler'), 'w');
      let size = 0;
      try {
        for (;;) size += fs.writeSync(fd, Buffer.alloc(4096));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        fs.ftruncateSync(fd, size - 4096);
        fs.closeSync(fd);
      }
      const before = snapshotDir(dir);
      expect(() => state.commit()).toThrow(new StateError(`cannot write ${path.join(dir, '.commit.json')}: no space left on the device (ENOSPC)`));
      expect(snapshotDir(dir)).toEqual(before);
      expect(Object.keys(snapshotDir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      spawnSync('umount', [mount]);
    }
  });

  test('a kill between a rotated key and its record: the next synth adopts key-2, it makes no key-3', () => {
    open().requestRotation('cluster/apiserver', { newKey: true });
    // The compiled test/support/killed-synth.ts: its writes are the commit journal, then the new leaf key, then records.
    const child = spawnSync(process.execPath, [compiled('test/support/killed-synth'), dir, 'after', '2'], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    const written = fs.readFileSync(file('cluster/apiserver/key-2.pem'));
    const state = open();
    const { leaf } = synth(state);
    state.commit();
    expect(leaf.keyGeneration).toBe(2);
    expect(leaf.privateKey.export({ type: 'pkcs8', format: 'der' })).toEqual(crypto.createPrivateKey(written).export({ type: 'pkcs8', format: 'der' }));
    expect(fs.readdirSync(file('cluster/apiserver')).filter((f) => f.startsWith('key-')).sort()).toEqual(['key-1.pem', 'key-2.pem']);
  });
});

describe('frozen mode', () => {
  test.each(['1', 'true', 'TRUE', 'yes', 'on', ' 1', 'On '])('%j is frozen', (value) => {
    expect(frozenFromEnvironment({ CDK8S_PKI_FROZEN: value })).toBe(true);
  });
  test.each(['', '0', 'false', 'no', 'off'])('%j is not frozen', (value) => {
    expect(frozenFromEnvironment({ CDK8S_PKI_FROZEN: value })).toBe(false);
  });
  test('anything else is refused rather than read as not frozen', () => {
    expect(() => frozenFromEnvironment({ CDK8S_PKI_FROZEN: 'frozen' })).toThrow(
      new SpecError('CDK8S_PKI_FROZEN', '"frozen" is neither true (1, true, yes, on) nor false (0, false, no, off, empty)'),
    );
  });

  test('rotate refuses to write a frozen state, from the API and from the command', () => {
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, '.pki');
      const state = PkiState.inDirectory(dir, { clock: () => START });
      synth(state);
      state.commit();
      const before = snapshotDir(dir);
      expect(() => PkiState.inDirectory(dir, { frozen: true }).requestRotation('cluster/ca', { newKey: false })).toThrow(/is frozen \(CDK8S_PKI_FROZEN\), and rotate writes it/);
      const cli = spawnSync(process.execPath, [compiled('src/cli'), '--state', dir, 'rotate', 'cluster/ca'], { encoding: 'utf8', env: { ...process.env, CDK8S_PKI_FROZEN: 'yes' } });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toMatch(/^cdk8s-pki: the PKI state .* is frozen/);
      expect(snapshotDir(dir)).toEqual(before);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('bare keys', () => {
  test('list shows them and rotate gives the next generation, keeping the old file', () => {
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, '.pki');
      const state = PkiState.inDirectory(dir, { clock: () => START });
      const first = synth(state).sa;
      state.commit();
      expect(PkiState.inDirectory(dir).keyInventory()).toEqual([{ slot: 'cluster/sa', keyAlgorithm: 'ecdsa-p256', keyGeneration: 1, createdAt: START, rotationRequested: false }]);
      const listed = runOk(process.execPath, [compiled('src/cli'), '--state', dir, 'list']);
      expect(listed).toContain('key cluster/sa: ecdsa-p256 #1, made 2026-03-01T12:00:00Z\n');
      expect(() => PkiState.inDirectory(dir).requestRotation('cluster/sa', { newKey: false })).toThrow(/bare key, with no certificate to renew; rotate it with --new-key/);
      expect(PkiState.inDirectory(dir).requestRotation('cluster/sa', { newKey: true })).toBe('key rotation');
      const next = PkiState.inDirectory(dir, { clock: () => START });
      const second = next.ensureKey('cluster/sa', 'ecdsa-p256');
      next.commit();
      expect(second.generation).toBe(2);
      expect(privateKeyToPem(second.privateKey)).not.toBe(privateKeyToPem(first.privateKey));
      expect(fs.readFileSync(path.join(dir, 'cluster/sa/key-1.pem'), 'utf8')).toBe(privateKeyToPem(first.privateKey));
      expect(PkiState.inDirectory(dir).ensureKey('cluster/sa', 'ecdsa-p256').generation).toBe(2);
    } finally {
      tmp.cleanup();
    }
  });

  test('a key of a state written before bare keys had records is adopted and recorded', () => {
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, '.pki');
      const key = generateKey('ecdsa-p256');
      fs.mkdirSync(path.join(dir, 'cluster/sa'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'cluster/sa/key-1.pem'), privateKeyToPem(key));
      const state = PkiState.inDirectory(dir, { clock: () => START });
      expect(privateKeyToPem(state.ensureKey('cluster/sa', 'ecdsa-p256').privateKey)).toBe(privateKeyToPem(key));
      expect(state.pendingChanges()).toEqual([{ slot: 'cluster/sa', reasons: ['record of an existing key'] }]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('temp files of a killed writer', () => {
  test('hold no plaintext after reencrypt --encrypt-plaintext', () => {
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, '.pki');
      // A synth killed inside its second write (the CA key): a fsynced temp file with the plaintext key.
      const child = spawnSync(process.execPath, [compiled('test/support/killed-synth'), dir, 'during', '1'], { encoding: 'utf8' });
      expect(child.signal).toBe('SIGKILL');
      const temps = () => Object.keys(snapshotDir(dir)).filter((n) => n.endsWith('.tmp'));
      expect(temps()).toHaveLength(1);
      runOk('age-keygen', ['-o', path.join(tmp.dir, 'key.txt')]);
      const recipient = /^# public key: (age1\S+)$/m.exec(fs.readFileSync(path.join(tmp.dir, 'key.txt'), 'utf8'))![1];
      const identity = /^AGE-SECRET-KEY-1\S+$/m.exec(fs.readFileSync(path.join(tmp.dir, 'key.txt'), 'utf8'))![0];
      reencryptState(dir, [identity], [recipient], { encryptPlaintext: true });
      expect(temps()).toEqual([]);
      expect(new EncryptedDirectoryStore(dir, { recipients: [recipient], identities: [identity] }).list()).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });
});
