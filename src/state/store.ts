import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { StateError } from '../engine/errors';
import { sha256Hex } from '../engine/pem';
import { AgeError, AgeIdentities, AgeRecipients, decrypt, encrypt, isAgeFile, parseRecipient } from './age';

/** What a new state directory's `.gitignore` holds: plaintext keys stay out of Git; an encrypted state goes in. */
const PLAINTEXT_GITIGNORE = '# cdk8s-pki state: private keys. Do not commit it in plaintext.\n*\n';
const ENCRYPTED_GITIGNORE = '# cdk8s-pki state, age-encrypted: commit it. Only the lock and temp files stay out.\n.lock\n.*.tmp\n';

/**
 * Where the PKI state's entries live: a flat namespace of names like `example/cluster-ca/key-1.pem`.
 * Implementations write atomically; an `exclusive` write fails rather than replace (private keys).
 */
export interface StateStore {
  /** Where the state lives, for messages. */
  readonly location: string;
  read(name: string): Buffer | undefined;
  /** Every entry name, sorted. */
  list(): string[];
  write(name: string, data: Buffer, exclusive: boolean): void;
  /** Runs `fn` while holding the store's lock, so two synths cannot interleave their writes. */
  withLock<T>(fn: () => T): T;
  /** Where an entry is, for messages (a file path for a directory store). */
  locate(name: string): string;
}

export class MemoryStore implements StateStore {
  readonly location = 'in-memory state';
  private readonly entries = new Map<string, Buffer>();

  read(name: string): Buffer | undefined {
    const data = this.entries.get(name);
    return data && Buffer.from(data);
  }
  list(): string[] {
    return [...this.entries.keys()].sort();
  }
  write(name: string, data: Buffer, exclusive: boolean): void {
    if (exclusive && this.entries.has(name)) throw new StateError(`${name} exists in the ${this.location} and is never overwritten`);
    this.entries.set(name, Buffer.from(data));
  }
  withLock<T>(fn: () => T): T {
    return fn();
  }
  locate(name: string): string {
    return name;
  }
}

const LOCK_WAIT_MS = 15_000;

