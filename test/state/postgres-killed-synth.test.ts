// kill -9 of a synth against a PostgreSQL state, at random points (50 trials): the database holds the state of
// before or the state of after, never a mix; the next synth succeeds; no key row ever changes. Each trial's synth
// re-issues the CA (a new validity) and so the leaf under it: two records that must move together. The rows
// are read with psql and opened with the age command, and the certificates checked with openssl. The killed
// synth's lock goes with its connection: the next synth, allowed no wait at all, gets it.
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { generateIdentity } from '../../src/state/age';
import { PostgresServer, startPostgres } from '../support/postgres-server';
import { runOk, tempDir } from '../support/programs';

const SCRIPT = path.resolve(__dirname, '../../lib/test/support/postgres-synth.js');
const TRIALS = 50;
const tmp = tempDir('cdk8s-pki-postgres-killed-');
const alice = generateIdentity();
const identityFile = tmp.file('alice.txt', `${alice.identity}\n`);
let server: PostgresServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!fs.existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`npm run build\` (npm test does it)`);
  server = await startPostgres();
  server.createDatabase('pki');
  env = { ...process.env, CDK8S_PKI_STATE: server.url('pki', 'killed'), CDK8S_PKI_AGE_RECIPIENTS: alice.recipient, CDK8S_PKI_AGE_IDENTITY: alice.identity };
}, 120_000);
afterAll(() => {
  server?.stop();
  tmp.cleanup();
});

interface Row {
  readonly sha256: string;
  readonly generation: number;
  readonly updated: string;
  readonly content: Buffer;
}

/** Every row of the state, by name. */
function rows(): Map<string, Row> {
  const out = server.psql('pki', "SELECT name, content_sha256, generation, updated_by || ' ' || updated_at, encode(content, 'hex') FROM cdk8s_pki_entries WHERE state = 'killed'");
  return new Map(
    out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [name, sha256, generation, updated, hex] = line.split('|');
        return [name, { sha256, generation: Number(generation), updated, content: Buffer.from(hex, 'hex') }];
      }),
  );
}

/** A row's content as the age command decrypts it. */
function opened(row: Row): string {
  const file = tmp.file('row.age', '');
  fs.writeFileSync(file, row.content);
  return runOk('age', ['-d', '-i', identityFile, file]);
}

/** The CA's validity in days, after checking that the leaf is the one issued under this CA (chain and signature). */
function consistentCaDays(state: Map<string, Row>): number {
  const ca = JSON.parse(opened(state.get('cluster/ca/certificate.json')!));
  const leaf = JSON.parse(opened(state.get('cluster/apiserver/certificate.json')!));
  expect(leaf.chain).toEqual([ca.certificate]);
  runOk('openssl', ['verify', '-CAfile', tmp.file('ca.pem', ca.certificate), tmp.file('leaf.pem', leaf.certificate)]);
  const x509 = new crypto.X509Certificate(ca.certificate);
  return Math.round((Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000);
}

const keyRows = (state: Map<string, Row>) => new Map([...state].filter(([name]) => /\/key-\d+\.pem$/.test(name)));

function synth(days: number, extraEnv: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [SCRIPT, 'synth', String(days)], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 60_000 });
  expect([result.status, result.signal, result.stderr]).toEqual([0, null, '']);
}

/** A synth killed by this process `ms` after it starts, or by itself `ms` after its commit starts; resolves to its pid. */
function killedSynth(days: number, where: 'anywhere' | 'in-commit', ms: number): Promise<number> {
  const args = where === 'in-commit' ? ['kill-in-commit', String(days), String(ms)] : ['synth', String(days)];
  const child = spawn(process.execPath, [SCRIPT, ...args], { env, stdio: 'ignore' });
  if (where === 'anywhere') setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => child.on('close', () => resolve(child.pid!)));
}

/** Returns once the server has seen the connection of the synth `pid` (its application_name) drop. */
async function sessionGone(pid: number): Promise<void> {
  while (server.psql('pki', `SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'cdk8s-pki ${pid}@%'`).trim() !== '0') await sleep(20);
}

test(`${TRIALS} synths killed at random points each leave the state of before or of after, and the next synth succeeds; no key row changes`, async () => {
  synth(3650);
  const moments = fc.sample(fc.tuple(fc.constantFrom<'anywhere' | 'in-commit'>('anywhere', 'in-commit'), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 1500 })), TRIALS);
  const outcomes = { before: 0, after: 0 };
  let days = 3650;
  for (const [where, inCommitMs, anywhereMs] of moments) {
    const target = days + 1;
    const before = rows();
    const keysBefore = keyRows(before);
    const killed = await killedSynth(target, where, where === 'in-commit' ? inCommitMs : anywhereMs);
    const after = rows();
    // Every key row as it was; a killed synth may have added whole ones, and changed none.
    expect(new Map([...keyRows(after)].filter(([name]) => keysBefore.has(name)))).toEqual(keysBefore);
    const changed = [...after].filter(([name, row]) => before.get(name)?.sha256 !== row.sha256);
    if (changed.length === 0) {
      expect(after).toEqual(before);
      expect(consistentCaDays(after)).toBe(days);
      outcomes.before++;
    } else {
      // One commit: every changed row written by one session in one transaction (one updated_by, one now()).
      expect(new Set(changed.map(([, row]) => row.updated)).size).toBe(1);
      expect(changed.map(([name]) => name)).toEqual(expect.arrayContaining(['cluster/apiserver/certificate.json', 'cluster/ca/certificate.json']));
      expect(consistentCaDays(after)).toBe(target);
      outcomes.after++;
    }
    // A lock left held would fail this synth at once (a timeout of 0), naming the killed synth.
    await sessionGone(killed);
    synth(target, { CDK8S_PKI_POSTGRES_LOCK_TIMEOUT: '0' });
    const resumed = rows();
    expect(consistentCaDays(resumed)).toBe(target);
    expect(new Map([...keyRows(resumed)].filter(([name]) => keysBefore.has(name)))).toEqual(keysBefore);
    days = target;
  }
  // The draw put kills both before and inside commits.
  expect(outcomes.before).toBeGreaterThan(0);
}, 600_000);
