/**
 * The PostgreSQL side of PostgresStore, in a worker thread: `pg` is asynchronous and a synth is not, so the
 * store posts a request here and blocks (Atomics.wait) until this thread has posted the reply and raised the
 * flag. One connection per store; the state's advisory lock is a session lock of that connection, so a synth
 * that dies (kill -9 included) releases it when its connection closes, and an open transaction rolls back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MessagePort, workerData } from 'node:worker_threads';
import { Client, DatabaseError } from 'pg';
import { LOCK_CLASS, MIGRATIONS, Reply, Request, StoredRow, WorkerData } from './postgres-protocol';

const { port, flag, url, applicationName } = workerData as WorkerData;
const POLL_MS = 100;

let client: Client | undefined;

async function connection(): Promise<Client> {
  if (!client) {
    // A server that does not answer fails the synth in a while rather than at the TCP timeout.
    const fresh = new Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: 30_000 });
    // A connection lost between requests fails the next request rather than the thread.
    fresh.on('error', () => (client = undefined));
    await fresh.connect();
    client = fresh;
  }
  return client;
}

async function tablesExist(db: Client): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(`SELECT to_regclass('cdk8s_pki_entries') IS NOT NULL AS found`);
  return rows[0].found;
}

/** Creates the tables on first use and applies the migrations this version knows that the database lacks, one transaction each. */
async function migrate(db: Client): Promise<void> {
  await db.query('BEGIN');
  try {
    // Two first synths against an empty database: one creates, the other waits here and finds it done.
    await db.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS]);
    await db.query('CREATE TABLE IF NOT EXISTS cdk8s_pki_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM cdk8s_pki_schema_version');
    const current = rows[0].version ?? 0;
    const latest = MIGRATIONS.length;
    if (current > latest) throw new Error(`the database's cdk8s-pki schema is version ${current}, newer than this cdk8s-pki knows (${latest}): upgrade cdk8s-pki`);
    for (let version = current + 1; version <= latest; version++) {
      await db.query(MIGRATIONS[version - 1]);
      await db.query('INSERT INTO cdk8s_pki_schema_version (version) VALUES ($1)', [version]);
    }
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  }
}

async function load(db: Client, state: string): Promise<StoredRow[]> {
  if (!(await tablesExist(db))) return [];
  const { rows } = await db.query<StoredRow>('SELECT name, content, content_sha256 AS sha256 FROM cdk8s_pki_entries WHERE state = $1', [state]);
  return rows;
}

/** Who holds the advisory lock of `state`: the application name its connection set, and since when. */
async function lockHolder(db: Client, state: string): Promise<string> {
  const { rows } = await db.query<{ application_name: string; backend_start: Date; client_addr: string | null }>(
    `SELECT a.application_name, a.backend_start, a.client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::integer::oid AND l.objid = hashtext($2)::oid AND l.objsubid = 2`,
    [LOCK_CLASS, state],
  );
  if (rows.length === 0) return 'a session that has just released it';
  const holder = rows[0];
  return `${holder.application_name || 'an unnamed session'}${holder.client_addr ? ` from ${holder.client_addr}` : ''}, connected since ${holder.backend_start.toISOString()}`;
}

async function lock(db: Client, state: string, timeoutMs: number): Promise<{ holder?: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_CLASS, state]);
    if (rows[0].locked) return {};
    if (Date.now() > deadline) return { holder: await lockHolder(db, state) };
    await sleep(POLL_MS);
  }
}

/**
 * One transaction: every row the synth read is locked and compared with the hash it read (absent: still
 * absent); on any difference nothing is written and the row is named. Exclusive writes (keys) are plain
 * INSERTs, so an existing key row fails them; the others replace their row and bump its generation.
 */
async function commit(db: Client, request: Extract<Request, { op: 'commit' }>): Promise<Reply> {
  await migrate(db);
  await db.query('BEGIN');
  try {
    const { state, expected, writes, removes, updatedBy } = request;
    const { rows } = await db.query<{ name: string; content_sha256: string; updated_by: string; updated_at: Date }>(
      'SELECT name, content_sha256, updated_by, updated_at FROM cdk8s_pki_entries WHERE state = $1 AND name = ANY($2::text[]) FOR UPDATE',
      [state, expected.map((e) => e.name)],
    );
    const current = new Map(rows.map((row) => [row.name, row]));
    for (const { name, sha256 } of expected) {
      const row = current.get(name);
      if ((row?.content_sha256 ?? null) !== sha256) {
        await db.query('ROLLBACK');
        return { conflict: { name, by: row ? `${row.updated_by} at ${row.updated_at.toISOString()}` : 'a removal' } };
      }
    }
    const upsert = (rowsOf: typeof writes, onConflict: string) =>
      db.query(
        `INSERT INTO cdk8s_pki_entries AS e (state, name, content, content_sha256, updated_by)
         SELECT $1, w.name, w.content, w.sha256, $5 FROM unnest($2::text[], $3::bytea[], $4::text[]) AS w(name, content, sha256)
         ${onConflict}`,
        [state, rowsOf.map((w) => w.name), rowsOf.map((w) => Buffer.from(w.content)), rowsOf.map((w) => w.sha256), updatedBy],
      );
    const keys = writes.filter((w) => w.exclusive);
    const others = writes.filter((w) => !w.exclusive);
    if (keys.length > 0) await upsert(keys, '');
    if (others.length > 0) {
      await upsert(
        others,
        `ON CONFLICT (state, name) DO UPDATE SET content = EXCLUDED.content, content_sha256 = EXCLUDED.content_sha256,
           generation = e.generation + 1, updated_at = now(), updated_by = EXCLUDED.updated_by`,
      );
    }
    if (removes.length > 0) await db.query('DELETE FROM cdk8s_pki_entries WHERE state = $1 AND name = ANY($2::text[])', [state, removes]);
    await db.query('COMMIT');
    return {};
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    if (err instanceof DatabaseError && err.code === '23505') return { exists: /\(state, name\)=\(.*?, (.*)\) already exists/.exec(err.detail ?? '')?.[1] ?? '' };
    throw err;
  }
}

async function handle(request: Request): Promise<Reply> {
  const db = await connection();
  switch (request.op) {
    case 'load':
      return { rows: await load(db, request.state) };
    case 'lock':
      return lock(db, request.state, request.timeoutMs);
    case 'unlock':
      await db.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, request.state]);
      return {};
    case 'commit':
      return commit(db, request);
  }
}

function reply(to: MessagePort, message: Reply): void {
  to.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

port.on('message', (request: Request) => {
  handle(request).then(
    (result) => reply(port, result),
    (err: unknown) => reply(port, { error: err instanceof Error ? err.message : String(err) }),
  );
});
