import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateError } from '../engine/errors';
import { sha256Hex } from '../engine/pem';
import { AgeError, AgeIdentities, AgeRecipients, decrypt, encrypt, isAgeFile, parseRecipient } from './age';
import { describeFsError } from './fs-errors';
import { processGone, withDirectoryLock } from './lock';
import { COMMIT_JOURNAL } from './records';

/** What a state directory's `.gitignore` holds: plaintext keys stay out of Git; an encrypted state goes in. */
const PLAINTEXT_GITIGNORE = '# cdk8s-pki state: private keys. Do not commit it in plaintext.\n*\n';
const ENCRYPTED_GITIGNORE = '# cdk8s-pki state, age-encrypted: commit it. Only the lock, temp files and the commit journal stay out.\n.*\n!.gitignore\n';

/**
 * Where the PKI state's entries live: a flat namespace of names like `example/cluster-ca/key-1.pem`.
 * Implementations write atomically; an `exclusive` write fails rather than replace (private keys). Names whose
 * last segment starts with `.` are the store's own (the commit journal) and are not listed. The backends: the
 * directory stores (a file per entry) and PostgresStore (a row per entry, written at the end of `withLock` in
 * one transaction); docs/shared-state.md says how others would fit.
 */
export interface StateStore {
  /** Where the state lives, for messages. */
  readonly location: string;
  /** An entry's bytes (decrypted, for an encrypted store); undefined when there is none. */
  read(name: string): Buffer | undefined;
  /** Every entry name, sorted; with `prefix`, only those under `prefix/` (a state of thousands of nodes is a long walk). */
  list(prefix?: string): string[];
  /** Writes an entry whole (temp file, fsync, rename); with `exclusive`, fails when it exists (key files are never replaced). */
  write(name: string, data: Buffer, exclusive: boolean): void;
  /** Removes an entry; absent is fine. */
  remove(name: string): void;
  /** Runs `fn` while holding the store's lock, so two synths cannot interleave their writes. */
  withLock<T>(fn: () => T): T;
  /**
   * Ends a synth that has nothing to write: a store that locks at its first read (PostgresStore) lets go of
   * the lock here rather than when the process ends. @default - nothing to release
   */
  release?(): void;
  /** Where an entry is, for messages (a file path for a directory store). */
  locate(name: string): string;
  /**
   * True when reading an entry is slow (a passphrase-encrypted state: one scrypt per file), so that a synth
   * reads a key file only when it uses the key. @default false
   */
  readonly costlyReads?: boolean;
}

const isEncryptedGitignore = (lines: string[]) => lines.includes('.*') && lines.includes('!.gitignore');

const isListed = (name: string) => !path.posix.basename(name).startsWith('.');

export class MemoryStore implements StateStore {
  readonly location = 'in-memory state';
  private readonly entries = new Map<string, Buffer>();

  read(name: string): Buffer | undefined {
    const data = this.entries.get(name);
    return data && Buffer.from(data);
  }
  list(prefix?: string): string[] {
    return [...this.entries.keys()].filter((name) => isListed(name) && (prefix === undefined || name.startsWith(`${prefix}/`))).sort();
  }
  write(name: string, data: Buffer, exclusive: boolean): void {
    if (exclusive && this.entries.has(name)) throw new StateError(`${name} exists in the ${this.location} and is never overwritten`);
    this.entries.set(name, Buffer.from(data));
  }
  remove(name: string): void {
    this.entries.delete(name);
  }
  withLock<T>(fn: () => T): T {
    return fn();
  }
  locate(name: string): string {
    return name;
  }
}

