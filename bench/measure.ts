// Timing, statistics and Markdown tables shared by the benchmark scripts; the targets of the performance issue as
// ratios measured in one run, and the result files that `bench/report.ts` pastes into BENCHMARKS.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Stats {
  readonly n: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
  /** The first sample, as measured (the cold outlier, if any). */
  readonly first: number;
}

export interface Row {
  readonly label: string;
  readonly stats: Stats;
}

export function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Times `fn` n times in a row, no warm-up. */
export function repeat(n: number, fn: (i: number) => void): number[] {
  return Array.from({ length: n }, (_, i) => timed(() => fn(i)));
}

/** Nearest-rank percentiles. */
export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    n: samples.length,
    mean: samples.reduce((sum, s) => sum + s, 0) / samples.length,
    p50: rank(50),
    p90: rank(90),
    max: sorted[sorted.length - 1],
    first: samples[0],
  };
}

export const ms = (v: number) => v.toFixed(Math.abs(v) < 10 ? 3 : 1);

/** A Markdown table: the first `textColumns` columns left-aligned, the figures after them right-aligned. */
export const table = (header: string[], body: string[][], textColumns = 1) =>
  [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < textColumns ? ' --- ' : ' ---: ')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** One row per measurement: n, mean, p50, p90, max and the first sample. */
export const statsTable = (title: string, rows: Row[]) =>
  table(
    [title, 'n', 'mean', 'p50', 'p90', 'max', '1st'],
    rows.map(({ label, stats: s }) => [label, String(s.n), ms(s.mean), ms(s.p50), ms(s.p90), ms(s.max), ms(s.first)]),
  );

/** The machine, for the header of every result: CPU, cores, Node, OpenSSL, V8, date. */
export function machine(): string {
  const cpus = os.cpus();
  return [
    `CPU: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores), ${os.platform()} ${os.arch()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `Node ${process.versions.node}, OpenSSL ${process.versions.openssl}, V8 ${process.versions.v8}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  ].join('  \n');
}

export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The ratios a[i] / b[i] of samples taken in pairs (so drift of the machine between pairs cancels). */
export interface Ratio {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The median and range of `samples` (ratios, or the values of an absolute target). */
export function spread(samples: number[]): Ratio {
  return { n: samples.length, median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

export function pairRatio(a: number[], b: number[]): Ratio {
  if (a.length !== b.length || a.length === 0) throw new Error(`pairRatio: ${a.length} against ${b.length} samples`);
  return spread(a.map((x, i) => x / b[i]));
}

/** node's flags for a measured child: `--cpu-prof` into $BENCH_CPU_PROF when set, to see where a missed target's time goes. */
export function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}

/** The environment of a measured child: the caller's, without its CDK8S_PKI_* settings (a state, keys, frozen), plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDK8S_PKI_'))), ...extra };
}

export const ratioText = (r: number) => `${r >= 10 ? r.toFixed(1) : r.toPrecision(2)}×`;
export const ratioRange = (r: Ratio) => `${ratioText(r.median)} (${ratioText(r.min)}–${ratioText(r.max)})`;

/**
 * A target of the performance issue: the median of `ratio` must be at most `limit`. Most targets are ratios of
 * pairs (A / B); the absolute ones (a time, a size) give their `unit`, and `ratio` then holds the values.
 */
export interface TargetCheck {
  readonly target: string;
  /** What over what, e.g. "warm synth process / empty cdk8s app process, wall". */
  readonly compared: string;
  readonly ratio: Ratio;
  readonly limit: number;
  /** @default - a ratio, shown as "1.5×" */
  readonly unit?: 'ms' | 'MiB';
}

export const met = (check: TargetCheck) => check.ratio.median <= check.limit;

function valueText(check: TargetCheck, value: number): string {
  return check.unit ? `${value >= 10 ? value.toFixed(0) : value.toPrecision(2)} ${check.unit}` : ratioText(value);
}

export const targetsTable = (checks: readonly TargetCheck[]) =>
  table(
    ['Target', 'Compared', 'Measured: median (min–max)', 'n', 'Target', 'Met?'],
    checks.map((c) => [
      c.target,
      c.compared,
      c.ratio.n > 1 ? `${valueText(c, c.ratio.median)} (${valueText(c, c.ratio.min)}–${valueText(c, c.ratio.max)})` : valueText(c, c.ratio.median),
      String(c.ratio.n),
      `≤ ${valueText(c, c.limit)}`,
      met(c) ? 'yes' : '**no**',
    ]),
    2,
  );

/** bench/ of the source tree (the scripts run from lib/bench/), and its results/. */
export const BENCH_DIR = path.resolve(__dirname, '..', '..', 'bench');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/**
 * Prints `markdown` and writes it to bench/results/NAME.md, with the targets it measured in NAME.targets.json,
 * for `bench/report.ts` to paste into BENCHMARKS.md.
 */
export function writeResults(name: string, markdown: string, targets: readonly TargetCheck[] = []): void {
  const text = `${machine()}\n\n${markdown}\n`;
  console.log(text);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.md`), text);
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}.targets.json`), `${JSON.stringify(targets, null, 2)}\n`);
}

/** A whole number from the environment variable `name`, else `fallback`: repetition counts and sizes (0 skips). */
export function envCount(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number, got ${value}`);
  return n;
}
