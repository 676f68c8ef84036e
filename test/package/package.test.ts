import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { MINUTES, pack, PKG, ROOT, sh, shOk } from '../support/package';
import { tempDir } from '../support/programs';

// The library as a user gets it: `npm pack`, installed from the registry into an app outside this project
// (test/package/app, laid out as `cdk8s init typescript-app` does) next to the lowest cdk8s/constructs the peer
// range admits and next to the pinned ones; compiled with that template's tsconfig, synthesized by `cdk8s synth`.
// Needs the npm registry (or npm's cache); takes about a minute per app.
const CDK8S_CLI = path.join(ROOT, 'node_modules/cdk8s-cli/bin/cdk8s');
const TEMPLATE_TSCONFIG = path.join(ROOT, 'node_modules/cdk8s-cli/templates/typescript-app/tsconfig.json');

/** The lowest version a `^x.y.z` range admits. */
const lowest = (range: string): string => /^\^(\d+\.\d+\.\d+)$/.exec(range)?.[1] ?? fail(`peer range ${range} is not ^x.y.z`);
function fail(message: string): never {
  throw new Error(message);
}

/** Every version of `name` anywhere in an `npm ls --all --json` tree. */
function versionsIn(tree: { dependencies?: Record<string, { version?: string; dependencies?: unknown }> }, name: string, found = new Set<string>()): Set<string> {
  for (const [dep, node] of Object.entries(tree.dependencies ?? {})) {
    if (dep === name && node.version) found.add(node.version);
    versionsIn(node as typeof tree, name, found);
  }
  return found;
}

const work = tempDir('cdk8s-pki-package-');
afterAll(() => work.cleanup());

let tarball = '';
beforeAll(() => {
  tarball = pack(work.dir);
}, 2 * MINUTES);

describe('the packed package', () => {
  const entries = () => shOk('tar', ['tzf', tarball], work.dir).split('\n').filter(Boolean).map((e) => e.replace(/^package\//, ''));

  test('holds the library, its LICENSE, the JSON schemas at the paths the README names and the app template of `cdk8s-pki init`; no example app, tests or sources', () => {
    const files = entries();
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'lib/constructs/index.js', 'lib/constructs/index.d.ts', 'lib/src/cli.js']));
    const readmeSchemas = [...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/`(src\/[\w/.-]+\.schema\.json)`/g)].map((m) => m[1]);
    expect(readmeSchemas.length).toBeGreaterThanOrEqual(3);
    expect(files).toEqual(expect.arrayContaining(readmeSchemas));
    // The template's files, .gitignore among them under the name npm keeps; its .ts files are the only sources shipped.
    const template = fs.readdirSync(path.join(ROOT, 'templates/app')).map((f) => `templates/app/${f}`);
    expect(template).toEqual(expect.arrayContaining(['templates/app/gitignore', 'templates/app/main.ts']));
    expect(files).toEqual(expect.arrayContaining(template));
    expect(files.filter((f) => !template.includes(f) && /(^|\/)(examples|test|bench)\/|main\.js$|(?<!\.d)\.ts$/.test(f))).toEqual([]);
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });

  test('package.json: cdk8s and constructs are peers only, with repository, engines and the cdk8s-pki command', () => {
    const manifest = JSON.parse(shOk('tar', ['xzOf', tarball, 'package/package.json'], work.dir));
    expect(manifest.peerDependencies).toEqual({ cdk8s: expect.stringMatching(/^\^2\./), constructs: expect.stringMatching(/^\^10\./) });
    expect(Object.keys(manifest.dependencies)).not.toEqual(expect.arrayContaining(['cdk8s']));
    expect(Object.keys(manifest.dependencies)).not.toContain('constructs');
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository.url).toMatch(/^git\+https:\/\//);
    expect(manifest.engines.node).toMatch(/^>=\d+/);
    expect(manifest.bin).toEqual({ 'cdk8s-pki': 'lib/src/cli.js' });
  });
});

