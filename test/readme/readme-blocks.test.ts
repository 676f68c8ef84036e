import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, tempDir } from '../support/programs';

// The TypeScript blocks of the README, of docs/ and of each example's walk-through, type-checked as a user's cdk8s app would compile them: `from 'cdk8s-pki'`
// resolves to the built declarations (lib/, made by `npm test`'s tsc before jest runs), under the tsconfig that
// `cdk8s init typescript-app` writes (noUnusedLocals, lib es2016, no skipLibCheck).
const ROOT = path.resolve(__dirname, '../..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const TEMPLATE_TSCONFIG = path.join(ROOT, 'node_modules/cdk8s-cli/templates/typescript-app/tsconfig.json');

function tsBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) blocks.push({ line: markdown.slice(0, m.index).split('\n').length, code: m[1] });
  return blocks;
}

/** tsc's diagnostics for `files` compiled as one user app; empty when they compile. */
function typeCheck(files: Record<string, string>): string {
  const app = tempDir('cdk8s-pki-readme-');
  try {
    const tsconfig = JSON.parse(fs.readFileSync(TEMPLATE_TSCONFIG, 'utf8'));
    tsconfig.compilerOptions = { ...tsconfig.compilerOptions, noEmit: true, baseUrl: '.', paths: { 'cdk8s-pki': [path.join(ROOT, 'lib/constructs/index.d.ts')] } };
    fs.writeFileSync(path.join(app.dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app.dir, 'node_modules'));
    for (const [name, code] of Object.entries(files)) fs.writeFileSync(path.join(app.dir, name), code);
    const result = run(process.execPath, [TSC, '-p', app.dir], { cwd: app.dir, timeoutMs: 120_000 });
    return (result.stdout + result.stderr).trim();
  } finally {
    app.cleanup();
  }
}

/** README.md, every Markdown file under docs/ and each example's README.md, relative to the project root. */
function documents(): string[] {
  const under = (dir: string): string[] =>
    fs.existsSync(path.join(ROOT, dir)) ? fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).map((f) => path.join(dir, f)) : [];
  const examples = fs.readdirSync(path.join(ROOT, 'examples')).map((name) => path.join('examples', name, 'README.md')).filter((f) => fs.existsSync(path.join(ROOT, f)));
  return ['README.md', ...under('docs').filter((f) => !f.startsWith(path.join('docs', 'api'))), ...examples];
}

describe('the TypeScript blocks of the documentation', () => {
  // Each block becomes `doc-<document>-line-<n>.ts`, so a diagnostic names the document and the block's line.
  const blocks = documents().flatMap((doc) => tsBlocks(fs.readFileSync(path.join(ROOT, doc), 'utf8')).map((b) => ({ ...b, file: `doc-${doc.replace(/[/.]/g, '_')}-line-${b.line}.ts` })));
  // One compilation (tsc over cdk8s' declarations takes half a minute): the blocks, and two probes showing that
  // the check fails on a renamed export and on an unused local.
  const diagnostics = typeCheck({
    ...Object.fromEntries(blocks.map((b) => [b.file, b.code])),
    'probe-renamed.ts': "import { UnexportedWidget } from 'cdk8s-pki';\nexport const x = UnexportedWidget;\n",
    'probe-unused.ts': "import { ClusterCA } from 'cdk8s-pki';\nexport function f(): void {\n  const ca = ClusterCA;\n}\n",
  }).split('\n');

  test('has TypeScript examples, the README among them', () => {
    expect(blocks.filter((b) => b.file.startsWith('doc-README_md-')).length).toBeGreaterThanOrEqual(3);
  });

  test('every ```ts block compiles against the package under the cdk8s app tsconfig', () => {
    expect(diagnostics.filter((d) => d.startsWith('doc-'))).toEqual([]);
  });

  test('the check fails on a name the package does not export and on an unused local', () => {
    expect(diagnostics.filter((d) => d.startsWith('probe-'))).toEqual([
      `probe-renamed.ts(1,10): error TS2305: Module '"cdk8s-pki"' has no exported member 'UnexportedWidget'.`,
      `probe-unused.ts(3,9): error TS6133: 'ca' is declared but its value is never read.`,
    ]);
  });
});
