// Control-plane benchmark: what `npm run synth` and `cdk8s-pki export-node` cost for the example app: the
// reference cluster (3 control-plane nodes, 2 workers: 3 CAs, the service-account key and 26 leaf and kubeconfig
// certificates; workers bootstrap with a token), a cert-manager issuer and Rancher's ingress CA and certificate.
// Each state's first and repeat synths run in turn, so that the repeat/first ratio of a pair is the in-process
// target of the performance issue. Prints and writes bench/results/control-plane.md. Run with
// `npm run bench:control-plane` from the project root.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'cdk8s';
import { usePkiState } from '../constructs';
import { KeyAlgorithm } from '../src/engine';
import { exportNode, renderNode } from '../src/kubeadm/node-bundle';
import { DEMO_CONTROLLER_CERTIFICATE, ExampleCluster, REFERENCE_CLUSTER } from '../examples/main';
import { PkiState } from '../src/state/pki-state';
import { childEnv, envCount, pairRatio, repeat, Row, stats, statsTable, TargetCheck, targetsTable, timed, writeResults } from './measure';

const SYNTHS: Record<'ecdsa-p256' | 'rsa-2048', number> = { 'ecdsa-p256': envCount('BENCH_SYNTHS', 10), 'rsa-2048': envCount('BENCH_RSA_SYNTHS', 3) };
const EXPORTS = 20;
const PROCESS_RUNS = 5;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-'));
const rows: Row[] = [];
const targets: TargetCheck[] = [];
const record = (label: string, samples: number[]) => rows.push({ label, stats: stats(samples) });

/** One synth of the example app into `outdir`, as `cdk8s synth` runs it, against `state`. */
function synth(state: PkiState, keyAlgorithm: KeyAlgorithm, outdir: string): void {
  const app = new App({ outdir });
  usePkiState(app, state);
  new ExampleCluster(app, 'example', { cluster: { ...REFERENCE_CLUSTER, keyAlgorithm } });
  app.synth();
  state.commit();
}

try {
  let lastState = PkiState.inMemory();
  for (const [algorithm, runs] of Object.entries(SYNTHS) as [KeyAlgorithm, number][]) {
    if (runs === 0) continue;
    // A first synth issues everything; a second one against the same state keeps everything (the CI case).
    const first: number[] = [];
    const again: number[] = [];
    for (let i = 0; i < runs; i++) {
      const state = PkiState.inMemory();
      const outdir = path.join(scratch, `dist-${algorithm}-${i}`);
      first.push(timed(() => synth(state, algorithm, outdir)));
      again.push(timed(() => synth(state, algorithm, outdir)));
      lastState = state;
    }
    record(`first synth (32 keys, 31 certificates): ${algorithm}`, first);
    record(`repeat synth (same state: nothing issued): ${algorithm}`, again);
    if (algorithm === 'ecdsa-p256') {
      targets.push({
        target: 'warm no-op synth, in process (bench:control-plane)',
        compared: 'repeat synth / first synth of the example app, same in-memory state',
        ratio: pairRatio(again, first),
        limit: 1 / 20,
      });
    }
  }

  record('renderNode cp-1 (32 files, in memory)', repeat(EXPORTS, () => renderNode(lastState, 'cp-1')));
  record('exportNode cp-1 (32 files written, atomic rename)', repeat(EXPORTS, (i) => exportNode(lastState, 'cp-1', path.join(scratch, `cp-1-${i}`))));
  record('exportNode worker-1 (3 files)', repeat(EXPORTS, (i) => exportNode(lastState, 'worker-1', path.join(scratch, `worker-1-${i}`))));

  // Whole processes, as a user runs them: node startup and module loading included.
  const cli = path.join(__dirname, '..', 'src', 'cli.js');
  const main = path.join(__dirname, '..', 'examples', 'main.js');
  const stateDir = path.join(scratch, 'state');
  const env = childEnv({ CDK8S_PKI_STATE_DIR: stateDir });
  const runNode = (args: string[], cwd: string) => {
    const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  };
  // The app runs in a directory of its own, as a user's project: the example app reads examples/ from there.
  // The synths as processes are bench/process.ts's; this one only makes the state the export reads.
  const appDir = path.join(scratch, 'app');
  fs.mkdirSync(appDir);
  fs.symlinkSync(path.resolve(DEMO_CONTROLLER_CERTIFICATE, '..'), path.join(appDir, 'examples'));
  runNode([main], appDir);
  record('process: cdk8s-pki export-node cp-1 --out DIR', repeat(PROCESS_RUNS, (i) => runNode([cli, 'export-node', 'cp-1', '--out', path.join(scratch, `cli-cp-1-${i}`)], scratch)));
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

writeResults('control-plane', [statsTable('Control plane (ms per run)', rows), targetsTable(targets)].join('\n\n'), targets);
