// The PostgreSQL state backend against a real server (test/support/postgres-server.ts): rows, client-side
// encryption (checked with the age command), the advisory lock, compare-and-swap commits, insert-only key rows.
import * as fs from 'node:fs';
import { generateIdentity } from '../../src/state/age';
import { postgresStoreFromEnvironment } from '../../src/state/environment';
import { PkiState } from '../../src/state/pki-state';
import { PostgresStore } from '../../src/state/postgres-store';
import { AgeKeys } from '../../src/state/store';
import { issueCaAndLeaf } from '../support/mini-pki';
import { PostgresServer, startPostgres } from '../support/postgres-server';
import { runOk, tempDir } from '../support/programs';

let server: PostgresServer;
const tmp = tempDir('cdk8s-pki-postgres-store-');
const alice = generateIdentity();
const keys: AgeKeys = { recipients: [alice.recipient], identities: [alice.identity] };
const identityFile = tmp.file('alice.txt', `${alice.identity}\n`);
let databases = 0;
const stores: PostgresStore[] = [];
/** Keeps `store` to close it (its thread and connection) after the tests. */
const opened = (store: PostgresStore) => (stores.push(store), store);
const open = (options: ConstructorParameters<typeof PostgresStore>[0]) => opened(new PostgresStore(options));

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(() => {
  stores.forEach((store) => store.close());
  server?.stop();
  tmp.cleanup();
});

/** A fresh database of the server, for one test. */
function database(): string {
  const name = `pki_${databases++}`;
  server.createDatabase(name);
  return name;
}

/** A fresh database whose default state holds a committed CA and leaf. */
function seededDatabase(): { db: string; url: string } {
  const db = database();
  const url = server.url(db);
  const seeded = new PkiState({ store: open({ url, keys }) });
  issueCaAndLeaf(seeded);
  seeded.commit();
  return { db, url };
}

const rowsOf = (db: string, where = 'true') =>
  server
    .psql(db, `SELECT state, name, generation, encode(content, 'hex'), content_sha256, updated_by FROM cdk8s_pki_entries WHERE ${where} ORDER BY state, name`)
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [state, name, generation, content, sha256, updatedBy] = line.split('|');
      return { state, name, generation: Number(generation), content: Buffer.from(content, 'hex'), sha256, updatedBy };
    });

test('a synth writes one row per entry, each an age file that `age -d` opens to what the state reads, with no key, token or its base64 in any content column', () => {
  const db = database();
  const store = open({ url: server.url(db, 'prod'), keys });
  const state = new PkiState({ store });
  const { ca } = issueCaAndLeaf(state);
  const token = state.ensureSecret('cluster/join-token', { generate: (randomBytes) => `abcdef.${randomBytes(8).toString('hex')}` });
  state.commit();

  const rows = rowsOf(db);
  const reader = open({ url: server.url(db, 'prod'), keys, readOnly: true });
  expect(rows.map((r) => r.name)).toEqual(reader.list());
  expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['cluster/ca/key-1.pem', 'cluster/ca/certificate.json', 'cluster/apiserver/key-1.pem']));
  const plaintexts = rows.map((row) => {
    const file = tmp.file(`row-${row.name.replace(/\//g, '_')}`, '');
    fs.writeFileSync(file, row.content);
    const opened = runOk('age', ['-d', '-i', identityFile, file]);
    expect(opened).toBe(reader.read(row.name)!.toString());
    return opened;
  });
  const caKeyPem = plaintexts[rows.findIndex((r) => r.name === 'cluster/ca/key-1.pem')];
  expect(caKeyPem).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}/);
  const keyBody = caKeyPem.replace(/-----[^-]+-----|\s/g, '');
  const secrets = [keyBody, Buffer.from(caKeyPem).toString('base64'), token.value, Buffer.from(token.value).toString('base64')];
  for (const row of rows) {
    const stored = row.content.toString('latin1');
    expect(stored.startsWith('age-encryption.org/v1\n')).toBe(true);
    expect(stored).not.toMatch(/-----BEGIN|PRIVATE KEY/);
    for (const secret of secrets) expect(stored).not.toContain(secret.slice(0, 24));
  }
  expect(ca.certificate).toBeDefined();
  expect(rows.every((r) => r.generation === 1 && r.state === 'prod' && /^cdk8s-pki \d+@/.test(r.updatedBy))).toBe(true);
  expect(server.psql(db, 'SELECT version FROM cdk8s_pki_schema_version').trim()).toBe('1');
});

