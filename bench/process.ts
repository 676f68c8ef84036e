// Whole-process benchmark: each program as a user runs it (node's startup and module loading included), against
// a baseline process, in pairs taken in turn (A B A B ...) after one warm-up pair, so that the machine's drift
// cancels in each pair's ratio. Prints and writes bench/results/process.md. Needs lib/ (`npm run bench:process`
// builds it); run from the project root. $BENCH_PAIRS sets the number of pairs (default 5); $BENCH_ONLY, a piece of
// a comparison's name ("cold", "CLI", "RSA"), runs only the comparisons whose name holds it (and writes only
// those); $BENCH_CPU_PROF=DIR runs every node child under `--cpu-prof` into DIR, to see where a missed target's
// time goes (the profiler slows the runs: its figures are not the targets').
//
// Wall time is the figure the targets are checked on (RSA key generation may use both cores, so CPU time would
// hide what it gains); the CPU time of each child (user + sys, from /proc/self/stat's cutime and cstime, Linux
// only) is given beside it, as it is less disturbed by other load on the machine.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { childEnv, envCount, median, ms, pairRatio, profileFlags, ratioRange, table, TargetCheck, targetsTable, writeResults } from './measure';

const PAIRS = envCount('BENCH_PAIRS', 5);
const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');
/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux build that matters here. */
const USER_HZ = 100;

interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** CPU time of this process's waited-for children so far, in ms (NaN where /proc is not there). */
function childrenCpuMs(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ; // fields 16 and 17: cutime, cstime
  } catch {
    return NaN;
  }
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-bench-process-'));
// The apps run in a directory of their own, as a user's project: the example app reads examples/ from there.
const appDir = path.join(scratch, 'app');
fs.mkdirSync(appDir);
fs.symlinkSync(path.join(ROOT, 'examples'), path.join(appDir, 'examples'));

function run(command: string, args: string[], env: Record<string, string> = {}, cwd = appDir): Run {
  const cpu = childrenCpuMs();
  const start = performance.now();
  const result = spawnSync(command, args, { cwd, env: childEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const wallMs = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpu };
}

interface Side {
  readonly label: string;
  /** Untimed preparation before each run (a fresh state directory). */
  readonly prepare?: () => void;
  readonly run: () => Run;
}

interface Comparison {
  readonly target: string;
  readonly a: Side;
  readonly b: Side;
  readonly limit: number;
}

const warmState = path.join(scratch, 'warm-state');
const coldState = path.join(scratch, 'cold-state');
const fresh = (dir: string) => () => fs.rmSync(dir, { recursive: true, force: true });
const emptyDir = (dir: string) => () => {
  fresh(dir)();
  fs.mkdirSync(dir);
};

const profile = profileFlags();
const node = (script: string, env: Record<string, string> = {}, ...args: string[]) => () => run(process.execPath, [...profile, script, ...args], env);
const exampleMain = path.join(LIB, 'examples', 'main.js');
const exampleApp = (algorithm: string) => node(path.join(LIB, 'bench', 'example-app.js'), { BENCH_KEY_ALGORITHM: algorithm, CDK8S_PKI_STATE_DIR: coldState });
const openssl = (algorithm: string) => () => run('bash', [path.join(ROOT, 'bench', 'openssl-baseline.sh'), algorithm, path.join(scratch, 'openssl')]);
const cli = path.join(LIB, 'src', 'cli.js');
// From the project root, where cdk8s resolves.
const requireCdk8s: Side = { label: `node -e "require('cdk8s')"`, run: () => run(process.execPath, [...profile, '-e', "require('cdk8s')"], {}, ROOT) };

const COMPARISONS: Comparison[] = [
  {
    target: 'warm no-op synth, whole process',
    a: { label: 'node lib/examples/main.js, state already synthesized', run: node(exampleMain, { CDK8S_PKI_STATE_DIR: warmState }) },
    b: { label: 'empty cdk8s app (bench/empty-app.ts)', run: node(path.join(LIB, 'bench', 'empty-app.js'), { BENCH_OUTDIR: path.join(scratch, 'empty-dist') }) },
    limit: 1.5,
  },
  ...(
    [
      ['ecdsa-p256', 'ECDSA P-256', 0.3],
      ['rsa-2048', 'RSA-2048', 0.6],
    ] as const
  ).map(([algorithm, label, limit]) => ({
    target: `cold synth, whole process, ${label}`,
    a: { label: `bench/example-app.ts (${algorithm}), fresh state directory`, prepare: fresh(coldState), run: exampleApp(algorithm) },
    b: { label: `bench/openssl-baseline.sh ${algorithm}`, prepare: emptyDir(path.join(scratch, 'openssl')), run: openssl(algorithm) },
    limit,
  })),
  { target: 'CLI start: --help', a: { label: 'node lib/src/cli.js --help', run: node(cli, {}, '--help') }, b: requireCdk8s, limit: 2 },
  { target: 'CLI start: list', a: { label: 'node lib/src/cli.js list (the example state)', run: node(cli, { CDK8S_PKI_STATE_DIR: warmState }, 'list') }, b: requireCdk8s, limit: 2 },
];

interface Measured {
  readonly comparison: Comparison;
  readonly a: Run[];
  readonly b: Run[];
}

function measure(comparison: Comparison): Measured {
  const once = (side: Side) => {
    side.prepare?.();
    return side.run();
  };
  once(comparison.a); // the warm-up pair: file system caches, compile caches
  once(comparison.b);
  const a: Run[] = [];
  const b: Run[] = [];
  for (let i = 0; i < PAIRS; i++) {
    a.push(once(comparison.a));
    b.push(once(comparison.b));
  }
  return { comparison, a, b };
}

try {
  run(process.execPath, [exampleMain], { CDK8S_PKI_STATE_DIR: warmState }); // the state the warm runs keep
  const only = process.env.BENCH_ONLY;
  const results = COMPARISONS.filter((c) => !only || c.target.includes(only)).map(measure);
  const wall = (runs: Run[]) => runs.map((r) => r.wallMs);
  const cpu = (runs: Run[]) => runs.map((r) => r.cpuMs);
  const targets: TargetCheck[] = results.map(({ comparison: c, a, b }) => ({
    target: `${c.target} (bench:process)`,
    compared: `${c.a.label} / ${c.b.label}, wall`,
    ratio: pairRatio(wall(a), wall(b)),
    limit: c.limit,
  }));
  const rows = results.map(({ comparison: c, a, b }) => [
    c.target,
    c.a.label,
    c.b.label,
    `${ms(median(wall(a)))} / ${ms(median(wall(b)))}`,
    ratioRange(pairRatio(wall(a), wall(b))),
    `${ms(median(cpu(a)))} / ${ms(median(cpu(b)))}`,
    ratioRange(pairRatio(cpu(a), cpu(b))),
  ]);
  writeResults(
    'process',
    [
      `Whole processes, ${PAIRS} pair${PAIRS === 1 ? '' : 's'} (A then B) after one warm-up pair; ms are medians, ratios the median (min–max) of the pair ratios.`,
      '',
      table(['Comparison', 'A', 'B', 'wall ms A / B', 'wall A/B', 'CPU ms A / B', 'CPU A/B'], rows, 3),
      '',
      targetsTable(targets),
    ].join('\n'),
    targets,
  );
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