/** A temp file of `DirectoryStore.write` (or of the lock): `.<file>.<pid>.<random>.tmp`. */
const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Writes `data` to `target` through a temp file, fsync and rename (or link, for `exclusive`); the temp file never stays. */
function writeAtomically(target: string, data: Buffer | string, exclusive: boolean): void {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // link() fails with EEXIST instead of replacing: a private key is never overwritten.
    if (exclusive) fs.linkSync(temp, target);
    else fs.renameSync(temp, target);
    const dirFd = fs.openSync(path.dirname(target), 'r');
    try {
      fs.fsyncSync(dirFd); // make the rename itself durable
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new StateError(`${target} exists and is never overwritten`);
    throw new StateError(`cannot write ${target}: ${describeFsError(err)}`);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** The entries of a directory of the state; an unreadable one is a StateError naming it. */
function readStateDirectory(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new StateError(`cannot read the state directory ${dir}: ${describeFsError(err)}`);
  }
}

/**
 * The state as files under one directory (`.pki/` by default): files 0600, directories 0700, every write
 * a temp file + fsync + rename (or link, for exclusive writes), so a crash leaves each file old or new,
 * never half-written. The directory's `.gitignore` is checked whenever the store is opened or locked.
 */
export class DirectoryStore implements StateStore {
  readonly location: string;

  constructor(
    /** The state directory. */
    readonly directory: string,
  ) {
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
      throw new StateError(`cannot read ${this.locate(name)}: ${describeFsError(err)}`);
    }
  }

  list(prefix?: string): string[] {
    const names: string[] = [];
    this.walk(prefix === undefined ? this.directory : this.locate(prefix), (name) => void names.push(name));
    return names.sort();
  }

  /** Some entry's name (not the first in any order), or undefined when the store is empty: without walking it all. */
  anyName(): string | undefined {
    let found: string | undefined;
    this.walk(this.directory, (name) => ((found = name), true));
    return found;
  }

  /** Calls `visit` with each entry's name under `directory` until it returns true. */
  private walk(directory: string, visit: (name: string) => boolean | void): boolean {
    if (!fs.existsSync(directory)) return false;
    for (const entry of readStateDirectory(directory)) {
      if (entry.name.startsWith('.')) continue; // .gitignore, the lock, temp files, the journal
      const full = path.join(directory, entry.name);
      if (entry.isDirectory() ? this.walk(full, visit) : visit(path.relative(this.directory, full).split(path.sep).join('/')) === true) return true;
    }
    return false;
  }

  write(name: string, data: Buffer, exclusive: boolean): void {
    const target = this.locate(name);
    this.ensureDirectory(path.dirname(target));
    writeAtomically(target, data, exclusive);
  }

  remove(name: string): void {
    try {
      fs.rmSync(this.locate(name), { force: true });
    } catch (err) {
      throw new StateError(`cannot remove ${this.locate(name)}: ${describeFsError(err)}`);
    }
  }

  /**
   * Runs `fn` under the directory's lock (`lock.ts`). Once the lock is held no writer of this state can be
   * running, so temp files a killed writer left (which may hold a plaintext key) are removed first.
   */
  withLock<T>(fn: () => T): T {
    this.ensureDirectory(this.directory);
    return withDirectoryLock(this.directory, () => {
      this.removeStaleTempFiles(this.directory);
      return fn();
    });
  }

  /**
   * Writes the directory's `.gitignore` when it is missing or does not keep what it must out of Git (a synth
   * killed while creating the directory, an edit). Atomic, so it is never left empty. No-op without the directory.
   */
  ensureGitignore(): void {
    if (!fs.existsSync(this.directory)) return;
    const file = path.join(this.directory, '.gitignore');
    let current: string | undefined;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateError(`cannot read ${file}: ${describeFsError(err)}`);
    }
    if (current === undefined || !this.gitignoreSuffices(current)) writeAtomically(file, this.gitignore(), false);
  }

  /** The `.gitignore` this store writes. Plaintext keys live here: keep them out of Git. */
  protected gitignore(): string {
    return PLAINTEXT_GITIGNORE;
  }

  /**
   * Whether a `.gitignore` keeps this store's secrets out of Git: a plaintext state must be ignored whole. An
   * encrypted state opened without its keys keeps its own (reading it will say which variable to set).
   */
  protected gitignoreSuffices(content: string): boolean {
    const lines = content.split('\n').map((line) => line.trim());
    if (lines.includes('*')) return true;
    const some = this.anyName();
    return isEncryptedGitignore(lines) && some !== undefined && isAgeFile(this.readFile(some) ?? Buffer.alloc(0));
  }

  private ensureDirectory(dir: string): void {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StateError(`cannot create ${dir}: ${describeFsError(err)}`);
    }
    this.ensureGitignore();
  }

  private removeStaleTempFiles(dir: string): void {
    for (const entry of readStateDirectory(dir)) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        this.removeStaleTempFiles(full);
        continue;
      }
      const pid = TEMP_FILE.exec(entry.name)?.[1];
      // The lock's own temp files belong to contenders that may be alive; a writer's are judged like a lock holder.
      if (pid === undefined || entry.name.startsWith('..lock-') || entry.name.startsWith('..unlock-')) continue;
      if (Number(pid) === process.pid || processGone(Number(pid))) fs.rmSync(full, { force: true });
    }
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
 * age encryption of state entries, shared by every store that keeps them encrypted: what a store writes is
 * encrypted to the recipients, what it reads is decrypted with the identities. An entry that cannot be decrypted
 * (no matching identity, wrong passphrase, modified, or not encrypted at all) is a StateError naming where it is,
 * never an absent entry: treating it as absent would make synth generate a new CA.
 */
export class AgeEntryCodec {
  /** Plaintext by SHA-256 of its ciphertext: PkiState reads an entry again at commit, and scrypt costs ~0.5 s a file. */
  private readonly plaintexts = new Map<string, Buffer>();

