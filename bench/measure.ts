// Timing, statistics and Markdown tables shared by the benchmark scripts.
import * as os from 'node:os';
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

export const table = (header: string[], body: string[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** One row per measurement: n, mean, p50, p90, max and the first sample. */
export const statsTable = (title: string, rows: Row[]) =>
  table(
    [title, 'n', 'mean', 'p50', 'p90', 'max', '1st'],
    rows.map(({ label, stats: s }) => [label, String(s.n), ms(s.mean), ms(s.p50), ms(s.p90), ms(s.max), ms(s.first)]),
  );

export function printMachine(): void {
  const cpus = os.cpus();
  console.log(`Node ${process.versions.node}, OpenSSL ${process.versions.openssl}, V8 ${process.versions.v8}`);
  console.log(`CPU: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores), ${os.platform()} ${os.arch()}`);
  console.log('');
}