const cases: [string, string, string][] = [
  ['the lowest supported', lowest(PKG.peerDependencies.cdk8s), lowest(PKG.peerDependencies.constructs)],
  ['the pinned', PKG.devDependencies.cdk8s, PKG.devDependencies.constructs],
];

describe.each(cases)('a user app on %s cdk8s and constructs', (_label, cdk8sVersion, constructsVersion) => {
  let app = '';
  beforeAll(() => {
    app = path.join(work.dir, `app-${cdk8sVersion}`);
    fs.cpSync(path.join(__dirname, 'app'), app, { recursive: true });
    fs.copyFileSync(TEMPLATE_TSCONFIG, path.join(app, 'tsconfig.json'));
    const dev = PKG.devDependencies;
    const manifest = {
      name: 'user-app',
      version: '1.0.0',
      private: true,
      dependencies: { cdk8s: cdk8sVersion, constructs: constructsVersion, 'cdk8s-pki': `file:${tarball}` },
      devDependencies: { typescript: dev.typescript, 'ts-node': dev['ts-node'], '@types/node': dev['@types/node'] },
    };
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    shOk('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
  }, 5 * MINUTES);

  test('installs with one copy of cdk8s and of constructs, the app\'s own', () => {
    const tree = JSON.parse(shOk('npm', ['ls', '--all', '--json'], app));
    expect([...versionsIn(tree, 'cdk8s')]).toEqual([cdk8sVersion]);
    expect([...versionsIn(tree, 'constructs')]).toEqual([constructsVersion]);
  });

  test('compiles with the tsconfig of `cdk8s init typescript-app`', () => {
    const result = sh(process.execPath, [path.join(app, 'node_modules/typescript/bin/tsc'), '-p', app, '--noEmit'], app);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 3 * MINUTES);

  test('`cdk8s synth` writes the manifests and the state; the CA bundle is the CA the app declared', () => {
    shOk(process.execPath, [CDK8S_CLI, 'synth'], app);
    expect(fs.readdirSync(path.join(app, 'dist')).sort()).toEqual(['PKI.md', 'cluster-rancher-values.yaml', 'cluster.k8s.yaml', 'nodes']);
    expect(fs.readdirSync(path.join(app, 'dist/nodes')).sort()).toEqual(['cluster-pki-cp-1', 'cluster-pki-worker-1']);
    const docs = parseAllDocuments(fs.readFileSync(path.join(app, 'dist/cluster.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(expect.arrayContaining(['ClusterIssuer', 'Application', 'ClusterRoleBinding']));
    const bundle = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'ingress-ca-bundle');
    const ca = new X509Certificate(bundle.data['ca.crt']);
    expect(ca.subject).toBe('CN=app-ingress-ca');
    expect(ca.ca).toBe(true);
    expect(fs.statSync(path.join(app, '.pki')).mode & 0o777).toBe(0o700);
  }, 3 * MINUTES);

  test('`cdk8s-pki --version` prints the package version', () => {
    expect(shOk(path.join(app, 'node_modules/.bin/cdk8s-pki'), ['--version'], app)).toBe(`${PKG.version}\n`);
  });

  // The clean line comes from the uncaught-exception handler the library installs when it is loaded; cdk8s synth
  // adds its own "command exited" report after it, which is cdk8s-cli's, not ours.
  test('a bad prop through `cdk8s synth` prints one clean error line, no stack trace of ours', () => {
    const result = sh(process.execPath, [CDK8S_CLI, 'synth'], app, { CP_1_IP: '10.0.0.300' });
    expect(result.status).not.toBe(0);
    const output = `${result.stdout}${result.stderr}`.split('\n');
    expect(output.filter((line) => line.startsWith('cdk8s-pki:'))).toEqual(['cdk8s-pki: cluster/pki: nodes[0].ip: "10.0.0.300" is not a valid IPv4 or IPv6 address']);
    expect(output.filter((line) => /SpecError|node_modules\/cdk8s-pki\//.test(line))).toEqual([]);
  }, 3 * MINUTES);
});
