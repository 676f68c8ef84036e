/**
 * The state in a PostgreSQL database, shared by a team and its CI: one row per entry, a session-level advisory
 * lock per state that a writing synth holds from its read to its commit, and commits that are one transaction
 * checking every row the synth read (compare-and-swap on the content hashes, the guard for a writer whose lock
 * was lost with its connection). Contents are age-encrypted here, on the client, so the database, its backups and its
 * operators see ciphertext only.
 *
 * A synth is synchronous (construct constructors and validations), so the store reads the whole state in one
 * query at its first read (taking the lock first, unless the store only reads) and serves reads from memory; writes are held until the end of `withLock` and go in
 * one transaction. `pg` runs in a worker thread (postgres-worker.ts) that this thread waits on with
 * Atomics.wait: a user's main.ts stays `new App(); …; app.synth()`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { StateError } from '../engine/errors';
import { sha256Hex } from '../engine/pem';
import { isAgeFile } from './age';
import { ENV_POSTGRES_LOCK_TIMEOUT } from './environment';
import { Reply, Request, StoredRow, WorkerData } from './postgres-protocol';
import { AgeEntryCodec, AgeKeys, StateStore } from './store';

/** The state a URL's `?state=` names (several states can share a database), when it names none. */
export const DEFAULT_STATE_NAME = 'default';

/** Where a PostgresStore keeps the state, how it encrypts it, and how long it waits for another synth's lock. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?state=<name>` (or `postgresql://`; `?host=/dir` for a Unix socket). */
  readonly url: string;
  /** How entries are encrypted; without it the store refuses to write unless `allowPlaintext`. @default - no encryption */
  readonly keys?: AgeKeys;
  /** Write private keys in plaintext into the database. @default false */
  readonly allowPlaintext?: boolean;
  /** How long to wait for another synth's lock before failing; 0 fails at once. @default 300 s */
  readonly lockTimeoutMs?: number;
  /**
   * Only read (a frozen synth, `plan`, `list`, the exports): take no lock, so a reader never waits for a synth,
   * and refuse to write. @default false
   */
  readonly readOnly?: boolean;
  /** Who this synth is, in `updated_by` and to a contender waiting on the lock. @default `cdk8s-pki <pid>@<host>`, and the CI job when one is set */
  readonly holder?: string;
}

/** The default holder name: process, host, and the CI job that ran it (GitLab's CI_JOB_ID, GitHub's run id). */
function defaultHolder(env: NodeJS.ProcessEnv = process.env): string {
  const job = env.CI_JOB_ID ?? (env.GITHUB_RUN_ID && `${env.GITHUB_RUN_ID}/${env.GITHUB_JOB ?? ''}`);
  return `cdk8s-pki ${process.pid}@${os.hostname()}${job ? ` job ${job}` : ''}`;
}

/**
 * The URL for `pg` (without `state`), the URL for messages (without the password either), and the state it
 * names. Parsed by hand rather than with URL, which refuses a host-less URL such as `postgres://user@/db?host=/run/postgresql`.
 */
function parseUrl(url: string): { connection: string; shown: string; state: string } {
  const query = url.indexOf('?');
  const params = new URLSearchParams(query < 0 ? '' : url.slice(query + 1));
  const state = params.get('state') ?? DEFAULT_STATE_NAME;
  if (state === '') throw new StateError('the PostgreSQL URL names an empty state (?state=)');
  params.delete('state');
  const rest = params.toString();
  const connection = `${query < 0 ? url : url.slice(0, query)}${rest ? `?${rest}` : ''}`;
  return { connection, shown: connection.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, '$1:***@'), state };
}

