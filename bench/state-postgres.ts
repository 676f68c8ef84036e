// PostgreSQL state benchmark: warm no-op synths against a PostgreSQL state and against an age-encrypted state
// directory, both with X25519 keys: the example app as a whole process (`node lib/examples/main.js`, node's
// startup, the worker thread and the connection included), and ControlPlanePki with 1,000 workers in process (a
// new store per synth, as a new process would have). The server is a throwaway one on a Unix socket
// (test/support/postgres-server.ts). Prints and writes bench/results/state-postgres.md. Run with
// `npm run bench:state-postgres`; $BENCH_POSTGRES_RUNS sets the runs of each (default 5), $BENCH_POSTGRES_NODES
// the workers of the large cluster (default 1000; 0 skips it).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity } from '../src/state/age';
import { migrateState } from '../src/state/migrate';
import { PkiState } from '../src/state/pki-state';
import { PostgresStore } from '../src/state/postgres-store';
import { EncryptedDirectoryStore, StateStore } from '../src/state/store';
import { startPostgres } from '../test/support/postgres-server';
import { clusterOf, synthCluster } from './clusters';
import { childEnv, envCount, repeat, Row, stats, statsTable, timed, writeResults } from './measure';

const RUNS = envCount('BENCH_POSTGRES_RUNS', 5);
const NODES = envCount('BENCH_POSTGRES_NODES', 1000);
const ROOT = path.resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const rows: Row[] = [];
  const record = (label: string, samples: number[]) => rows.push({ label, stats: stats(samples) });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-postgres-'));
  const server = await startPostgres();
  try {
    server.createDatabase('bench');
    const { identity, recipient } = generateIdentity();
    const keys = { recipients: [recipient], identities: [identity] };
    const age = { CDK8S_PKI_AGE_RECIPIENTS: recipient, CDK8S_PKI_AGE_IDENTITY: identity };

    // The example app as a user runs it, from a directory of its own with examples/ linked in.
    const appDir = path.join(scratch, 'app');
    fs.mkdirSync(appDir);
    fs.symlinkSync(path.join(ROOT, 'examples'), path.join(appDir, 'examples'));
    const example = (env: Record<string, string>) => () => {
      const result = spawnSync(process.execPath, [path.join(ROOT, 'lib', 'examples', 'main.js')], { cwd: appDir, env: childEnv(env), encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`the example app exited ${result.status ?? result.signal}: ${result.stderr}`);
    };
    for (const [label, env] of [
      ['age X25519 state directory', { ...age, CDK8S_PKI_STATE_DIR: path.join(scratch, 'example-state') }],
      ['PostgreSQL state (age X25519)', { ...age, CDK8S_PKI_STATE: server.url('bench', 'example') }],
    ] as const) {
      record(`example app, first synth, whole process, ${label}`, [timed(example(env))]);
      record(`example app, warm no-op synth, whole process, ${label}`, repeat(RUNS, example(env)));
    }

    if (NODES > 0) {
      // The state of 1 control-plane node and NODES workers, written once into a directory and copied to the database.
      const directory = path.join(scratch, 'large-state');
      const outdir = path.join(scratch, 'large-dist');
      const url = server.url('bench', 'large');
      const cluster = clusterOf(NODES);
      record(`${NODES} workers, first synth, in process, age X25519 state directory`, [timed(() => synthCluster(new PkiState({ store: new EncryptedDirectoryStore(directory, keys) }), cluster, outdir))]);
      const postgres = () => new PostgresStore({ url, keys });
      let entries = 0;
      record(`${NODES} workers, state migrate directory → PostgreSQL`, [
        timed(() => (entries = migrateState(new EncryptedDirectoryStore(directory, keys), postgres(), () => new PostgresStore({ url, keys, readOnly: true })).names.length)),
      ]);
      for (const [label, store] of [
        ['age X25519 state directory', () => new EncryptedDirectoryStore(directory, keys)],
        ['PostgreSQL state (age X25519)', postgres],
      ] as [string, () => StateStore][]) {
        record(`${NODES} workers (${entries} entries), warm no-op synth, in process, ${label}`, repeat(RUNS, () => synthCluster(new PkiState({ store: store() }), cluster, outdir)));
      }
    }
  } finally {
    server.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  writeResults('state-postgres', statsTable('PostgreSQL state vs state directory (ms per run)', rows));
}

main().then(
  // The stores' worker threads are unref'd, but their connections may hold the loop a moment: end here.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
