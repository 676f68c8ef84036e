import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { StateError } from '../engine/errors';

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
      const holder = this.read('.lock')?.toString('utf8') ?? '';
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

  private ensureDirectory(dir: string): void {
    const fresh = !fs.existsSync(this.directory);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (fresh) {
      // Plaintext keys live here: keep the directory out of Git unless the user decides otherwise.
      fs.writeFileSync(path.join(this.directory, '.gitignore'), '# cdk8s-pki state: private keys. Do not commit it in plaintext.\n*\n', { mode: 0o600 });
    }
  }
}
