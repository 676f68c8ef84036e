/**
 * The state directory's lock, for synchronous callers (a synth runs in construct constructors and
 * validations, where nothing can be awaited).
 *
 * Hand-written rather than proper-lockfile: that library's sync API cannot wait, and it judges a lock stale
 * by age, so a killed synth would block the next one for its whole staleness period.
 *
 * Protocol: a lock file `.lock-<n>` is created whole (written to a temp file, then link()ed, which fails if the
 * name exists) and holds `pid@host@boot-id@start-time@nonce`. With no lock file, a contender creates
 * `.lock-1`; when the highest `.lock-<n>` names a holder that is gone, it creates `.lock-<n+1>`, and link()
 * lets exactly one contender have that name. Taking over a dead holder's lock is therefore the same atomic
 * step as taking a free one: nothing is renamed or deleted that another contender may be judging. The new
 * holder then checks that no higher number exists and that the dead lock is still there as it judged it
 * (else it steps back: its view was older than someone else's takeover and release), and removes the dead
 * lock. Release removes the holder's own file, and only if it still holds the holder's nonce.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateError } from '../engine/errors';
import { describeFsError } from './fs-errors';

const LOCK = /^\.lock-([1-9]\d*)$/;
const POLL_MS = 10;

export interface LockOptions {
  /** How long to wait for a live holder before failing. @default 15 s */
  readonly waitMs?: number;
}

/** A held lock; `release()` removes this holder's own lock file, and nothing else. */
export interface HeldLock {
  readonly file: string;
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly bootId: string;
  readonly startTime: string;
  readonly nonce: string;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The kernel's boot id: a holder recorded under another boot is gone, whatever its PID. */
const BOOT_ID = readText('/proc/sys/kernel/random/boot_id') ?? '';

/** A process's start time in clock ticks since boot (Linux), which tells a reused PID from its holder. */
function startTimeOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  // Field 22; the command name (field 2) may hold spaces and parentheses, so count from the last ")".
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const SELF: Omit<Holder, 'nonce'> = { pid: process.pid, host: os.hostname(), bootId: BOOT_ID, startTime: startTimeOf(process.pid) ?? '' };

function parseHolder(text: string): Holder | undefined {
  const parts = text.split('@');
  if (parts.length !== 5 || !/^\d+$/.test(parts[0]) || parts[4] === '') return undefined;
  return { pid: Number(parts[0]), host: parts[1], bootId: parts[2], startTime: parts[3], nonce: parts[4] };
}

/**
 * Why `text` (a lock file's content) names no live process, or undefined when it may: a holder on another
 * host cannot be judged from here. A lock file is created whole, so one that does not parse is no holder.
 */
export function staleReason(text: string): string | undefined {
  const holder = parseHolder(text);
  if (!holder) return 'it names no holder';
  if (holder.host !== SELF.host) return undefined;
  if (holder.bootId !== SELF.bootId) return 'its holder ran before the last reboot';
  // This process holds no lock it is trying to take: its own PID there is an earlier process (a container's PID 1).
  if (holder.pid === SELF.pid) return 'its holder was an earlier process with this PID';
  if (processGone(holder.pid)) return 'its holder is gone';
  const started = startTimeOf(holder.pid);
  if (started !== undefined && holder.startTime !== '' && started !== holder.startTime) return 'its PID now belongs to another process';
  return undefined;
}

/** True when no process `pid` exists on this machine. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lockNumbers(directory: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(directory);
  } catch (err) {
    throw new StateError(`cannot lock ${directory}: ${describeFsError(err)}`);
  }
  return entries
    .map((entry) => LOCK.exec(entry)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Creates `file` holding `content`, or returns false when it exists. Never leaves `file` empty or partial. */
function createWhole(file: string, content: string): boolean {
  const temp = `${path.dirname(file)}/.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(temp, content, { flag: 'wx', mode: 0o600 });
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateError(`cannot lock ${path.dirname(file)}: ${describeFsError(err)}`);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

const remove = (file: string) => fs.rmSync(file, { force: true });

/** Takes the lock of `directory` (which must exist), waiting up to `waitMs` for a live holder. */
export function acquireLock(directory: string, options: LockOptions = {}): HeldLock {
  const nonce = crypto.randomBytes(12).toString('hex');
  const token = `${SELF.pid}@${SELF.host}@${SELF.bootId}@${SELF.startTime}@${nonce}`;
  const deadline = Date.now() + (options.waitMs ?? 15_000);
  const lockFile = (n: number) => path.join(directory, `.lock-${n}`);
  for (;;) {
    const locks = lockNumbers(directory);
    const top = locks[locks.length - 1] ?? 0;
    const holderText = top === 0 ? undefined : readText(lockFile(top));
    if (top !== 0 && holderText === undefined) continue; // released or taken over meanwhile: look again
    if (top === 0 || staleReason(holderText!) !== undefined) {
      const mine = top + 1;
      if (!createWhole(lockFile(mine), token)) continue;
      // Held only if nobody holds a higher number and the lock judged stale is still the one judged: a listing
      // older than a release and a new holder's cleanup could otherwise let two contenders through.
      const basisIntact = top === 0 || readText(lockFile(top)) === holderText;
      if (!basisIntact || lockNumbers(directory).some((n) => n > mine)) {
        remove(lockFile(mine));
        continue;
      }
      for (const n of locks) remove(lockFile(n));
      return {
        file: lockFile(mine),
        release: () => {
          // Only this holder's own file is removed: a lock it no longer holds is never touched.
          if (readText(lockFile(mine)) === token) remove(lockFile(mine));
        },
      };
    }
    if (Date.now() > deadline) {
      const holder = parseHolder(holderText!);
      const who = holder ? `process ${holder.pid} on host ${holder.host}` : 'another process';
      throw new StateError(
        `cannot lock ${directory}: held by ${who} (another synth running?); if no synth is running${holder && holder.host !== SELF.host ? ` on ${holder.host}` : ''}, remove ${lockFile(top)}`,
      );
    }
    sleep(POLL_MS);
  }
}

/** Runs `fn` holding the lock of `directory`. */
export function withDirectoryLock<T>(directory: string, fn: () => T, options: LockOptions = {}): T {
  const lock = acquireLock(directory, options);
  try {
    return fn();
  } finally {
    lock.release();
  }
}
