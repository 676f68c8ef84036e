import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { initApp, packageNameFor } from '../../src/scaffold/init';
import { run, runOk, snapshotDir, tempDir } from '../support/programs';

// `cdk8s-pki init` on its own: what it writes, with which modes, where it refuses to write, and what the command
// prints. Oracles: cdk8s-cli's own typescript-app template, this project's package.json, git and the file system.
// test/package/init.test.ts installs, tests and synthesizes the app it writes.
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const CDK8S_TEMPLATE = path.join(ROOT, 'node_modules/cdk8s-cli/templates/typescript-app');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const APP_FILES = ['.gitignore', 'README.md', 'cdk8s.yaml', 'jest.config.js', 'main.test.ts', 'main.ts', 'package.json', 'tsconfig.json'];

const tmp = tempDir('cdk8s-pki-init-');
afterAll(() => tmp.cleanup());
let count = 0;
const fresh = () => path.join(tmp.dir, `case-${++count}`);
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

describe('initApp', () => {
  test('writes the app into a new directory, every file 0644 whatever the umask', () => {
    const dir = path.join(fresh(), 'nested', 'my-app');
    const umask = process.umask(0o077);
    try {
      initApp(dir);
    } finally {
      process.umask(umask);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(APP_FILES);
    for (const file of APP_FILES) expect({ file, mode: fs.statSync(path.join(dir, file)).mode & 0o777 }).toEqual({ file, mode: 0o644 });
  });

  test('tsconfig.json and jest.config.js are those of `cdk8s init typescript-app`; cdk8s.yaml runs main.ts as its app does', () => {
    const dir = fresh();
    initApp(dir);
    expect(read(dir, 'tsconfig.json')).toBe(read(CDK8S_TEMPLATE, 'tsconfig.json'));
    expect(read(dir, 'jest.config.js')).toBe(read(CDK8S_TEMPLATE, 'jest.config.js'));
    const config = parse(read(dir, 'cdk8s.yaml'));
    expect(config).toEqual({ language: 'typescript', app: parse(read(CDK8S_TEMPLATE, 'cdk8s.yaml')).app, output: 'dist' });
  });

  test('package.json depends on this version of cdk8s-pki, and pins cdk8s, constructs and the tools as this project does', () => {
    const dir = path.join(fresh(), 'My Cluster PKI');
    initApp(dir);
    const manifest = JSON.parse(read(dir, 'package.json'));
    const dev = PKG.devDependencies;
    expect(manifest).toMatchObject({ name: 'my-cluster-pki', private: true, scripts: { synth: 'cdk8s synth', test: 'jest' } });
    expect(manifest.dependencies).toEqual({ cdk8s: dev.cdk8s, constructs: dev.constructs, 'cdk8s-pki': PKG.version });
    expect(manifest.devDependencies).toEqual({
      'cdk8s-cli': dev['cdk8s-cli'],
      typescript: dev.typescript,
      'ts-node': dev['ts-node'],
      jest: dev.jest,
      'ts-jest': dev['ts-jest'],
      '@types/jest': dev['@types/jest'],
      '@types/node': dev['@types/node'],
    });
    expect(manifest.devDependencies.typescript).toMatch(/^5\.9\.\d+$/);
    expect(manifest.devDependencies.jest).toMatch(/^29\./);
  });

  test('main.ts synthesizes only when run, and the test binds an in-memory state on a fixed clock', () => {
    const dir = fresh();
    initApp(dir);
    expect(read(dir, 'main.ts')).toMatch(/^if \(require\.main === module\) \{\n(?:.*\n)*? {2}app\.synth\(\);\n\}\n$/m);
    expect(read(dir, 'main.ts').match(/app\.synth\(\)/g)).toHaveLength(1);
    expect(read(dir, 'main.test.ts')).toMatch(/usePkiState\(app, PkiState\.inMemory\(\{ clock, seed: '[^']+' \}\)\)/);
    expect(read(dir, 'main.test.ts')).toMatch(/const clock = \(\) => new Date\('\d{4}-\d\d-\d\dT[\d:]+Z'\);/);
  });

  test('git ignores the state, the exported trees, node_modules and tsc output, and tracks dist/', () => {
    const dir = fresh();
    initApp(dir);
    runOk('git', ['init', '-q'], { cwd: dir });
    const ignored = (file: string) => run('git', ['check-ignore', '-q', '--no-index', file], { cwd: dir }).status === 0;
    for (const file of ['.pki/cluster/pki/ca/key-1.pem', 'exported/cp-1/pki/ca.key', 'exported/secrets/web.yaml', 'node_modules/cdk8s/package.json', 'main.js', 'main.d.ts']) expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true });
    for (const file of ['dist/PKI.md', 'dist/cluster.k8s.yaml', 'dist/nodes/cluster-pki-cp-1/manifests/etcd.yaml.review', 'jest.config.js', 'main.ts', '__snapshots__/main.test.ts.snap']) expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: false });
  });

  test('writes into a directory that holds only .git', () => {
    const dir = fresh();
    runOk('git', ['init', '-q', dir]);
    initApp(dir);
    expect(fs.readdirSync(dir).sort()).toEqual(['.git', ...APP_FILES].sort());
  });

  test.each([
    ['a file', { 'notes.txt': 'mine' }, /is not empty \(it holds notes\.txt\)/],
    ['a .gitignore of its own', { '.gitignore': 'mine' }, /is not empty \(it holds \.gitignore\)/],
    ['seven files', Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((f) => [f, f])), /it holds a, b, c, d, e and 2 more/],
  ])('refuses a directory holding %s, and writes nothing', (_label, existing: Record<string, string>, message) => {
    const dir = fresh();
    fs.mkdirSync(dir);
    for (const [file, content] of Object.entries(existing)) fs.writeFileSync(path.join(dir, file), content);
    const before = snapshotDir(dir);
    expect(() => initApp(dir)).toThrow(message);
    expect(snapshotDir(dir)).toEqual(before);
  });

  test('refuses a path that is a file', () => {
    const file = path.join(tmp.dir, 'a-file');
    fs.writeFileSync(file, 'x');
    expect(() => initApp(file)).toThrow(/a-file exists and is not a directory/);
  });

  test.each([
    ['my-app', 'my-app'],
    ['My App', 'my-app'],
    ['.hidden_App!', 'hidden_app'],
    ['___', 'cdk8s-app'],
  ])('the package name of a directory %j is %j', (directoryName, name) => {
    expect(packageNameFor(directoryName)).toBe(name);
  });
});

