import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecError, StateError } from '../../src/engine/errors';
import { AgeError, decrypt, encrypt, generateIdentity, parseIdentity, parseRecipient } from '../../src/state/age';
import { ageKeysFromEnvironment, stateStoreFromEnvironment } from '../../src/state/environment';
import { PkiState } from '../../src/state/pki-state';
import { DirectoryStore, EncryptedDirectoryStore, reencryptState, StateStore } from '../../src/state/store';
import { run, runOk, snapshotDir, tempDir } from '../support/programs';

const KIB64 = 64 * 1024;
const DAY = 86400;
const NOW = new Date('2026-03-01T12:00:00Z');

// The age CLI reads passphrases only from a terminal: give it one (a pty) and answer each prompt.
const AGE_WITH_PASSPHRASE = `
import os, pty, sys
passphrase = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
output, answered = b"", 0
while True:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    output += data
    while output.count(b"passphrase") > answered:
        os.write(fd, passphrase + b"\\n")
        answered += 1
_, status = os.waitpid(pid, 0)
sys.stderr.write(output.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function ageWithPassphrase(passphrase: string, args: string[]) {
  return run('/usr/bin/python3', ['-c', AGE_WITH_PASSPHRASE, passphrase, 'age', ...args]);
}

/** `age -d -i identityFile file`'s output as bytes (`age -o` writes no file for an empty plaintext). */
function ageDecrypt(identityFile: string, file: string): Buffer {
  const result = spawnSync('age', ['-d', '-i', identityFile, file], { timeout: 30_000 });
  if (result.error) throw new Error(`age could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`age -d exited ${result.status}: ${result.stderr.toString()}`);
  return result.stdout;
}

/** Deterministic bytes of any length, so a failure names a size rather than random data. */
function bytesOf(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

function ageCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgeError) return err.code;
    throw err;
  }
  return undefined;
}

/** A miniature synth: a CA and a leaf under it, the way constructs ask for them. */
function synth(state: PkiState, leafSans = ['10.0.0.11']) {
  const ca = state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
  const server = state.ensure({
    slot: 'cluster/apiserver',
    keyAlgorithm: 'ecdsa-p256',
    spec: { subject: { commonName: 'kube-apiserver' }, sans: { ipAddresses: leafSans }, extendedKeyUsage: ['serverAuth'], validitySeconds: 365 * DAY },
    issuer: { certificate: ca.certificate, privateKey: ca.privateKey, chain: ca.chain },
  });
  return { ca, server };
}

const stateOver = (store: StateStore) => new PkiState({ store, clock: () => NOW });

let tmp: ReturnType<typeof tempDir>;
/** An identity made by the real age-keygen, in its file format, with the recipient it printed. */
let alice: { file: string; identity: string; recipient: string };
let bob: { file: string; identity: string; recipient: string };

