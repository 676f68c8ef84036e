// A cdk8s user's app, laid out as `cdk8s init` leaves it (main.ts, cdk8s.yaml, node_modules with cdk8s-pki in it),
// in a directory outside this project, run as `cdk8s synth` runs it: a bad prop must print one clean line, a bug
// its stack. The library is this project's code, transpiled to JavaScript and linked as node_modules/cdk8s-pki.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { tempDir } from '../support/programs';

const ROOT = path.resolve(__dirname, '../..');
const workspace = tempDir('cdk8s-pki-user-app-');
const PACKAGE = path.join(workspace.dir, 'cdk8s-pki');
const APP = path.join(workspace.dir, 'app');

/** ts-node, as cdk8s's TypeScript template runs the app (`app: npx ts-node main.ts`); absent when not installed. */
function resolveTsNode(): string | undefined {
  try {
    return require.resolve('ts-node/dist/bin.js', { paths: [ROOT] });
  } catch {
    return undefined;
  }
}
const TS_NODE = resolveTsNode();

/** The library as its package would ship it: JavaScript under lib/, the JSON schemas beside it, types from the sources. */
function buildPackage(): void {
  const options: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true, experimentalDecorators: true };
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      const target = path.join(PACKAGE, 'lib', relative);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.json')) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(path.join(ROOT, relative), target);
      }
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const { outputText } = ts.transpileModule(fs.readFileSync(path.join(ROOT, relative), 'utf8'), { compilerOptions: options, fileName: relative });
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target.replace(/\.ts$/, '.js'), outputText);
      }
    }
  };
  ['constructs', 'src', 'imports'].forEach(walk);
  for (const dir of ['constructs', 'src', 'imports']) fs.symlinkSync(path.join(ROOT, dir), path.join(PACKAGE, dir));
  fs.writeFileSync(path.join(PACKAGE, 'package.json'), JSON.stringify({ name: 'cdk8s-pki', main: 'lib/constructs/index.js', types: 'constructs/index.ts' }));
  // The library's own dependencies, found from its real path as in an installed package.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(PACKAGE, 'node_modules'));
}

function writeApp(): void {
  fs.mkdirSync(path.join(APP, 'node_modules'), { recursive: true });
  fs.symlinkSync(PACKAGE, path.join(APP, 'node_modules', 'cdk8s-pki'));
  for (const dependency of ['cdk8s', 'constructs', '@types']) fs.symlinkSync(path.join(ROOT, 'node_modules', dependency), path.join(APP, 'node_modules', dependency));
  fs.writeFileSync(path.join(APP, 'package.json'), JSON.stringify({ name: 'my-cluster', private: true, main: 'main.js' }));
  fs.writeFileSync(path.join(APP, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node main.ts\n');
  fs.writeFileSync(path.join(APP, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'ES2022', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['node'] } }));
}

/** main.ts of a user app whose chart holds `body`. */
function mainTs(body: string): string {
  return [
    "import { App, Chart } from 'cdk8s';",
    "import { ClusterCA, TlsCertificate } from 'cdk8s-pki';",
    '',
    'const app = new App();',
    "const chart = new Chart(app, 'cluster');",
    body,
    'app.synth();',
    '',
  ].join('\n');
}

/** Runs the app the way `cdk8s synth` does: a shell command in the app directory with CDK8S_OUTDIR set. */
function synth(runner: 'ts-node' | 'node', body: string, extraEnv: Record<string, string> = {}) {
  fs.writeFileSync(path.join(APP, 'main.ts'), mainTs(body));
  let command: string[];
  if (runner === 'ts-node') {
    command = [process.execPath, TS_NODE!, 'main.ts'];
  } else {
    const { outputText } = ts.transpileModule(mainTs(body), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    fs.writeFileSync(path.join(APP, 'main.js'), outputText);
    command = [process.execPath, 'main.js'];
  }
  const outdir = path.join(APP, 'dist');
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.rmSync(path.join(APP, '.pki'), { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, CDK8S_OUTDIR: outdir, CDK8S_PKI_STATE_DIR: path.join(APP, '.pki') };
  for (const name of Object.keys(env)) if (/^(JEST|CDK8S_PKI_(AGE|FROZEN))/.test(name)) delete env[name];
  const result = spawnSync(command[0], command.slice(1), { cwd: APP, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, outdir };
}

beforeAll(() => {
  buildPackage();
  writeApp();
});
afterAll(() => workspace.cleanup());

function badProp(runner: 'node' | 'ts-node'): void {
  const result = synth(runner, "new ClusterCA(chart, 'ca', { country: 'Germany' });");
  expect(result.stderr).toBe('cdk8s-pki: cluster/ca: country: "Germany" is not a valid country code (two capital letters, ISO 3166-1 alpha-2)\n');
  expect(result.status).toBe(1);
  expect(fs.existsSync(result.outdir)).toBe(false);
}

function bug(runner: 'node' | 'ts-node'): void {
  const result = synth(runner, "new TlsCertificate(chart, 'web', { ca: undefined as any, commonName: 'web' });");
  expect(result.status).toBe(1);
  expect(result.stderr).not.toMatch(/^cdk8s-pki:/m);
  expect(result.stderr).toMatch(/TypeError: .*\n\s+at /);
}

describe('a user app run by node', () => {
  test('a bad prop prints exactly one clean line and exits 1', () => badProp('node'));

  test('an error found while synthesizing (cdk8s validation) comes in clean lines too', () => {
    // A frozen, empty state: found only when the state is committed, inside app.synth()'s validation.
    const result = synth('node', "new ClusterCA(chart, 'ca');", { CDK8S_PKI_FROZEN: '1' });
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^cdk8s-pki: the PKI state \(.*\) is frozen, but this synth needs to change it:$/);
    expect(lines.slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/^cdk8s-pki: {3}- cluster\/ca: /)]));
    expect(lines.every((line) => line.startsWith('cdk8s-pki: '))).toBe(true);
    expect(result.status).toBe(1);
  });

  test('a valid app synthesizes and prints only the summary of what it issued on stderr', () => {
    const result = synth('node', "const ca = new ClusterCA(chart, 'ca');\nnew TlsCertificate(chart, 'web', { ca, commonName: 'web', dnsNames: ['web.example.com'] });");
    expect(result.stderr).toBe('cdk8s-pki: issued 2 new (2 certificates)\n');
    expect(result.status).toBe(0);
    expect(fs.readdirSync(result.outdir)).toContain('cluster.k8s.yaml');
  });

  test('anything else (a bug, a TypeError) keeps the stack Node prints', () => bug('node'));
});

// ts-node type-checks main.ts against the library's sources (several seconds a run): it runs the two cases that
// show how it surfaces an uncaught error (it loads Node's domain module, which adds a listener of its own).
(TS_NODE ? describe : describe.skip)('a user app run by ts-node main.ts (cdk8s\'s TypeScript template)', () => {
  test('a bad prop prints exactly one clean line and exits 1', () => badProp('ts-node'));
  test('anything else keeps the stack', () => bug('ts-node'));
});