test('without age keys nothing is written, unless CDK8S_PKI_POSTGRES_PLAINTEXT opts in', () => {
  const db = database();
  const url = server.url(db);
  const refused = new PkiState({ store: opened(postgresStoreFromEnvironment(url, {})) });
  issueCaAndLeaf(refused);
  expect(() => refused.commit()).toThrow(/age-encrypted on this machine; set CDK8S_PKI_AGE_RECIPIENTS .* or CDK8S_PKI_POSTGRES_PLAINTEXT=1/);
  expect(server.psql(db, "SELECT to_regclass('cdk8s_pki_entries') IS NULL").trim()).toBe('t');
  expect(() => opened(postgresStoreFromEnvironment(url, { CDK8S_PKI_POSTGRES_PLAINTEXT: 'maybe' }))).toThrow(/CDK8S_PKI_POSTGRES_PLAINTEXT: "maybe" is neither true/);
  const plaintext = new PkiState({ store: opened(postgresStoreFromEnvironment(url, { CDK8S_PKI_POSTGRES_PLAINTEXT: '1' })) });
  issueCaAndLeaf(plaintext);
  plaintext.commit();
  expect(rowsOf(db, "name = 'cluster/ca/key-1.pem'")[0].content.toString()).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}/);
});

test('a frozen synth reads the state and writes nothing, not even the tables', () => {
  const db = database();
  const frozen = new PkiState({ store: open({ url: server.url(db), keys, readOnly: true }), frozen: true });
  expect(() => {
    issueCaAndLeaf(frozen);
    frozen.commit();
  }).toThrow(/frozen/i);
  expect(server.psql(db, "SELECT to_regclass('cdk8s_pki_entries') IS NULL").trim()).toBe('t');
});

test('states of one database are apart: each URL state= sees only its own rows', () => {
  const db = database();
  for (const name of ['prod', 'staging']) {
    const state = new PkiState({ store: open({ url: server.url(db, name), keys }) });
    issueCaAndLeaf(state);
    state.commit();
  }
  const prod = open({ url: server.url(db, 'prod'), keys, readOnly: true });
  const staging = open({ url: server.url(db, 'staging'), keys, readOnly: true });
  expect(prod.list()).toEqual(staging.list());
  expect(prod.read('cluster/ca/key-1.pem')!.equals(staging.read('cluster/ca/key-1.pem')!)).toBe(false);
});

test('a writing synth holds the lock from its first read: another writer waits past its timeout and fails naming the holder, while read-only stores (frozen, plan) read without it', () => {
  const { url } = seededDatabase();
  const holder = open({ url, keys, holder: 'cdk8s-pki 4242@laptop job 77' });
  const caRecord = holder.read('cluster/ca/certificate.json');
  const contender = open({ url, keys, lockTimeoutMs: 300 });
  expect(() => contender.read('cluster/ca/certificate.json')).toThrow(
    /^cannot lock the PostgreSQL state "default" at postgres:\/\/postgres@\/pki_\d+\S* within 0.3 s: held by cdk8s-pki 4242@laptop job 77, connected since \S+ \(another synth running\?\); it is released when that synth ends or its connection closes, and CDK8S_PKI_POSTGRES_LOCK_TIMEOUT sets how long to wait$/,
  );
  const readerEnv = { CDK8S_PKI_AGE_IDENTITY: alice.identity };
  for (const reader of [opened(postgresStoreFromEnvironment(url, { ...readerEnv, CDK8S_PKI_FROZEN: '1' })), opened(postgresStoreFromEnvironment(url, { ...readerEnv, CDK8S_PKI_PLAN_FILE: tmp.file('plan.json', '') }))]) {
    expect(reader.read('cluster/ca/certificate.json')).toEqual(caRecord);
    expect(() => reader.write('cluster/ca/certificate.json', Buffer.from('{}'), false)).toThrow(/cannot write the PostgreSQL state "default" .*: it was opened to be read only/);
  }
  // A synth with nothing to write lets go, and the contender gets the lock.
  holder.release();
  expect(contender.read('cluster/ca/certificate.json')).toEqual(caRecord);
});

