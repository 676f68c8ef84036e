import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecError } from '../engine/errors';
import { AgeError, isAgeFile, parseIdentity, parseRecipient } from './age';
import type { PostgresStore } from './postgres-store';
import { AgeKeys, DirectoryStore, EncryptedDirectoryStore, StateStore } from './store';

/** Environment variables a user's CI sets; documented in docs/state.md. */
export const ENV_STATE_DIR = 'CDK8S_PKI_STATE_DIR';
/** A shared state instead of the directory: `postgres://…?state=<name>` (docs/shared-state.md). */
export const ENV_STATE = 'CDK8S_PKI_STATE';
/** `1` lets a PostgreSQL state hold private keys in plaintext (no CDK8S_PKI_AGE_* set). */
export const ENV_POSTGRES_PLAINTEXT = 'CDK8S_PKI_POSTGRES_PLAINTEXT';
/** Seconds a synth waits for another's lock on a PostgreSQL state (default 300; 0 fails at once). */
export const ENV_POSTGRES_LOCK_TIMEOUT = 'CDK8S_PKI_POSTGRES_LOCK_TIMEOUT';
/** Set to 1 (true, yes, on) in CI: synth and `rotate` never write the state, and fail when it must change. */
export const ENV_FROZEN = 'CDK8S_PKI_FROZEN';
/** Set by `cdk8s-pki plan` for the app it runs: the app writes its plan report there and nothing else (src/plan/). */
export const ENV_PLAN_FILE = 'CDK8S_PKI_PLAN_FILE';

type Environment = Readonly<Record<string, string | undefined>>;

/** `$CDK8S_PKI_STATE_DIR`, else `.pki` (relative to the working directory, i.e. beside the app). */
export function stateDirectoryFromEnvironment(env: Environment = process.env): string {
  return env[ENV_STATE_DIR] || '.pki';
}

const TRUE = ['1', 'true', 'yes', 'on', 'y'];
const FALSE = ['', '0', 'false', 'no', 'off', 'n'];

/**
 * True when `variable` is set to a truthy spelling (`1`, `true`, `yes`, `on`, any case, spaces trimmed). Anything
 * that is neither truthy nor falsy is refused, so a typo never silently means "off" in CI.
 */
function flagFromEnvironment(variable: string, env: Environment): boolean {
  const value = (env[variable] ?? '').trim().toLowerCase();
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new SpecError(variable, `${JSON.stringify(env[variable])} is neither true (1, true, yes, on) nor false (0, false, no, off, empty)`);
}

/** True when `$CDK8S_PKI_FROZEN` is set to a truthy spelling: synth must not write the state. */
export function frozenFromEnvironment(env: Environment = process.env): boolean {
  return flagFromEnvironment(ENV_FROZEN, env);
}

/** `age1…` recipients new state files are encrypted to, comma-separated. */
export const ENV_AGE_RECIPIENTS = 'CDK8S_PKI_AGE_RECIPIENTS';
/** A file of `age1…` recipients, one a line (`#` comments), as `age -R` reads. */
export const ENV_AGE_RECIPIENTS_FILE = 'CDK8S_PKI_AGE_RECIPIENTS_FILE';
/** The `AGE-SECRET-KEY-1…` identity itself (for CI secrets); several may be given, one a line or comma-separated. */
export const ENV_AGE_IDENTITY = 'CDK8S_PKI_AGE_IDENTITY';
/** A file of identities, as `age-keygen` writes it. */
export const ENV_AGE_IDENTITY_FILE = 'CDK8S_PKI_AGE_IDENTITY_FILE';
/** A passphrase that both encrypts and decrypts (scrypt); excludes the four above, as age does. */
export const ENV_AGE_PASSPHRASE = 'CDK8S_PKI_AGE_PASSPHRASE';

/** The keys of an age key list (a recipients or identity file, or a variable): `#` lines and blanks skipped. */
function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((key) => key.trim())
    .filter((key) => key !== '');
}

function readKeyFile(variable: string, file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(variable, `cannot read ${file}: ${(err as Error).message}`);
  }
  if (isAgeFile(Buffer.from(text))) throw new SpecError(variable, `${file} is itself age-encrypted; give the decrypted identity file`);
  return keyLines(text);
}

/** Each key parsed now, so a typo fails with the variable named instead of at the first write or read. */
function checked(variable: string, keys: string[], parse: (key: string) => unknown): string[] {
  for (const key of keys) {
    try {
      parse(key);
    } catch (err) {
      if (err instanceof AgeError) throw new SpecError(variable, err.message);
      throw err;
    }
  }
  return keys;
}

/**
 * The age keys the environment names, or undefined when it names none (the state is plaintext). Recipients
 * without an identity give a store that can create a state but not read one back; an identity without
 * recipients, one that reads but refuses to write (rather than silently encrypting to that identity alone).
 */
export function ageKeysFromEnvironment(env: Environment = process.env): AgeKeys | undefined {
  const passphrase = env[ENV_AGE_PASSPHRASE];
  const keyVariables = [ENV_AGE_RECIPIENTS, ENV_AGE_RECIPIENTS_FILE, ENV_AGE_IDENTITY, ENV_AGE_IDENTITY_FILE].filter((v) => env[v]);
  if (passphrase) {
    if (keyVariables.length > 0) throw new SpecError(ENV_AGE_PASSPHRASE, `cannot be combined with ${keyVariables.join(', ')}: age allows a passphrase-encrypted file no other recipient`);
    return { recipients: { passphrase }, identities: { passphrase } };
  }
  if (keyVariables.length === 0) return undefined;
  const recipients = [
    ...checked(ENV_AGE_RECIPIENTS, keyLines(env[ENV_AGE_RECIPIENTS] ?? ''), parseRecipient),
    ...(env[ENV_AGE_RECIPIENTS_FILE] ? checked(ENV_AGE_RECIPIENTS_FILE, readKeyFile(ENV_AGE_RECIPIENTS_FILE, env[ENV_AGE_RECIPIENTS_FILE]), parseRecipient) : []),
  ];
  const identities = [
    // Messages never quote an identity: it is the secret.
    ...checked(ENV_AGE_IDENTITY, keyLines(env[ENV_AGE_IDENTITY] ?? ''), parseIdentity),
    ...(env[ENV_AGE_IDENTITY_FILE] ? checked(ENV_AGE_IDENTITY_FILE, readKeyFile(ENV_AGE_IDENTITY_FILE, env[ENV_AGE_IDENTITY_FILE]), parseIdentity) : []),
  ];
  return { recipients, identities };
}