  constructor(private readonly keys: AgeKeys) {
    // A bad recipient fails here rather than at the first write.
    if (!('passphrase' in keys.recipients)) for (const recipient of keys.recipients) parseRecipient(recipient);
  }

  /** True when decrypting is slow (a passphrase: one scrypt per entry). */
  get costly(): boolean {
    return 'passphrase' in this.keys.identities;
  }

  /** `data` encrypted to the recipients; `where` names the entry in the error when there are none. */
  encrypt(data: Buffer, where: string): Buffer {
    if (!('passphrase' in this.keys.recipients) && this.keys.recipients.length === 0) {
      throw new StateError(`cannot write ${where}: no age recipients to encrypt it to; set CDK8S_PKI_AGE_RECIPIENTS or CDK8S_PKI_AGE_RECIPIENTS_FILE`);
    }
    const ciphertext = encrypt(data, this.keys.recipients, { scryptWorkFactor: this.keys.scryptWorkFactor });
    this.plaintexts.set(sha256Hex(ciphertext), Buffer.from(data));
    return ciphertext;
  }

  /** The plaintext of `ciphertext`, the entry at `where`: a fresh copy each time. */
  decrypt(ciphertext: Buffer, where: string): Buffer {
    const digest = sha256Hex(ciphertext);
    let plaintext = this.plaintexts.get(digest);
    if (!plaintext) {
      plaintext = this.decryptEntry(ciphertext, where);
      this.plaintexts.set(digest, plaintext);
    }
    return Buffer.from(plaintext);
  }

  private decryptEntry(ciphertext: Buffer, where: string): Buffer {
    try {
      return decrypt(ciphertext, this.keys.identities);
    } catch (err) {
      if (!(err instanceof AgeError)) throw err;
      switch (err.code) {
        case 'not-age':
          throw new StateError(`${where} is not age-encrypted, but this state is (CDK8S_PKI_AGE_* is set): encrypt the plaintext state first (\`cdk8s-pki reencrypt\`) or unset those variables`);
        case 'corrupt':
          throw new StateError(`${where} is corrupt or was modified (${err.message}); restore it from a backup — synth never replaces it on its own`);
        default:
          throw new StateError(`cannot decrypt ${where}: ${this.noMatchReason(err)}`);
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
 * The state as a directory of age-encrypted files, safe to commit: each file is a binary age v1 file
 * (`age -d -i key.txt .pki/<slot>/key-1.pem` opens it) under the same name as in a plaintext state, so slots,
 * messages and `locate()` are the same in both. Writes and the lock are DirectoryStore's; encryption is
 * AgeEntryCodec's.
 */
export class EncryptedDirectoryStore extends DirectoryStore {
  override readonly location: string;
  private readonly codec: AgeEntryCodec;

  constructor(directory: string, keys: AgeKeys) {
    super(directory);
    this.location = `age-encrypted state directory ${directory}`;
    this.codec = new AgeEntryCodec(keys);
  }

  get costlyReads(): boolean {
    return this.codec.costly;
  }

  override read(name: string): Buffer | undefined {
    const ciphertext = this.readFile(name);
    return ciphertext && this.codec.decrypt(ciphertext, this.locate(name));
  }

  override write(name: string, data: Buffer, exclusive: boolean): void {
    super.write(name, this.codec.encrypt(data, this.locate(name)), exclusive);
  }

  /** Ignores only the lock and temp files: the encrypted state is meant to be committed. */
  protected override gitignore(): string {
    return ENCRYPTED_GITIGNORE;
  }

  /** Ignoring everything (a state moved from plaintext, not yet committed) is safe too. */
  protected override gitignoreSuffices(content: string): boolean {
    const lines = content.split('\n').map((line) => line.trim());
    return lines.includes('*') || isEncryptedGitignore(lines);
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
    // The commit journal too: the next synth reads it with the new identities.
    const names = [...store.list(), ...(raw.readFile(COMMIT_JOURNAL) ? [COMMIT_JOURNAL] : [])];
    const entries = names.map((name) => {
      const data = raw.readFile(name)!;
      return { name, plaintext: options.encryptPlaintext && !isAgeFile(data) ? data : store.read(name)! };
    });
    for (const { name, plaintext } of entries) store.write(name, plaintext, false);
    const gitignore = path.join(directory, '.gitignore');
    if (options.encryptPlaintext && fs.existsSync(gitignore) && fs.readFileSync(gitignore, 'utf8') === PLAINTEXT_GITIGNORE) {
      writeAtomically(gitignore, ENCRYPTED_GITIGNORE, false);
    }
    return entries.map((e) => e.name);
  });
}