test('a commit that finds a row it read changed (by a writer that did not wait for the lock) writes nothing and names the row and who wrote it', () => {
  const { db, url } = seededDatabase();
  // A CA of another validity: the synth re-issues the CA record and the leaf, holding the lock.
  const second = new PkiState({ store: open({ url, keys }) });
  issueCaAndLeaf(second, 3651);
  server.psql(db, "UPDATE cdk8s_pki_entries SET content = content || '\\x0a'::bytea, content_sha256 = encode(sha256(content || '\\x0a'::bytea), 'hex'), updated_by = 'an operator' WHERE name = 'cluster/ca/certificate.json'");
  const before = rowsOf(db);
  expect(() => second.commit()).toThrow(/cluster\/ca\/certificate.json in the PostgreSQL state "default" .* changed while this synth ran \(written by an operator at \S+\); nothing was written, run synth again/);
  expect(rowsOf(db)).toEqual(before);
});

test('key rows are insert-only: the store refuses to replace one, and the database refuses UPDATE and DELETE of one', () => {
  const db = database();
  const url = server.url(db);
  // A writer whose connection (and so its lock) was lost after it read: it still holds the state it read.
  const stale = open({ url, keys });
  stale.load();
  stale.close();
  const state = new PkiState({ store: open({ url, keys }) });
  issueCaAndLeaf(state);
  state.commit();
  const store = open({ url, keys });
  expect(() => store.write('cluster/ca/key-1.pem', Buffer.from('other'), true)).toThrow(/cluster\/ca\/key-1.pem in the PostgreSQL state .* exists and is never overwritten/);
  // A writer whose snapshot predates the key: the INSERT itself fails, in the database, and nothing is written.
  expect(() => stale.write('cluster/ca/key-1.pem', Buffer.from('other'), true)).toThrow(/cluster\/ca\/key-1.pem in the PostgreSQL state .* exists and is never overwritten; nothing was written/);
  const before = rowsOf(db);
  for (const sql of ["UPDATE cdk8s_pki_entries SET updated_by = 'x' WHERE name = 'cluster/ca/key-1.pem'", "DELETE FROM cdk8s_pki_entries WHERE name LIKE 'cluster/%'"]) {
    expect(() => server.psql(db, sql)).toThrow(/cluster\/\w+\/key-1.pem of state default is a private key: it is never updated or deleted/);
  }
  expect(rowsOf(db)).toEqual(before);
  // Records are replaced in place, their generation counted; the key rows stay as they were.
  const renewal = new PkiState({ store: open({ url, keys }) });
  renewal.requestRotation('cluster/ca', { newKey: false });
  const renewed = new PkiState({ store: open({ url, keys }) });
  issueCaAndLeaf(renewed);
  renewed.commit();
  const after = rowsOf(db);
  const generation = (name: string) => after.find((r) => r.name === name)!.generation;
  expect([generation('cluster/ca/certificate.json'), generation('cluster/apiserver/certificate.json'), generation('cluster/ca/key-1.pem')]).toEqual([3, 2, 1]);
  const keyRows = (rows: typeof after) => rows.filter((r) => r.name.endsWith('.pem'));
  expect(keyRows(after)).toEqual(keyRows(before));
});