/** True when `backend` (a `--state`, `CDK8S_PKI_STATE` or `--from`/`--to` value) names a PostgreSQL database. */
export const isPostgresUrl = (backend: string): boolean => /^postgres(ql)?:\/\//i.test(backend);

/** `$CDK8S_PKI_STATE` when it names a PostgreSQL database. */
export function postgresUrlFromEnvironment(env: Environment = process.env): string | undefined {
  const backend = env[ENV_STATE]?.trim();
  return backend && isPostgresUrl(backend) ? backend : undefined;
}

/**
 * The PostgreSQL state at `url`, encrypted with the environment's age keys. Loads `pg` only when asked for.
 * `readOnly` (default: a frozen synth, or the app `cdk8s-pki plan` runs) takes no lock and writes nothing.
 */
export function postgresStoreFromEnvironment(url: string, env: Environment = process.env, readOnly = frozenFromEnvironment(env) || Boolean(env[ENV_PLAN_FILE])): PostgresStore {
  const lockTimeout = env[ENV_POSTGRES_LOCK_TIMEOUT]?.trim();
  if (lockTimeout && !/^\d+(\.\d+)?$/.test(lockTimeout)) throw new SpecError(ENV_POSTGRES_LOCK_TIMEOUT, `${JSON.stringify(lockTimeout)} is not a number of seconds`);
  const allowPlaintext = flagFromEnvironment(ENV_POSTGRES_PLAINTEXT, env);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PostgresStore } = require('./postgres-store') as typeof import('./postgres-store');
  return new PostgresStore({ url, keys: ageKeysFromEnvironment(env), allowPlaintext, lockTimeoutMs: lockTimeout ? Number(lockTimeout) * 1000 : undefined, readOnly });
}

/**
 * The state store the environment asks for: `$CDK8S_PKI_STATE` when it is a PostgreSQL URL (unless a directory
 * is given), else the directory, age-encrypted when any CDK8S_PKI_AGE_* variable is set, else plaintext. An
 * existing directory's `.gitignore` is checked (and recreated) here, so every synth and command repairs one
 * that a killed synth left missing or empty.
 */
export function stateStoreFromEnvironment(directory?: string, env: Environment = process.env): StateStore {
  const url = directory === undefined ? postgresUrlFromEnvironment(env) : undefined;
  if (url) return postgresStoreFromEnvironment(url, env);
  const keys = ageKeysFromEnvironment(env);
  const absolute = path.resolve(directory ?? stateDirectoryFromEnvironment(env));
  const store = keys ? new EncryptedDirectoryStore(absolute, keys) : new DirectoryStore(absolute);
  // A plan writes nothing, not even this.
  if (!env[ENV_PLAN_FILE]) store.ensureGitignore();
  return store;
}

/**
 * The store of `backend`, a PostgreSQL URL or a directory, as `state migrate` opens it. A directory is read as
 * it is, whatever the environment: plaintext files as plaintext, age files with the environment's age keys. A
 * directory with no entries yet is written encrypted when age keys are set, unless `plaintext`. A `readOnly`
 * PostgreSQL state takes no lock and refuses writes.
 */
export function stateStoreForBackend(backend: string, options: { plaintext?: boolean; readOnly?: boolean } = {}, env: Environment = process.env): StateStore {
  if (isPostgresUrl(backend)) return postgresStoreFromEnvironment(backend, env, options.readOnly === true);
  const directory = path.resolve(backend);
  const keys = ageKeysFromEnvironment(env);
  const raw = new DirectoryStore(directory);
  const some = raw.anyName();
  const encrypted = some === undefined ? keys !== undefined && !options.plaintext : isAgeFile(raw.readFile(some) ?? Buffer.alloc(0));
  return encrypted ? new EncryptedDirectoryStore(directory, keys ?? { recipients: [], identities: [] }) : raw;
}

/**
 * Warns on stderr when `store` is a plaintext state directory that git tracks: its private keys would be in
 * the repository's history. Silent outside a git work tree or without git.
 */
export function warnIfPlaintextStateTracked(store: StateStore): void {
  if (!(store instanceof DirectoryStore) || store instanceof EncryptedDirectoryStore) return;
  const directory = store.directory;
  if (!fs.existsSync(directory)) return;
  // An encrypted state opened without its keys is not plaintext; reading it will say what to set.
  const some = store.anyName();
  if (some !== undefined && isAgeFile(store.readFile(some) ?? Buffer.alloc(0))) return;
  const tracked = spawnSync('git', ['ls-files', '--', '.'], { cwd: directory, encoding: 'utf8' });
  if (tracked.status === 0 && tracked.stdout.trim() !== '') {
    process.stderr.write(`cdk8s-pki: warning: the plaintext state directory ${directory} is tracked by git; its private keys are in the repository. Encrypt it (CDK8S_PKI_AGE_RECIPIENTS, then \`cdk8s-pki reencrypt --encrypt-plaintext\`) or untrack it.\n`);
  }
}
