// Pastes the benchmarks' results into BENCHMARKS.md: each block between `<!-- bench:NAME -->` and
// `<!-- /bench:NAME -->` becomes bench/results/NAME.md, and the block `targets` the table of every target the
// scripts checked, in the order below. The prose around the blocks is kept as written. Run by `npm run bench`
// after the scripts; `npm run bench:report` alone pastes the results already there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_DIR, machine, RESULTS_DIR, TargetCheck, targetsTable } from './measure';

const SCRIPTS = ['process', 'control-plane', 'issue', 'scale', 'state-encryption', 'state-postgres'];
const BENCHMARKS = path.join(BENCH_DIR, '..', 'BENCHMARKS.md');

const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined);
const targets = SCRIPTS.flatMap((name) => JSON.parse(read(path.join(RESULTS_DIR, `${name}.targets.json`)) ?? '[]') as TargetCheck[]);
const blocks: Record<string, string | undefined> = {
  targets: `${machine()}\n\n${targetsTable(targets)}\n`,
  ...Object.fromEntries(SCRIPTS.map((name) => [name, read(path.join(RESULTS_DIR, `${name}.md`))])),
};

let text = fs.readFileSync(BENCHMARKS, 'utf8');
for (const [name, content] of Object.entries(blocks)) {
  if (content === undefined) continue; // that script has not run: its block keeps the figures it had
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`BENCHMARKS.md has no block ${begin} … ${end}: bench/results/${name}.md not pasted`);
    continue;
  }
  text = `${text.slice(0, from + begin.length)}\n${content.trim()}\n${text.slice(to)}`;
}
fs.writeFileSync(BENCHMARKS, text);
console.log(`BENCHMARKS.md: ${targets.length} targets, blocks ${Object.keys(blocks).filter((k) => blocks[k] !== undefined).join(', ')}`);