/** The worker script beside this module: compiled, or (running from sources, as the tests and examples do) through ts-node. */
function startWorker(data: Omit<WorkerData, 'port' | 'flag'>, port: MessagePort, flag: Int32Array): Worker {
  const compiled = path.join(__dirname, 'postgres-worker.js');
  const workerData: WorkerData = { ...data, port, flag };
  if (fs.existsSync(compiled)) return new Worker(compiled, { workerData, transferList: [port] });
  const source = path.join(__dirname, 'postgres-worker.ts');
  const bootstrap = `require('ts-node').register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } }); require(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { eval: true, workerData, transferList: [port] });
}

/** A worker thread running `pg`, called synchronously: post a request, block until the reply's flag rises. */
class SyncBridge {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;

  constructor(url: string, applicationName: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = startWorker({ url, applicationName }, port2, this.flag);
    // The thread (and its connection) must not keep a finished synth alive; exiting closes the connection.
    this.worker.unref();
    this.port.unref();
  }

  /** Stops the thread, which closes its connection (and so releases a lock it held). */
  close(): void {
    void this.worker.terminate();
  }

  call(request: Request, waitMs: number, where: string): Reply {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(request);
    const deadline = Date.now() + waitMs;
    for (;;) {
      Atomics.wait(this.flag, 0, 0, Math.max(1, Math.min(1000, deadline - Date.now())));
      const received = receiveMessageOnPort(this.port);
      if (received) {
        const reply = received.message as Reply;
        if (reply.error !== undefined) throw new StateError(`${where}: ${reply.error}`);
        return reply;
      }
      if (Date.now() > deadline) throw new StateError(`${where}: no answer from PostgreSQL in ${Math.round(waitMs / 1000)} s`);
    }
  }
}

interface LoadedRow {
  readonly content: Buffer;
  readonly sha256: string;
}

/** A staged change inside `withLock`: data to write, or null to remove. */
interface PendingWrite {
  readonly data: Buffer | null;
  readonly exclusive: boolean;
}

/** How long a query may take, beyond a lock wait, before the store gives up on the worker. */
const QUERY_WAIT_MS = 120_000;
/** Long enough for the synth of a large cluster queued behind another in CI; a stuck holder fails the job, named. */
const DEFAULT_LOCK_TIMEOUT_MS = 300_000;

/**
 * The state in PostgreSQL (see the module comment); `CDK8S_PKI_STATE=postgres://…` selects it for a synth and
 * the commands. Reads are served from one load of the whole state; writes land at the end of `withLock`.
 */
export class PostgresStore implements StateStore {
  /** The state and the database, without the URL's password, for messages. */
  readonly location: string;
  /** The state's name in the database (`?state=`). */
  readonly state: string;
  private readonly codec?: AgeEntryCodec;
  private readonly lockTimeoutMs: number;
  private readonly holder: string;
  private readonly connection: string;
  private bridge?: SyncBridge;
  private rows?: Map<string, LoadedRow>;
  /** The hash of every entry this store served (null: absent), which the commit checks is still what is stored. */
  private readonly served = new Map<string, string | null>();
  private pending?: Map<string, PendingWrite>;
  /** True from taking the state's lock (at the first read, or a `withLock`) to the end of the `withLock` that commits. */
  private locked = false;

  constructor(private readonly options: PostgresStoreOptions) {
    const { connection, shown, state } = parseUrl(options.url);
    this.connection = connection;
    this.state = state;
    this.location = `PostgreSQL state "${state}" at ${shown}`;
    this.codec = options.keys && new AgeEntryCodec(options.keys);
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.holder = (options.holder ?? defaultHolder()).slice(0, 63); // application_name's limit
  }

  /** True with a passphrase: one scrypt per entry read. */
  get costlyReads(): boolean {
    return this.codec?.costly ?? false;
  }

  /** The entry and the state it is in, for messages. */
  locate(name: string): string {
    return `${name} in the ${this.location}`;
  }

  /**
   * Reads the whole state in one query, unless it was read already; the first read does it too. A store that
   * may write takes the state's lock first, so that two synths started together do not both build on the same
   * state: the second waits for the first's commit and reads what it wrote.
   */
  load(): void {
    if (this.rows) return;
    if (!this.options.readOnly) this.lock();
    const { rows } = this.call({ op: 'load', state: this.state });
    this.rows = new Map((rows ?? []).map((row: StoredRow) => [row.name, { content: Buffer.from(row.content), sha256: row.sha256 }]));
  }

  /** The entry's plaintext, from the loaded state (or what this `withLock` wrote); undefined when absent. */
  read(name: string): Buffer | undefined {
    const pending = this.pending?.get(name);
    if (pending) return pending.data ? Buffer.from(pending.data) : undefined;
    this.load();
    const row = this.rows!.get(name);
    if (!this.served.has(name)) this.served.set(name, row?.sha256 ?? null);
    if (!row) return undefined;
    if (this.codec) return this.codec.decrypt(row.content, this.locate(name));
    if (isAgeFile(row.content)) {
      throw new StateError(`${this.locate(name)} is age-encrypted, but no age key is set: set CDK8S_PKI_AGE_IDENTITY_FILE (or CDK8S_PKI_AGE_IDENTITY, or CDK8S_PKI_AGE_PASSPHRASE) and the recipients`);
    }
    return Buffer.from(row.content);
  }

  /** Every entry name, sorted; with `prefix`, only those under `prefix/`. */
  list(prefix?: string): string[] {
    this.load();
    const names = new Set(this.rows!.keys());
    for (const [name, { data }] of this.pending ?? []) {
      if (data) names.add(name);
      else names.delete(name);
    }
    return [...names].filter((name) => !path.posix.basename(name).startsWith('.') && (prefix === undefined || name.startsWith(`${prefix}/`))).sort();
  }

  /** Stages `data` (encrypted) for the commit at the end of `withLock`; outside one, commits it alone. */
  write(name: string, data: Buffer, exclusive: boolean): void {
    if (!this.pending) return this.withLock(() => this.write(name, data, exclusive));
    this.load();
    if (exclusive && (this.rows!.has(name) || this.pending.get(name)?.data)) throw new StateError(`${this.locate(name)} exists and is never overwritten`);
    if (!this.codec && !this.options.allowPlaintext) {
      throw new StateError(
        `cannot write ${this.locate(name)}: a state in a shared database is age-encrypted on this machine; set CDK8S_PKI_AGE_RECIPIENTS (or CDK8S_PKI_AGE_RECIPIENTS_FILE, or CDK8S_PKI_AGE_PASSPHRASE) and the identity, or CDK8S_PKI_POSTGRES_PLAINTEXT=1 to store private keys in plaintext there`,
      );
    }
    this.pending.set(name, { data: this.codec ? this.codec.encrypt(data, this.locate(name)) : Buffer.from(data), exclusive });
  }

  /** Stages the entry's removal, as `write` stages a write. */
  remove(name: string): void {
    if (!this.pending) return this.withLock(() => this.remove(name));
    this.pending.set(name, { data: null, exclusive: false });
  }

  /**
   * Runs `fn` holding the state's advisory lock (taken at the first read, or now), then commits what it wrote
   * in one transaction, which first checks that every entry this store served is still as it was served, and
   * releases the lock. Nothing is written when `fn` throws.
   */
  withLock<T>(fn: () => T): T {
    if (this.pending) return fn();
    if (this.options.readOnly) throw new StateError(`cannot write the ${this.location}: it was opened to be read only`);
    this.lock();
    this.pending = new Map();
    try {
      const result = fn();
      this.commitPending();
      return result;
    } finally {
      this.pending = undefined;
      this.release();
    }
  }

  /** Releases the lock the first read took, for a synth that ends with nothing to write. */
  release(): void {
    if (!this.locked) return;
    this.locked = false;
    this.call({ op: 'unlock', state: this.state });
  }

  /**
   * Closes the store's connection. A process that ends closes it anyway; one that opens many stores (a test, a
   * benchmark) closes each when done. A store used after this connects again.
   */
  close(): void {
    this.bridge?.close();
    this.bridge = undefined;
    this.locked = false;
  }

  /**
   * Takes the state's lock, waiting for a holder up to the lock timeout (saying so on stderr, as a synth that
   * seems to hang would not), or fails naming the holder.
   */
  private lock(): void {
    if (this.locked) return;
    let { holder } = this.call({ op: 'lock', state: this.state, timeoutMs: 0 });
    const seconds = `${this.lockTimeoutMs / 1000} s`;
    if (holder !== undefined && this.lockTimeoutMs > 0) {
      process.stderr.write(`cdk8s-pki: the ${this.location} is locked by ${holder}; waiting up to ${seconds} for it (${ENV_POSTGRES_LOCK_TIMEOUT})\n`);
      ({ holder } = this.call({ op: 'lock', state: this.state, timeoutMs: this.lockTimeoutMs }, this.lockTimeoutMs));
    }
    if (holder !== undefined) {
      throw new StateError(
        `cannot lock the ${this.location}${this.lockTimeoutMs > 0 ? ` within ${seconds}` : ''}: held by ${holder} (another synth running?); it is released when that synth ends or its connection closes, and ${ENV_POSTGRES_LOCK_TIMEOUT} sets how long to wait`,
      );
    }
    this.locked = true;
  }

  private commitPending(): void {
    const pending = this.pending!;
    if (pending.size === 0) return;
    const writes = [...pending].flatMap(([name, { data, exclusive }]) => (data ? [{ name, content: data, sha256: sha256Hex(data), exclusive }] : []));
    // Removing what is not stored (the commit journal, written and removed within one commit) is no change.
    const removes = [...pending].filter(([name, { data }]) => !data && this.rows!.has(name)).map(([name]) => name);
    const expected = [...this.served].map(([name, sha256]) => ({ name, sha256 }));
    const reply = this.call({ op: 'commit', state: this.state, expected, writes, removes, updatedBy: this.holder });
    if (reply.conflict) {
      throw new StateError(`${this.locate(reply.conflict.name)} changed while this synth ran (written by ${reply.conflict.by}); nothing was written, run synth again`);
    }
    if (reply.exists !== undefined) throw new StateError(`${this.locate(reply.exists)} exists and is never overwritten; nothing was written`);
    for (const { name, content, sha256 } of writes) {
      this.rows!.set(name, { content, sha256 });
      this.served.set(name, sha256);
    }
    for (const name of removes) {
      this.rows!.delete(name);
      this.served.set(name, null);
    }
  }

  private call(request: Request, extraWaitMs = 0): Reply {
    this.bridge ??= new SyncBridge(this.connection, this.holder);
    return this.bridge.call(request, QUERY_WAIT_MS + extraWaitMs, this.location);
  }
}