describe('cdk8s-pki init', () => {
  const readmeCommands = (dir: string) => /^```sh\n([\s\S]*?)^```$/m.exec(read(dir, 'README.md'))![1].split('\n').filter(Boolean);

  test('names the files it wrote, then prints the commands to run next: cd into the app, then the README\'s', () => {
    const cwd = fresh();
    fs.mkdirSync(cwd);
    const stdout = runOk(process.execPath, [CLI, 'init', 'my app'], { cwd });
    const [wrote, next, ...commands] = stdout.trimEnd().split('\n');
    expect(wrote).toBe(`wrote a cdk8s app to my app: ${APP_FILES.join(', ')}`);
    expect(next).toBe('next:');
    expect(commands).toEqual(["  cd 'my app'", ...readmeCommands(path.join(cwd, 'my app')).map((c) => `  ${c}`)]);
    expect(commands.map((c) => c.trim().split(/\s+#/)[0].trim())).toEqual(expect.arrayContaining(['npm install', 'npm test', 'npx cdk8s synth', 'npx cdk8s-pki export-node cp-1 --out exported/cp-1', 'npx cdk8s-pki join-command worker-1', 'npx cdk8s-pki plan']));
  });

  test('writes into the working directory when no dir is named, and prints no cd', () => {
    const cwd = fresh();
    fs.mkdirSync(cwd);
    const stdout = runOk(process.execPath, [CLI, 'init'], { cwd });
    expect(fs.readdirSync(cwd).sort()).toEqual(APP_FILES);
    expect(stdout).toMatch(/^wrote a cdk8s app to \.: /);
    expect(stdout).not.toMatch(/^ {2}cd /m);
  });

  test('a non-empty directory is one error line and exit 1', () => {
    const cwd = fresh();
    fs.mkdirSync(cwd);
    fs.writeFileSync(path.join(cwd, 'README.md'), 'mine');
    const result = run(process.execPath, [CLI, 'init', '.'], { cwd });
    expect(result).toEqual({ status: 1, stdout: '', stderr: "cdk8s-pki: init: . is not empty (it holds README.md); init writes a new app into a new or an empty directory (.git may be there)\n" });
  });

  test('--help says what it writes and where it refuses to', () => {
    const help = runOk(process.execPath, [CLI, 'init', '--help']);
    expect(help).toMatch(/^Usage: cdk8s-pki init \[options\] \[dir\]/);
    for (const file of APP_FILES.filter((f) => f !== 'jest.config.js')) expect(help).toMatch(new RegExp(`^ {2}${file.replace('.', '\\.')} `, 'm'));
    expect(help).toContain('dir may hold .git');
  });
});
