// Scale benchmark: ControlPlanePki for 1 control-plane node and N workers (each with its kubelet client
// certificate), in-memory state with real keys, one fresh child process per N so that its peak RSS is that N's:
// a cold synth, then a warm synth against the same state. Then, on a state directory of the largest N, the CLI's
// `list` and `export-node worker-17` as processes. Prints the table, writes bench/results/scale.md and the plot
// bench/scale.svg. Needs lib/ (`npm run bench:scale` builds it); run from the project root.
//
//   node lib/bench/scale.js [--max N]     N of the curve up to N ($BENCH_SCALE_MAX, default 5000)
//   $BENCH_CLI_RUNS                       runs of each CLI command after one warm-up (default 5; 0 skips them)
//   $BENCH_CPU_PROF=DIR                   every child under `node --cpu-prof`, profiles into DIR
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PkiState } from '../src/state/pki-state';
import { clusterOf, synthCluster } from './clusters';
import { BENCH_DIR, childEnv, envCount, ms, profileFlags, spread, table, TargetCheck, targetsTable, timed, writeResults } from './measure';
import { perNode, ScalePoint, scalePlot } from './plot';

const SIZES = [100, 250, 500, 1000, 2000, 3000, 5000];
/** The N whose ms per node the largest N's is compared with (linear in N: the ratio stays near 1). */
const LINEARITY_BASE = 1000;
const EXPORTED_NODE = 'worker-17';

/** The child of one N: prints its ScalePoint as JSON. */
function probe(workers: number): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-scale-'));
  try {
    const cluster = clusterOf(workers);
    const state = PkiState.inMemory();
    const coldMs = timed(() => synthCluster(state, cluster, outdir));
    const warmMs = timed(() => synthCluster(state, cluster, outdir));
    const point: ScalePoint = { n: workers, coldMs, warmMs, maxRssKiB: process.resourceUsage().maxRSS };
    console.log(JSON.stringify(point));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function child(args: string[], env: Record<string, string> = {}): { stdout: string; wallMs: number } {
  const start = performance.now();
  const result = spawnSync(process.execPath, [...profileFlags(), ...args], { env: childEnv(env), encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const wallMs = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}`);
  return { stdout: result.stdout, wallMs };
}

const single = (value: number) => spread([value]);

function main(maxN: number, cliRuns: number): void {
  const sizes = SIZES.filter((n) => n <= maxN);
  if (sizes.length === 0) throw new Error(`--max ${maxN}: below the smallest N, ${SIZES[0]}`);
  const points: ScalePoint[] = [];
  let failed: string | undefined;
  for (const n of sizes) {
    // A child that fails (out of memory, say) ends the curve there: the sizes before it are still reported.
    try {
      const point = JSON.parse(child([__filename, '--probe', String(n)]).stdout.trim().split('\n').pop()!) as ScalePoint;
      console.error(`N=${n}: cold ${ms(point.coldMs)} ms, warm ${ms(point.warmMs)} ms, RSS ${(point.maxRssKiB / 1024).toFixed(0)} MiB`);
      points.push(point);
    } catch (error) {
      failed = `N=${n} failed: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`;
      console.error(failed);
      break;
    }
  }
  if (points.length === 0) throw new Error(failed);
  const rows = points.map((p) => [
    String(p.n),
    ms(p.coldMs),
    ms(perNode(p.coldMs, p.n)),
    ms(p.warmMs),
    ms(perNode(p.warmMs, p.n)),
    (p.maxRssKiB / 1024).toFixed(0),
  ]);
  const largest = points[points.length - 1];
  const targets: TargetCheck[] = [];
  const at1000 = points.find((p) => p.n === LINEARITY_BASE);
  if (at1000) {
    targets.push({ target: '1,000 workers, cold synth, ECDSA (bench:scale)', compared: 'ms, in process', ratio: single(at1000.coldMs), limit: 5000, unit: 'ms' });
    targets.push({ target: '1,000 workers, warm synth (bench:scale)', compared: 'ms, in process', ratio: single(at1000.warmMs), limit: 500, unit: 'ms' });
  }
  if (at1000 && largest.n > LINEARITY_BASE) {
    for (const kind of ['cold', 'warm'] as const) {
      const key = kind === 'cold' ? 'coldMs' : 'warmMs';
      targets.push({
        target: `linear in N, ${kind} synth (bench:scale)`,
        compared: `ms per node at N=${largest.n} / ms per node at N=${LINEARITY_BASE}`,
        ratio: single(perNode(largest[key], largest.n) / perNode(at1000[key], at1000.n)),
        limit: 1.25,
      });
    }
  }
  targets.push({ target: `peak RSS at N=${largest.n} (bench:scale)`, compared: 'maxRSS of the child process', ratio: single(largest.maxRssKiB / 1024), limit: 1024, unit: 'MiB' });

  const cliRows: string[][] = [];
  if (cliRuns > 0) {
    // A state directory of the largest N, written once by a child synth, for the CLI to read.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-scale-state-'));
    try {
      const stateDir = path.join(scratch, 'state');
      const built = child([__filename, '--build-state', String(largest.n), stateDir, path.join(scratch, 'dist')]);
      console.error(`state directory of N=${largest.n} written in ${ms(built.wallMs)} ms`);
      const cli = path.join(__dirname, '..', 'src', 'cli.js');
      const commands: [string, string[]][] = [
        ['cdk8s-pki list', [cli, 'list']],
        [`cdk8s-pki export-node ${EXPORTED_NODE} --out DIR`, [cli, 'export-node', EXPORTED_NODE, '--out', path.join(scratch, 'export')]],
      ];
      for (const [label, args] of commands) {
        const once = () => {
          fs.rmSync(path.join(scratch, 'export'), { recursive: true, force: true });
          return child(args, { CDK8S_PKI_STATE_DIR: stateDir }).wallMs;
        };
        once(); // warm-up: file system caches
        const samples = Array.from({ length: cliRuns }, once);
        const measured = spread(samples);
        cliRows.push([label, String(cliRuns), ms(measured.median), ms(measured.min), ms(measured.max)]);
        targets.push({
          target: `${label.replace(' --out DIR', '')}, ${largest.n}-node state directory (bench:scale)`,
          compared: 'wall ms of the process',
          ratio: measured,
          limit: 1000,
          unit: 'ms',
        });
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  fs.writeFileSync(path.join(BENCH_DIR, 'scale.svg'), scalePlot(points));
  writeResults(
    'scale',
    [
      'ControlPlanePki, 1 control-plane node + N workers, in-memory state, one child process per N. ms per node is over the N + 1 nodes.',
      '',
      table(['N workers', 'cold ms', 'cold ms/node', 'warm ms', 'warm ms/node', 'peak RSS MiB'], rows),
      ...(failed ? ['', `**${failed}**`] : []),
      '',
      ...(cliRows.length ? [table([`CLI on the ${largest.n}-node state directory (wall ms)`, 'n', 'median', 'min', 'max'], cliRows), ''] : []),
      targetsTable(targets),
    ].join('\n'),
    targets,
  );
}

const argv = process.argv.slice(2);
if (argv[0] === '--probe') {
  probe(Number(argv[1]));
} else if (argv[0] === '--build-state') {
  synthCluster(PkiState.inDirectory(argv[2]), clusterOf(Number(argv[1])), argv[3]);
} else {
  const maxAt = argv.indexOf('--max');
  if (maxAt >= 0) process.env.BENCH_SCALE_MAX = argv[maxAt + 1];
  main(envCount('BENCH_SCALE_MAX', 5000), envCount('BENCH_CLI_RUNS', 5));
}