/** True when `holder` (`pid@host`) names a process of this host that no longer exists. */
function isDeadLocalProcess(holder: string): boolean {
  const [pid, host] = holder.split('@');
  if (host !== os.hostname() || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The state as files under one directory (`.pki/` by default): files 0600, directories 0700, every write
 * a temp file + fsync + rename (or link, for exclusive writes), so a crash leaves each file old or new,
 * never half-written.
 */
export class DirectoryStore implements StateStore {
  readonly location: string;

  constructor(readonly directory: string) {
    this.location = `state directory ${directory}`;
  }

  locate(name: string): string {
    return path.join(this.directory, name);
  }

  read(name: string): Buffer | undefined {
    const data = this.readFile(name);
    // An encrypted state read without its keys (a CI secret missing, say) must stop here, not be parsed as
    // plaintext and reported corrupt, which would invite removing the slot and regenerating a CA.
    if (data && isAgeFile(data)) {
      throw new StateError(`${this.locate(name)} is age-encrypted, but no age key is set: set CDK8S_PKI_AGE_IDENTITY_FILE (or CDK8S_PKI_AGE_IDENTITY, or CDK8S_PKI_AGE_PASSPHRASE) and the recipients`);
    }
    return data;
  }

  /** The bytes of `name` as they are on disk. */
  readFile(name: string): Buffer | undefined {
    try {
      return fs.readFileSync(this.locate(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError(`cannot read ${this.locate(name)}: ${(err as Error).message}`);
    }
  }

  list(): string[] {
    if (!fs.existsSync(this.directory)) return [];
    const names: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('.')) continue; // .gitignore, .lock, temp files
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else names.push(path.relative(this.directory, full).split(path.sep).join('/'));
      }
    };
    walk(this.directory);
    return names.sort();
  }

  write(name: string, data: Buffer, exclusive: boolean): void {
    const target = this.locate(name);
    this.ensureDirectory(path.dirname(target));
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
    const fd = fs.openSync(temp, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      if (exclusive) {
        // link() fails with EEXIST instead of replacing: a private key is never overwritten.
        fs.linkSync(temp, target);
        fs.unlinkSync(temp);
      } else {
        fs.renameSync(temp, target);
      }
    } catch (err) {
      fs.rmSync(temp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new StateError(`${target} exists and is never overwritten`);
      throw new StateError(`cannot write ${target}: ${(err as Error).message}`);
    }
    const dirFd = fs.openSync(path.dirname(target), 'r');
    try {
      fs.fsyncSync(dirFd); // make the rename itself durable
    } finally {
      fs.closeSync(dirFd);
    }
  }

  /**
   * A lock file holding `pid@host`, created with O_EXCL. Hand-written rather than proper-lockfile because a
   * synth is synchronous (that library's sync API cannot wait) and a killed synth must not block the next
   * one: a lock whose process is gone from this host is taken over at once instead of after a timeout.
   */
  withLock<T>(fn: () => T): T {
    this.ensureDirectory(this.directory);
    const lockPath = path.join(this.directory, '.lock');
    const owner = `${process.pid}@${os.hostname()}`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        fs.writeFileSync(lockPath, owner, { flag: 'wx', mode: 0o600 });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StateError(`cannot lock ${this.directory}: ${(err as Error).message}`);
      }
      const holder = readLockHolder(lockPath);
      if (isDeadLocalProcess(holder)) {
        fs.rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StateError(`cannot lock ${this.directory}: held by ${holder || 'another process'} (another synth running?)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // synth is synchronous: sleep, then retry
    }
    try {
      return fn();
    } finally {
      fs.rmSync(lockPath, { force: true });
    }
  }

  /** The `.gitignore` a new state directory gets. Plaintext keys live here: keep them out of Git. */
  protected gitignore(): string {
    return PLAINTEXT_GITIGNORE;
  }

  private ensureDirectory(dir: string): void {
    const fresh = !fs.existsSync(this.directory);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (fresh) fs.writeFileSync(path.join(this.directory, '.gitignore'), this.gitignore(), { mode: 0o600 });
  }
}

/** Who holds the lock (`pid@host`); empty when it was released meanwhile. Read raw: the lock is never encrypted. */
function readLockHolder(lockPath: string): string {
  try {
    return fs.readFileSync(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new StateError(`cannot read ${lockPath}: ${(err as Error).message}`);
  }
}

/** How an EncryptedDirectoryStore encrypts what it writes and decrypts what it reads. */
export interface AgeKeys {
  /**
   * `age1…` recipients every file is encrypted to, or a passphrase. An empty list makes a store that reads but
   * cannot write (a frozen CI synth, `list`, `export-node`).
   */
  readonly recipients: AgeRecipients;
  /** `AGE-SECRET-KEY-1…` identities, or the passphrase. */
  readonly identities: AgeIdentities;
  /** log2 of scrypt's N for a passphrase. @default 18, as the age CLI */
  readonly scryptWorkFactor?: number;
}

/**
 * The state as a directory of age-encrypted files, safe to commit: each file is a binary age v1 file
 * (`age -d -i key.txt .pki/<slot>/key-1.pem` opens it) under the same name as in a plaintext state, so slots,
 * messages and `locate()` are the same in both. Writes and the lock are DirectoryStore's.
 *
 * A file that cannot be decrypted (no matching identity, wrong passphrase, modified, or not encrypted at all)
 * is a StateError, never an absent entry: treating it as absent would make synth generate a new CA.
 */
export class EncryptedDirectoryStore extends DirectoryStore {
  override readonly location: string;
  /** Plaintext by SHA-256 of its ciphertext: PkiState reads an entry again at commit, and scrypt costs ~0.5 s a file. */
  private readonly plaintexts = new Map<string, Buffer>();

  constructor(directory: string, private readonly keys: AgeKeys) {
    super(directory);
    this.location = `age-encrypted state directory ${directory}`;
    // A bad recipient fails here rather than at the first write.
    if (!('passphrase' in keys.recipients)) for (const recipient of keys.recipients) parseRecipient(recipient);
  }

  override read(name: string): Buffer | undefined {
    const ciphertext = this.readFile(name);
    if (ciphertext === undefined) return undefined;
    const digest = sha256Hex(ciphertext);
    let plaintext = this.plaintexts.get(digest);
    if (!plaintext) {
      plaintext = this.decryptEntry(name, ciphertext);
      this.plaintexts.set(digest, plaintext);
    }
    return Buffer.from(plaintext);
  }

  override write(name: string, data: Buffer, exclusive: boolean): void {
    if (!('passphrase' in this.keys.recipients) && this.keys.recipients.length === 0) {
      throw new StateError(`cannot write ${this.locate(name)}: no age recipients to encrypt it to; set CDK8S_PKI_AGE_RECIPIENTS or CDK8S_PKI_AGE_RECIPIENTS_FILE`);
    }
    const ciphertext = encrypt(data, this.keys.recipients, { scryptWorkFactor: this.keys.scryptWorkFactor });
    super.write(name, ciphertext, exclusive);
    this.plaintexts.set(sha256Hex(ciphertext), Buffer.from(data));
  }

  /** Ignores only the lock and temp files: the encrypted state is meant to be committed. */
  protected override gitignore(): string {
    return ENCRYPTED_GITIGNORE;
  }

  private decryptEntry(name: string, ciphertext: Buffer): Buffer {
    const file = this.locate(name);
    try {
      return decrypt(ciphertext, this.keys.identities);
    } catch (err) {
      if (!(err instanceof AgeError)) throw err;
      switch (err.code) {
        case 'not-age':
          throw new StateError(`${file} is not age-encrypted, but this state is (CDK8S_PKI_AGE_* is set): encrypt the plaintext state first (\`cdk8s-pki reencrypt\`) or unset those variables`);
        case 'corrupt':
          throw new StateError(`${file} is corrupt or was modified (${err.message}); restore it from a backup — synth never replaces it on its own`);
        default:
          throw new StateError(`cannot decrypt ${file}: ${this.noMatchReason(err)}`);
      }
    }
  }

  private noMatchReason(err: AgeError): string {
    if ('passphrase' in this.keys.identities) return `${err.message}; check CDK8S_PKI_AGE_PASSPHRASE`;
    if (/passphrase/.test(err.message)) return `${err.message}; set CDK8S_PKI_AGE_PASSPHRASE instead of identities`;
    if (this.keys.identities.length === 0) return 'no age identity is set; set CDK8S_PKI_AGE_IDENTITY_FILE (or CDK8S_PKI_AGE_IDENTITY) to a key the state is encrypted to';
    return `${err.message}; set CDK8S_PKI_AGE_IDENTITY_FILE (or CDK8S_PKI_AGE_IDENTITY) to a key the state is encrypted to`;
  }
}

/**
 * Rewrites every file of the state in `directory` encrypted to `newRecipients` (adding or removing a team
 * member, rotating a passphrase), under the state's lock. Every file is decrypted with `identities` before the
 * first is rewritten, so a file they cannot open stops the command with nothing changed; each file is then
 * replaced atomically (key files included: same key, new encryption). An interrupted run leaves files under
 * either set: run it again with identities of both. With `encryptPlaintext`, files that are not age-encrypted
 * (a plaintext state being moved to encryption) are encrypted as they are, and the plaintext state's
 * `.gitignore` (which ignores everything) becomes the encrypted one, so the state can be committed.
 * Returns the names rewritten.
 */
export function reencryptState(
  directory: string,
  identities: AgeIdentities,
  newRecipients: AgeRecipients,
  options: { encryptPlaintext?: boolean; scryptWorkFactor?: number } = {},
): string[] {
  if (!fs.existsSync(directory)) throw new StateError(`no state directory at ${directory}`);
  const raw = new DirectoryStore(directory);
  const store = new EncryptedDirectoryStore(directory, { identities, recipients: newRecipients, scryptWorkFactor: options.scryptWorkFactor });
  return store.withLock(() => {
    const entries = store.list().map((name) => {
      const data = raw.readFile(name)!;
      return { name, plaintext: options.encryptPlaintext && !isAgeFile(data) ? data : store.read(name)! };
    });
    for (const { name, plaintext } of entries) store.write(name, plaintext, false);
    const gitignore = path.join(directory, '.gitignore');
    if (options.encryptPlaintext && fs.existsSync(gitignore) && fs.readFileSync(gitignore, 'utf8') === PLAINTEXT_GITIGNORE) {
      fs.writeFileSync(gitignore, ENCRYPTED_GITIGNORE, { mode: 0o600 });
    }
    return entries.map((e) => e.name);
  });
}