function keygen(name: string) {
  const file = path.join(tmp.dir, `${name}.txt`);
  runOk('age-keygen', ['-o', file]);
  const text = fs.readFileSync(file, 'utf8');
  return { file, identity: /^AGE-SECRET-KEY-1\S+$/m.exec(text)![0], recipient: /^# public key: (age1\S+)$/m.exec(text)![1] };
}

beforeAll(() => {
  tmp = tempDir();
  alice = keygen('alice');
  bob = keygen('bob');
});
afterAll(() => tmp.cleanup());

describe('age keys', () => {
  test('an identity from age-keygen gives the recipient age-keygen printed', () => {
    expect(parseIdentity(alice.identity).recipient).toBe(alice.recipient);
    expect(parseRecipient(alice.recipient).text).toBe(alice.recipient);
  });

  test('the specification\'s example identity gives its example recipient', () => {
    expect(parseIdentity('AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX').recipient).toBe(
      'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj',
    );
  });

  test('a generated identity is one age-keygen agrees with', () => {
    const generated = generateIdentity();
    const file = tmp.file('generated.txt', `${generated.identity}\n`);
    expect(generated.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(runOk('age-keygen', ['-y', file]).trim()).toBe(generated.recipient);
  });

  test('mistyped, truncated, mixed-case or foreign keys are refused', () => {
    const good = 'age1tgyuvdlmpejqsdf847hevurz9szk7vf3j7ytfyqecgzvphvu2d8qrtaxl6';
    expect(parseRecipient(good).text).toBe(good);
    for (const bad of [good.slice(0, -1), good.slice(0, -1) + '7', 'AGE1' + good.slice(4, 20) + good.slice(20).toUpperCase(), 'ag1' + good.slice(4), alice.identity]) {
      expect(ageCode(() => parseRecipient(bad))).toBe('invalid-key');
    }
    expect(ageCode(() => parseIdentity(alice.recipient))).toBe('invalid-key');
    expect(ageCode(() => parseIdentity(alice.identity.slice(0, -2)))).toBe('invalid-key');
  });
});

describe('age files, judged by the age CLI', () => {
  const sizes = [0, 1, KIB64 - 1, KIB64, KIB64 + 1, 3 * KIB64, 3 * KIB64 + 17];

  test.each(sizes)('%i bytes encrypted here are decrypted by `age -d`', (size) => {
    const plaintext = bytesOf(size);
    const file = tmp.file(`ours-${size}.age`);
    fs.writeFileSync(file, encrypt(plaintext, [alice.recipient]));
    expect(ageDecrypt(alice.file, file).equals(plaintext)).toBe(true);
  });

  test.each(sizes)('%i bytes encrypted by `age -e -r` are decrypted here', (size) => {
    const plaintext = bytesOf(size);
    const input = tmp.file(`theirs-${size}.in`);
    fs.writeFileSync(input, plaintext);
    const file = tmp.file(`theirs-${size}.age`);
    runOk('age', ['-e', '-r', alice.recipient, '-o', file, input]);
    expect(decrypt(fs.readFileSync(file), [alice.identity]).equals(plaintext)).toBe(true);
  });

  test('armored files from `age -a` are decrypted here', () => {
    const plaintext = bytesOf(KIB64 + 5);
    const input = tmp.file('armored.in');
    fs.writeFileSync(input, plaintext);
    const file = tmp.file('armored.age');
    runOk('age', ['-e', '-a', '-r', alice.recipient, '-o', file, input]);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    expect(decrypt(fs.readFileSync(file), [alice.identity]).equals(plaintext)).toBe(true);
  });

  test('a file encrypted to two recipients opens with either identity in age, and with neither not at all', () => {
    const file = tmp.file('two.age');
    fs.writeFileSync(file, encrypt(Buffer.from('shared'), [alice.recipient, bob.recipient]));
    expect(runOk('age', ['-d', '-i', alice.file, file])).toBe('shared');
    expect(runOk('age', ['-d', '-i', bob.file, file])).toBe('shared');
    expect(decrypt(fs.readFileSync(file), [bob.identity]).toString()).toBe('shared');
    const stranger = generateIdentity();
    expect(run('age', ['-d', '-i', tmp.file('stranger.txt', `${stranger.identity}\n`), file]).status).not.toBe(0);
    expect(ageCode(() => decrypt(fs.readFileSync(file), [stranger.identity]))).toBe('no-match');
  });

  test('a passphrase file made here is decrypted by age, and age\'s by this', () => {
    const ours = tmp.file('passphrase-ours.age');
    fs.writeFileSync(ours, encrypt(Buffer.from('by passphrase'), { passphrase: 'correct horse battery staple' }, { scryptWorkFactor: 12 }));
    expect(fs.readFileSync(ours, 'latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 12\n/);
    const out = tmp.file('passphrase-ours.out');
    const decrypted = ageWithPassphrase('correct horse battery staple', ['-d', '-o', out, ours]);
    expect(decrypted.status).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('by passphrase');
    expect(ageWithPassphrase('wrong horse', ['-d', '-o', tmp.file('wrong.out'), ours]).status).not.toBe(0);

    const input = tmp.file('passphrase-theirs.in', 'from the age CLI');
    const theirs = tmp.file('passphrase-theirs.age');
    expect(ageWithPassphrase('correct horse battery staple', ['-e', '-p', '-o', theirs, input]).status).toBe(0);
    expect(fs.readFileSync(theirs, 'latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/);
    expect(decrypt(fs.readFileSync(theirs), { passphrase: 'correct horse battery staple' }).toString()).toBe('from the age CLI');
    expect(ageCode(() => decrypt(fs.readFileSync(theirs), { passphrase: 'wrong horse' }))).toBe('no-match');
    expect(ageCode(() => decrypt(fs.readFileSync(theirs), [alice.identity]))).toBe('no-match');
  });

  test('the passphrase test vector of the age JavaScript implementation decrypts', () => {
    const file = Buffer.from(
      'YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IHNjcnlwdCB4Y2lkcXJQdmwwZzRROEZ5eXU4dHNnIDgKNnM2Ylp2Vlg2b0NBSVp2QkxCZEhJbEJrYUcreWRIZHVHWVpBaUJkUy9ZMAotLS0gZ280TkNGT05VTDEwZW5WRjVPMnkxem05eWQwdkM0S09hSU1nV05aYW5QSQom4WH7RYXsjlDm3HNKCe9gY2IfCjTY/2t6PF4bzUkeWZWkE7kd',
      'base64',
    );
    expect(decrypt(file, { passphrase: 'light-original-energy-average-wish-blind-vendor-pencil-illness-scorpion' }).toString()).toBe('test\n');
    expect(ageCode(() => decrypt(file, { passphrase: 'light-original-energy-average-wish-blind-vendor-pencil-illness-scorpio' }))).toBe('no-match');
  });

  test('an scrypt stanza beside another recipient is refused', () => {
    const recipientFile = encrypt(Buffer.from('x'), [alice.recipient]).toString('latin1');
    const scryptFile = encrypt(Buffer.from('x'), { passphrase: 'p' }, { scryptWorkFactor: 10 }).toString('latin1');
    const scryptStanza = /\n(-> scrypt [^\n]*\n[^\n]*\n)/.exec(scryptFile)![1];
    const mixed = Buffer.from(recipientFile.replace('\n---', `\n${scryptStanza}---`), 'latin1');
    expect(ageCode(() => decrypt(mixed, [alice.identity]))).toBe('corrupt');
    expect(ageCode(() => decrypt(mixed, { passphrase: 'p' }))).toBe('corrupt');
  });

  describe('tampering is refused, here and by age', () => {
    const plaintext = bytesOf(2 * KIB64 + 100);
    const original = () => encrypt(plaintext, [alice.recipient]);

    /** Both must refuse `tampered`; the untampered original must open in both, so the change is what fails. */
    function expectRefused(untampered: Buffer, tampered: Buffer, code: string) {
      const file = tmp.file('tampered.age');
      fs.writeFileSync(file, untampered);
      expect(run('age', ['-d', '-i', alice.file, '-o', tmp.file('tampered.out'), file]).status).toBe(0);
      expect(decrypt(untampered, [alice.identity]).equals(plaintext)).toBe(true);
      fs.writeFileSync(file, tampered);
      expect(run('age', ['-d', '-i', alice.file, '-o', tmp.file('tampered.out'), file]).status).not.toBe(0);
      expect(ageCode(() => decrypt(tampered, [alice.identity]))).toBe(code);
    }
    const payloadStart = (file: Buffer) => file.indexOf('\n', file.indexOf('\n---')) + 1;

    test('a changed header MAC', () => {
      const file = original();
      const tampered = Buffer.from(file);
      const macAt = tampered.indexOf('\n--- ') + 5;
      tampered[macAt] = tampered[macAt] === 0x41 ? 0x42 : 0x41;
      expectRefused(file, tampered, 'corrupt');
    });

    test('a stanza added to the header', () => {
      const file = original();
      const at = file.indexOf('\n---') + 1;
      expectRefused(file, Buffer.concat([file.subarray(0, at), Buffer.from('-> grease x\nAAAA\n'), file.subarray(at)]), 'corrupt');
    });

    test('a flipped bit in the payload nonce, the first chunk or the last chunk', () => {
      const file = original();
      for (const offset of [payloadStart(file) + 3, payloadStart(file) + 16 + 1000, file.length - 5]) {
        const tampered = Buffer.from(file);
        tampered[offset] ^= 0x01;
        expectRefused(file, tampered, 'corrupt');
      }
    });

    test('a payload cut at a chunk boundary, cut inside a chunk, or extended', () => {
      const file = original();
      const afterTwoChunks = payloadStart(file) + 16 + 2 * (KIB64 + 16);
      expectRefused(file, file.subarray(0, afterTwoChunks), 'corrupt');
      expectRefused(file, file.subarray(0, file.length - 1), 'corrupt');
      expectRefused(file, Buffer.concat([file, Buffer.from([0])]), 'corrupt');
    });
  });

  test('what is not an age file says so', () => {
    expect(ageCode(() => decrypt(Buffer.from(`${'-'.repeat(5)}BEGIN PRIVATE KEY${'-'.repeat(5)}\n`), [alice.identity]))).toBe('not-age');
  });
});

describe('the age-encrypted state store', () => {
  let dir: string;
  const aliceStore = () => new EncryptedDirectoryStore(dir, { recipients: [alice.recipient], identities: [alice.identity] });
  const filesOf = () => Object.keys(snapshotDir(dir)).filter((name) => !name.startsWith('.'));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(tmp.dir, 'state-'));
    fs.rmdirSync(dir); // a state directory that does not exist yet, as on a first synth
  });

  test('a PkiState over it keeps its material across synths, and every file is an age file `age -d` opens', () => {
    const first = stateOver(aliceStore());
    const a = synth(first);
    first.commit();
    const onDisk = snapshotDir(dir);

    const second = stateOver(aliceStore());
    const b = synth(second);
    expect(second.pendingChanges()).toEqual([]);
    second.commit();
    expect(snapshotDir(dir)).toEqual(onDisk);
    expect(b.ca.certificate.pem).toBe(a.ca.certificate.pem);
    expect(b.server.certificate.pem).toBe(a.server.certificate.pem);

    expect(filesOf().sort()).toEqual(['cluster/apiserver/certificate.json', 'cluster/apiserver/key-1.pem', 'cluster/ca/certificate.json', 'cluster/ca/key-1.pem']);
    for (const name of filesOf()) {
      const data = fs.readFileSync(path.join(dir, name));
      expect(data.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
      expect(data.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
      expect(data.includes(Buffer.from('kube-apiserver'))).toBe(false);
    }
    const caKey = runOk('age', ['-d', '-i', alice.file, path.join(dir, 'cluster/ca/key-1.pem')]);
    expect(caKey).toBe(a.ca.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });

  test('the encrypted state is not ignored by Git, its lock and temp files are', () => {
    const state = stateOver(aliceStore());
    synth(state);
    state.commit();
    runOk('git', ['init', '-q', dir]);
    expect(run('git', ['-C', dir, 'check-ignore', '-q', 'cluster/ca/key-1.pem']).status).toBe(1);
    expect(run('git', ['-C', dir, 'check-ignore', '-q', '.lock']).status).toBe(0);
    expect(run('git', ['-C', dir, 'check-ignore', '-q', '.key-1.pem.123.abcd.tmp']).status).toBe(0);
  });

  test('with the wrong identity, opening the state fails and regenerates nothing', () => {
    const state = stateOver(aliceStore());
    synth(state);
    state.commit();
    const before = snapshotDir(dir);
    const wrong = stateOver(new EncryptedDirectoryStore(dir, { recipients: [bob.recipient], identities: [bob.identity] }));
    expect(() => synth(wrong)).toThrow(StateError);
    expect(() => synth(wrong)).toThrow(/^cannot decrypt .*cluster\/ca\/certificate\.json: no identity matches any of the file.s recipients; set CDK8S_PKI_AGE_IDENTITY_FILE/);
    expect(wrong.pendingChanges()).toEqual([]);
    wrong.commit();
    const noIdentity = stateOver(new EncryptedDirectoryStore(dir, { recipients: [alice.recipient], identities: [] }));
    expect(() => synth(noIdentity)).toThrow(/cannot decrypt .*: no age identity is set; set CDK8S_PKI_AGE_IDENTITY_FILE/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  test('a modified file or a plaintext file is a StateError naming it, not an absent entry', () => {
    const state = stateOver(aliceStore());
    const a = synth(state);
    state.commit();
    const caKey = path.join(dir, 'cluster/ca/key-1.pem');
    const ciphertext = fs.readFileSync(caKey);
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 3] ^= 0x01;
    fs.writeFileSync(caKey, tampered);
    expect(() => synth(stateOver(aliceStore()))).toThrow(/^\S+cluster\/ca\/key-1\.pem is corrupt or was modified \(.*\); restore it from a backup/);
    fs.writeFileSync(caKey, a.ca.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => synth(stateOver(aliceStore()))).toThrow(/^\S+cluster\/ca\/key-1\.pem is not age-encrypted, but this state is/);
    fs.writeFileSync(caKey, ciphertext);
    expect(synth(stateOver(aliceStore())).ca.certificate.pem).toBe(a.ca.certificate.pem);
  });

  test('with an identity but no recipients it reads the state but refuses to write', () => {
    const state = stateOver(aliceStore());
    synth(state);
    state.commit();
    const readOnly = stateOver(new EncryptedDirectoryStore(dir, { recipients: [], identities: [alice.identity] }));
    synth(readOnly, ['10.0.0.11', '10.0.0.12']);
    expect(readOnly.pendingChanges()).toEqual([{ slot: 'cluster/apiserver', reasons: ['SANs +10.0.0.12'] }]);
    expect(() => readOnly.commit()).toThrow(/^cannot write .*: no age recipients to encrypt it to; set CDK8S_PKI_AGE_RECIPIENTS/);
  });

  test('a passphrase state round-trips, and age opens its files with the passphrase', () => {
    const keys = { recipients: { passphrase: 'state passphrase' }, identities: { passphrase: 'state passphrase' }, scryptWorkFactor: 10 };
    const first = stateOver(new EncryptedDirectoryStore(dir, keys));
    const a = synth(first);
    first.commit();
    const second = stateOver(new EncryptedDirectoryStore(dir, keys));
    expect(synth(second).ca.certificate.pem).toBe(a.ca.certificate.pem);
    expect(second.pendingChanges()).toEqual([]);
    const out = tmp.file('passphrase-state.out');
    expect(ageWithPassphrase('state passphrase', ['-d', '-o', out, path.join(dir, 'cluster/ca/key-1.pem')]).status).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(a.ca.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const wrong = stateOver(new EncryptedDirectoryStore(dir, { ...keys, identities: { passphrase: 'other' } }));
    expect(() => synth(wrong)).toThrow(/cannot decrypt .*: incorrect passphrase; check CDK8S_PKI_AGE_PASSPHRASE/);
  });

  describe('reencryptState', () => {
    test('moves the state to a new recipient: the old identity no longer opens it, the new one does', () => {
      const state = stateOver(aliceStore());
      const a = synth(state);
      state.commit();
      const plaintexts = Object.fromEntries(filesOf().map((name) => [name, runOk('age', ['-d', '-i', alice.file, path.join(dir, name)])]));
      const rewritten = reencryptState(dir, [alice.identity], [bob.recipient]);
      expect(rewritten.sort()).toEqual(Object.keys(plaintexts).sort());

      expect(() => synth(stateOver(aliceStore()))).toThrow(/no identity matches/);
      const asBob = stateOver(new EncryptedDirectoryStore(dir, { recipients: [bob.recipient], identities: [bob.identity] }));
      const b = synth(asBob);
      expect(asBob.pendingChanges()).toEqual([]);
      expect(b.ca.certificate.pem).toBe(a.ca.certificate.pem);
      expect(b.server.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(a.server.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      for (const name of rewritten) {
        const file = path.join(dir, name);
        expect(run('age', ['-d', '-i', alice.file, file]).status).not.toBe(0);
        expect(runOk('age', ['-d', '-i', bob.file, file])).toBe(plaintexts[name]);
      }
    });

    test('with identities that cannot open the state, it fails and changes nothing', () => {
      const state = stateOver(aliceStore());
      synth(state);
      state.commit();
      const before = snapshotDir(dir);
      expect(() => reencryptState(dir, [bob.identity], [bob.recipient])).toThrow(/cannot decrypt .*no identity matches/);
      expect(snapshotDir(dir)).toEqual(before);
    });

    test('encrypts a plaintext state only when asked to', () => {
      const state = stateOver(new DirectoryStore(dir));
      const a = synth(state);
      state.commit();
      const before = snapshotDir(dir);
      expect(() => reencryptState(dir, [], [alice.recipient])).toThrow(/is not age-encrypted/);
      expect(snapshotDir(dir)).toEqual(before);
      reencryptState(dir, [], [alice.recipient], { encryptPlaintext: true });
      expect(runOk('age', ['-d', '-i', alice.file, path.join(dir, 'cluster/ca/key-1.pem')])).toBe(a.ca.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const encrypted = stateOver(aliceStore());
      expect(synth(encrypted).ca.certificate.pem).toBe(a.ca.certificate.pem);
      expect(encrypted.pendingChanges()).toEqual([]);
    });
  });
});

describe('the state store from the environment', () => {
  const dir = () => path.join(tmp.dir, 'env-state');

  test('no age variable: a plaintext directory store', () => {
    const store = stateStoreFromEnvironment(dir(), {});
    expect(store).toBeInstanceOf(DirectoryStore);
    expect(store).not.toBeInstanceOf(EncryptedDirectoryStore);
  });

  test('recipients from the variable and a recipients file, the identity from an age-keygen file', () => {
    const recipientsFile = tmp.file('recipients.txt', `# the platform team\n${bob.recipient}\n\n`);
    const env = { CDK8S_PKI_AGE_RECIPIENTS: ` ${alice.recipient} ,`, CDK8S_PKI_AGE_RECIPIENTS_FILE: recipientsFile, CDK8S_PKI_AGE_IDENTITY_FILE: alice.file };
    expect(ageKeysFromEnvironment(env)).toEqual({ recipients: [alice.recipient, bob.recipient], identities: [alice.identity] });
    const store = stateStoreFromEnvironment(dir(), env);
    expect(store).toBeInstanceOf(EncryptedDirectoryStore);
    expect(store.location).toBe(`age-encrypted state directory ${dir()}`);
    store.write('probe.txt', Buffer.from('probe'), false);
    expect(runOk('age', ['-d', '-i', bob.file, store.locate('probe.txt')])).toBe('probe');
    expect(stateStoreFromEnvironment(dir(), { CDK8S_PKI_AGE_IDENTITY: bob.identity }).read('probe.txt')?.toString()).toBe('probe');
  });

  test('the directory defaults to CDK8S_PKI_STATE_DIR of the same environment', () => {
    expect(stateStoreFromEnvironment(undefined, { CDK8S_PKI_STATE_DIR: dir() }).locate('x')).toBe(path.join(dir(), 'x'));
  });

  test('a passphrase', () => {
    expect(ageKeysFromEnvironment({ CDK8S_PKI_AGE_PASSPHRASE: 'p' })).toEqual({ recipients: { passphrase: 'p' }, identities: { passphrase: 'p' } });
  });

  test('bad settings fail naming the variable, without quoting an identity', () => {
    const attempt = (env: Record<string, string>) => () => ageKeysFromEnvironment(env);
    expect(attempt({ CDK8S_PKI_AGE_PASSPHRASE: 'p', CDK8S_PKI_AGE_RECIPIENTS: alice.recipient })).toThrow(SpecError);
    expect(attempt({ CDK8S_PKI_AGE_PASSPHRASE: 'p', CDK8S_PKI_AGE_RECIPIENTS: alice.recipient })).toThrow(/^CDK8S_PKI_AGE_PASSPHRASE: cannot be combined with CDK8S_PKI_AGE_RECIPIENTS/);
    expect(attempt({ CDK8S_PKI_AGE_RECIPIENTS: alice.recipient.slice(0, -1) })).toThrow(/^CDK8S_PKI_AGE_RECIPIENTS: an age recipient has a bad checksum/);
    expect(attempt({ CDK8S_PKI_AGE_RECIPIENTS_FILE: path.join(tmp.dir, 'missing.txt') })).toThrow(/^CDK8S_PKI_AGE_RECIPIENTS_FILE: cannot read /);
    const typo = alice.identity.slice(0, -1) + (alice.identity.endsWith('Q') ? 'P' : 'Q');
    let message = '';
    try {
      ageKeysFromEnvironment({ CDK8S_PKI_AGE_IDENTITY: typo });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^CDK8S_PKI_AGE_IDENTITY: age identity has a bad checksum/);
    expect(message).not.toContain(typo.slice(16, 40));
  });
});
