// Control-plane benchmark: what `npm run synth` and `cdk8s-pki export-node` cost for the example app: the
// reference cluster (3 control-plane nodes, 2 workers: 3 CAs, the service-account key and 26 leaf and kubeconfig
// certificates; workers bootstrap with a token), a cert-manager issuer and Rancher's ingress CA and certificate.
// Prints Markdown tables for BENCHMARKS.md. Run with `npm run bench` from the project root.
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
import { printMachine, repeat, Row, stats, statsTable } from './measure';

const SYNTHS: Record<'ecdsa-p256' | 'rsa-2048', number> = { 'ecdsa-p256': 10, 'rsa-2048': 3 };
const EXPORTS = 20;
const PROCESS_RUNS = 5;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-'));
const rows: Row[] = [];
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
    // A first synth issues everything; a second one against the same state keeps everything (the CI case).
    const states: PkiState[] = [];
    record(`first synth (32 keys, 31 certificates): ${algorithm}`, repeat(runs, (i) => {
      states.push(PkiState.inMemory());
      synth(states[i], algorithm, path.join(scratch, `dist-${algorithm}-${i}`));
    }));
    record(`repeat synth (same state: nothing issued): ${algorithm}`, repeat(runs, (i) => synth(states[i], algorithm, path.join(scratch, `dist-${algorithm}-${i}`))));
    lastState = states[0];
  }

  record('renderNode cp-1 (32 files, in memory)', repeat(EXPORTS, () => renderNode(lastState, 'cp-1')));
  record('exportNode cp-1 (32 files written, atomic rename)', repeat(EXPORTS, (i) => exportNode(lastState, 'cp-1', path.join(scratch, `cp-1-${i}`))));
  record('exportNode worker-1 (3 files)', repeat(EXPORTS, (i) => exportNode(lastState, 'worker-1', path.join(scratch, `worker-1-${i}`))));

  // Whole processes, as a user runs them: node startup and module loading included.
  const cli = path.join(__dirname, '..', 'src', 'cli.js');
  const main = path.join(__dirname, '..', 'examples', 'main.js');
  const stateDir = path.join(scratch, 'state');
  const env = { ...process.env, CDK8S_PKI_STATE_DIR: stateDir };
  const runNode = (args: string[], cwd: string) => {
    const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  };
  // Each process runs in a directory of its own, as a user's project: the example app reads examples/ from there.
  const processDir = (i: number) => {
    const dir = path.join(scratch, `process-${i}`);
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      fs.symlinkSync(path.resolve(DEMO_CONTROLLER_CERTIFICATE, '..'), path.join(dir, 'examples'));
    }
    return dir;
  };
  record('process: node lib/examples/main.js, first synth (ecdsa-p256, state directory)', repeat(PROCESS_RUNS, (i) => {
    fs.rmSync(stateDir, { recursive: true, force: true });
    runNode([main], processDir(i));
  }));
  record('process: node lib/examples/main.js, repeat synth', repeat(PROCESS_RUNS, (i) => runNode([main], processDir(i))));
  record('process: cdk8s-pki export-node cp-1 --out DIR', repeat(PROCESS_RUNS, (i) => runNode([cli, 'export-node', 'cp-1', '--out', path.join(scratch, `cli-cp-1-${i}`)], scratch)));
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

printMachine();
console.log(statsTable('Control plane (ms per run)', rows));
