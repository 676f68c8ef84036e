/** What PostgresStore and its worker thread (postgres-worker.ts) say to each other, and the schema they share. */

/** The first key of every cdk8s-pki advisory lock (the second is the state's `hashtext`); 0 is the schema's. */
export const LOCK_CLASS = 0x70_6b_69; // "pki"

/**
 * The schema by version: migration n takes version n-1 to n; a database records its version in
 * `cdk8s_pki_schema_version`. Append, never edit: a database at version n has run the first n as they were.
 *
 * Version 1: one row per state entry (today's file), keyed by the state's name and the entry's name. The content
 * hash is checked against the content, and a trigger makes key rows (`…/key-<n>.pem`) insert-only, whoever
 * writes: the same "never overwrite a private key" rule the directory store keeps with link().
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE cdk8s_pki_entries (
     state text NOT NULL,
     name text NOT NULL,
     generation integer NOT NULL DEFAULT 1,
     content bytea NOT NULL,
     content_sha256 text NOT NULL CHECK (content_sha256 = encode(sha256(content), 'hex')),
     updated_at timestamptz NOT NULL DEFAULT now(),
     updated_by text NOT NULL,
     PRIMARY KEY (state, name)
   );
   COMMENT ON COLUMN cdk8s_pki_entries.generation IS 'how many times the row was written: 1 when inserted';
   CREATE FUNCTION cdk8s_pki_keys_are_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     RAISE EXCEPTION 'cdk8s-pki: % of state % is a private key: it is never updated or deleted', OLD.name, OLD.state
       USING ERRCODE = 'integrity_constraint_violation';
   END $$;
   CREATE TRIGGER cdk8s_pki_keys_insert_only BEFORE UPDATE OR DELETE ON cdk8s_pki_entries
     FOR EACH ROW WHEN (OLD.name ~ '(^|/)key-[^/]*\\.pem$') EXECUTE FUNCTION cdk8s_pki_keys_are_insert_only();`,
];

/** Set up by the store for the worker. */
export interface WorkerData {
  /** The store's end of the conversation. */
  readonly port: import('node:worker_threads').MessagePort;
  /** 0 while a request is out, 1 once its reply is posted. */
  readonly flag: Int32Array;
  readonly url: string;
  /** Shown in pg_stat_activity, and by a contender that times out on the lock. */
  readonly applicationName: string;
}

export interface StoredRow {
  readonly name: string;
  readonly content: Uint8Array;
  readonly sha256: string;
}

export interface RowWrite extends StoredRow {
  readonly exclusive: boolean;
}

export type Request =
  | { readonly op: 'load'; readonly state: string }
  | { readonly op: 'lock'; readonly state: string; readonly timeoutMs: number }
  | { readonly op: 'unlock'; readonly state: string }
  | {
      readonly op: 'commit';
      readonly state: string;
      /** Every row the synth read, with the hash it read (null: absent). */
      readonly expected: readonly { readonly name: string; readonly sha256: string | null }[];
      readonly writes: readonly RowWrite[];
      readonly removes: readonly string[];
      readonly updatedBy: string;
    };

export interface Reply {
  readonly rows?: readonly StoredRow[];
  /** A lock wait timed out: who holds it. */
  readonly holder?: string;
  /** A commit found a row changed since it was read: nothing was written. */
  readonly conflict?: { readonly name: string; readonly by: string };
  /** A commit's exclusive write found its row there: nothing was written. */
  readonly exists?: string;
  readonly error?: string;
}
