// The example app and the CLI against a shared PostgreSQL state, as a team and its CI use it: two synths from two
// working copies at once (serialized by the state's lock), a synth that finds the lock held, the commands (list, rotate, plan, export-node, export-secrets, frozen synth), and
// `state migrate` directory → PostgreSQL → directory. Runs the compiled app and CLI (`npm test` builds lib/).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { generateIdentity } from '../../src/state/age';
import { PostgresServer, startPostgres } from '../support/postgres-server';
import { runOk, snapshotDir, tempDir } from '../support/programs';
import { withSealedValuesMasked } from '../support/reference-cluster';

const ROOT = path.resolve(__dirname, '../..');
const APP = path.join(ROOT, 'lib/examples/main.js');
const CLI = path.join(ROOT, 'lib/src/cli.js');
const tmp = tempDir('cdk8s-pki-postgres-state-');
const alice = generateIdentity();
let server: PostgresServer;

beforeAll(async () => {
  for (const file of [APP, CLI]) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm test does it)`);
  server = await startPostgres();
}, 120_000);
afterAll(() => {
  server?.stop();
  tmp.cleanup();
});

/** The environment of a user of the state `url`: the state and the team's age keys. */
const envFor = (url?: string): NodeJS.ProcessEnv => ({
  ...process.env,
  CDK8S_PKI_STATE: url ?? '',
  CDK8S_PKI_AGE_RECIPIENTS: url ? alice.recipient : '',
  CDK8S_PKI_AGE_IDENTITY: url ? alice.identity : '',
  CDK8S_PKI_PROGRESS: '0',
});

/** A working copy of the example app: its own directory (dist/, .pki/), the examples/ it reads, its cdk8s.yaml. */
function workingCopy(name: string): string {
  const dir = path.join(tmp.dir, name);
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'));
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `language: typescript\napp: ${JSON.stringify(`${process.execPath} ${APP}`)}\noutput: dist\n`);
  return dir;
}

/** A synth of the app in `dir`, started now: its process, and its end (exit status, stderr). */
function startSynth(dir: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [APP], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ status: number | null; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stderr })));
  return { child, pid: child.pid!, done };
}

/** Returns once the synth `synth` holds an advisory lock in `db` (as seen in pg_locks); fails if it ends first. */
async function holdingLock(db: string, synth: ReturnType<typeof startSynth>): Promise<void> {
  const sql = `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'cdk8s-pki ${synth.pid}@%'`;
  while (server.psql(db, sql).trim() === '0') {
    if (synth.child.exitCode !== null) throw new Error(`the synth ended (exit ${synth.child.exitCode}) before it was seen holding the lock`);
    await sleep(20);
  }
}

function cli(dir: string, env: NodeJS.ProcessEnv, args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
}

function cliOk(dir: string, env: NodeJS.ProcessEnv, args: string[]): string {
  const result = cli(dir, env, args);
  if (result.status !== 0) throw new Error(`cdk8s-pki ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

/** dist/ by file, SealedSecret values (randomized by RSA-OAEP on every synth) masked. */
function distOf(dir: string): Record<string, unknown> {
  const files = snapshotDir(path.join(dir, 'dist'));
  return Object.fromEntries(
    Object.entries(files).map(([name, base64]) => {
      const text = Buffer.from(base64, 'base64').toString();
      return [name, name.endsWith('.yaml') ? withSealedValuesMasked(parseAllDocuments(text).map((d) => d.toJS())) : text];
    }),
  );
}

const rowStamp = (db: string) => server.psql(db, 'SELECT name, content_sha256, generation, updated_at FROM cdk8s_pki_entries ORDER BY name');

/**
 * Every certificate of an exported control-plane node, and every kubeconfig's client certificate, verifies with
 * openssl against the CA of its kind in the tree; returns how many were verified.
 */
function verifyNodeTree(tree: string): number {
  const pki = path.join(tree, 'pki');
  const issuerOf = (file: string) => (file.startsWith('etcd/') || file === 'apiserver-etcd-client.crt' ? 'etcd/ca.crt' : file.startsWith('front-proxy') ? 'front-proxy-ca.crt' : 'ca.crt');
  const certificates = Object.keys(snapshotDir(pki)).filter((file) => file.endsWith('.crt') && !/(^|\/)(front-proxy-)?ca\.crt$/.test(file));
  for (const file of certificates) runOk('openssl', ['verify', '-CAfile', path.join(pki, issuerOf(file)), path.join(pki, file)]);
  const clients = fs
    .readdirSync(tree)
    .filter((file) => file.endsWith('.conf'))
    .map((conf) => [conf, /client-certificate-data: (\S+)/.exec(fs.readFileSync(path.join(tree, conf), 'utf8'))?.[1]] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  for (const [conf, client] of clients) runOk('openssl', ['verify', '-CAfile', path.join(pki, 'ca.crt'), tmp.file(`${path.basename(tree)}-${conf}.crt`, Buffer.from(client, 'base64').toString())]);
  return certificates.length + clients.length;
}

test('two synths from two working copies against one database at once both succeed, one after the other: the second reads what the first committed and writes nothing; the state has one CA, whose node trees export alike from both and verify with openssl', async () => {
  server.createDatabase('team');
  const env = envFor(server.url('team', 'prod'));
  const copies = [workingCopy('alice'), workingCopy('bob')];
  const synths = copies.map((dir) => startSynth(dir, env));
  const results = await Promise.all(synths.map((synth) => synth.done));
  expect(results.map((r) => r.status)).toEqual([0, 0]);
  // Every row was written once, by one of the two: the other built on its state and had nothing to add.
  const writers = server.psql('team', 'SELECT DISTINCT updated_by, generation FROM cdk8s_pki_entries').trim().split('\n');
  expect(writers).toHaveLength(1);
  const first = synths.findIndex((synth) => writers[0].startsWith(`cdk8s-pki ${synth.pid}@`));
  expect([first >= 0, writers[0].endsWith('|1')]).toEqual([true, true]);
  // The second said it waited for the first (unless it started after the first had committed).
  const waited = new RegExp(`^cdk8s-pki: the PostgreSQL state "prod" at \\S+ is locked by cdk8s-pki ${synths[first].pid}@\\S+, connected since \\S+; waiting up to 300 s for it \\(CDK8S_PKI_POSTGRES_LOCK_TIMEOUT\\)\n$`);
  expect(results[1 - first].stderr).toMatch(new RegExp(`${waited.source}|^$`));
  const listing = JSON.parse(cliOk(copies[0], env, ['list', '--output', 'json']));
  const cas = listing.certificates.filter((c: { isCA: boolean; slot: string }) => c.isCA && c.slot === 'example/pki/ca');
  expect(cas).toHaveLength(1);
  expect(listing.stateDirectory).toMatch(/^PostgreSQL state "prod" at postgres:\/\/postgres@\/team\?host=/);
  // Both working copies wrote the same dist/ (the committed state), and export the same node trees from it.
  expect(distOf(copies[1])).toEqual(distOf(copies[0]));
  const trees = copies.map((dir) => {
    const out = path.join(dir, 'nodes');
    cliOk(dir, env, ['export-node', '--all', '--out', out]);
    return out;
  });
  expect(snapshotDir(trees[1])).toEqual(snapshotDir(trees[0]));
  const nodes = fs.readdirSync(trees[0]).sort();
  expect(nodes).toEqual(['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2']);
  const caPem = fs.readFileSync(path.join(trees[0], 'cp-1/pki/ca.crt'), 'utf8');
  for (const node of nodes) expect(fs.readFileSync(path.join(trees[0], node, 'pki/ca.crt'), 'utf8')).toBe(caPem);
  // 7 in pki/ and a kubeconfig each for admin, controller-manager, scheduler, kubelet; super-admin on the first node.
  expect(['cp-1', 'cp-2', 'cp-3'].map((node) => verifyNodeTree(path.join(trees[0], node)))).toEqual([12, 11, 11]);
}, 300_000);

test('a synth that finds the lock held, with CDK8S_PKI_POSTGRES_LOCK_TIMEOUT=0, fails at once in one line naming the holder, while list reads without the lock; once the holder has committed, it synthesizes and writes nothing', async () => {
  server.createDatabase('held');
  const env = envFor(server.url('held', 'prod'));
  const holder = startSynth(workingCopy('holder'), env);
  await holdingLock('held', holder);
  // Stopped while it holds the lock, as a stuck CI job would.
  process.kill(holder.pid, 'SIGSTOP');
  const contender = workingCopy('contender');
  try {
    const refused = spawnSync(process.execPath, [APP], { cwd: contender, env: { ...env, CDK8S_PKI_POSTGRES_LOCK_TIMEOUT: '0' }, encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^cdk8s-pki: cannot lock the PostgreSQL state "prod" at \\S+: held by cdk8s-pki ${holder.pid}@\\S+, connected since \\S+ \\(another synth running\\?\\); it is released when that synth ends or its connection closes, and CDK8S_PKI_POSTGRES_LOCK_TIMEOUT sets how long to wait\n$`,
      ),
    );
    expect(JSON.parse(cliOk(contender, env, ['list', '--output', 'json'])).certificates).toEqual([]);
  } finally {
    process.kill(holder.pid, 'SIGCONT');
  }
  expect((await holder.done).status).toBe(0);
  const committed = rowStamp('held');
  const after = spawnSync(process.execPath, [APP], { cwd: contender, env, encoding: 'utf8' });
  expect([after.status, after.stderr]).toEqual([0, '']);
  expect(rowStamp('held')).toBe(committed);
  expect(distOf(contender)).toEqual(distOf(path.join(tmp.dir, 'holder')));
}, 180_000);

test('the commands work on a PostgreSQL state: rotate writes the request, plan, export-secrets and a frozen synth read it and write nothing, synth carries it out', () => {
  server.createDatabase('commands');
  const env = envFor(server.url('commands'));
  const dir = workingCopy('commands');
  expect(spawnSync(process.execPath, [APP], { cwd: dir, env }).status).toBe(0);
  expect(cliOk(dir, env, ['rotate', 'example/pki/cp-1/apiserver'])).toBe('example/pki/cp-1/apiserver: renewal requested; run `cdk8s synth` to carry it out\n');
  const requested = rowStamp('commands');
  const plan = cli(dir, env, ['plan', '--output', 'json']);
  expect(plan.status).toBe(2);
  expect(JSON.stringify(JSON.parse(plan.stdout))).toContain('example/pki/cp-1/apiserver');
  const frozen = spawnSync(process.execPath, [APP], { cwd: dir, env: { ...env, CDK8S_PKI_FROZEN: '1' }, encoding: 'utf8' });
  expect(frozen.status).not.toBe(0);
  expect(frozen.stderr).toContain('example/pki/cp-1/apiserver');
  expect(rowStamp('commands')).toBe(requested);
  // The example seals its Secrets into dist/: the state has none left out for export-secrets, and it says so.
  expect(cli(dir, env, ['export-secrets', '--out', path.join(dir, 'secrets')]).stderr).toMatch(/the state holds no omitted Secrets/);
  expect(spawnSync(process.execPath, [APP], { cwd: dir, env }).status).toBe(0);
  expect(cli(dir, env, ['plan']).status).toBe(0);
});

test('state migrate directory → PostgreSQL → directory gives the directory back byte for byte, and the example app synthesizes the same dist/ from either; a non-empty target is refused', () => {
  server.createDatabase('migrated');
  const url = server.url('migrated', 'from-directory');
  const env = envFor(url);
  const original = workingCopy('directory');
  expect(spawnSync(process.execPath, [APP], { cwd: original, env: envFor() }).status).toBe(0);
  const directory = path.join(original, '.pki');
  expect(cliOk(original, env, ['state', 'migrate', '--from', directory, '--to', url])).toMatch(/^copied \d+ entries from the state directory .* to the PostgreSQL state "from-directory" .*; each read back identical\n$/);
  const back = path.join(tmp.dir, 'back');
  cliOk(original, env, ['state', 'migrate', '--from', url, '--to', back, '--plaintext']);
  expect(snapshotDir(back)).toEqual(snapshotDir(directory));

  const fromDatabase = workingCopy('from-database');
  const before = rowStamp('migrated');
  const synth = spawnSync(process.execPath, [APP], { cwd: fromDatabase, env, encoding: 'utf8' });
  expect([synth.status, synth.stderr]).toEqual([0, '']);
  expect(rowStamp('migrated')).toBe(before);
  expect(distOf(fromDatabase)).toEqual(distOf(original));

  const refused = cli(original, env, ['state', 'migrate', '--from', directory, '--to', url]);
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/the PostgreSQL state "from-directory" .* already holds \d+ entries .*: migrate into an empty state/);
  expect(rowStamp('migrated')).toBe(before);
}, 180_000);
