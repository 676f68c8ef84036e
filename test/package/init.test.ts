import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MINUTES, pack, PKG, ROOT, sh, shOk } from '../support/package';
import { runOk, snapshotDir, tempDir } from '../support/programs';

// `cdk8s-pki init` as a user meets it: the built CLI scaffolds an app into a temporary directory, whose cdk8s-pki
// dependency is pointed at the packed tarball; then the commands init printed run in it, in their order, and its
// snapshot test and synth run again three years later under faketime. Needs the npm registry (or npm's cache).
const CLI = path.join(ROOT, 'lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const THREE_YEARS_DAYS = 3 * 365;

const work = tempDir('cdk8s-pki-init-');
afterAll(() => work.cleanup());
const app = path.join(work.dir, 'my-app');

let printed = '';
let scaffolded: Record<string, string> = {};
let commands: string[] = [];
/** A command init printed, run by the shell in the app as the user would type it. */
const runPrinted = (command: string, env: Record<string, string> = {}) => sh('sh', ['-c', command], app, env);
const printedCommand = (start: string) => commands.find((c) => c.startsWith(start)) ?? fail(`init printed no \`${start}…\` command`);
function fail(message: string): never {
  throw new Error(message);
}

beforeAll(() => {
  const tarball = pack(work.dir);
  printed = shOk(process.execPath, [CLI, 'init', 'my-app'], work.dir);
  scaffolded = snapshotDir(app);
  // The commands after "next:", without their comments; `cd my-app` is where they run.
  commands = printed.split('next:\n')[1].split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean);
  const manifest = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
  expect(manifest.dependencies['cdk8s-pki']).toBe(PKG.version);
  manifest.dependencies['cdk8s-pki'] = `file:${tarball}`;
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
}, 2 * MINUTES);

test('init prints the commands of the next steps: install, test, synth, export-node, join-command, plan, check-expiration', () => {
  expect(commands[0]).toBe('cd my-app');
  expect(commands.slice(1, 4)).toEqual(['npm install', 'npm test', 'npx cdk8s synth']);
  for (const command of ['export-node cp-1', 'join-command worker-1', 'plan', 'check-expiration']) expect(commands).toContainEqual(expect.stringContaining(`npx cdk8s-pki ${command}`));
});

test('`npm install` installs cdk8s-pki from the tarball, whose own init writes the same app', () => {
  shOk('sh', ['-c', printedCommand('npm install')], app, { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' });
  const installed = path.join(app, 'node_modules/cdk8s-pki');
  expect(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version).toBe(PKG.version);
  // The package's own CLI and its shipped template, not this project's.
  const again = path.join(work.dir, 'again');
  fs.mkdirSync(again);
  shOk(path.join(app, 'node_modules/.bin/cdk8s-pki'), ['init', 'my-app'], again);
  expect(snapshotDir(path.join(again, 'my-app'))).toEqual(scaffolded);
}, 5 * MINUTES);

test('`npm test` writes the snapshot of the whole app on its first run without touching .pki/, and matches it with --ci', () => {
  // As the user runs it, outside CI: jest writes no new snapshot under CI.
  shOk('sh', ['-c', printedCommand('npm test')], app, { CI: 'false' });
  const snapshot = fs.readFileSync(path.join(app, '__snapshots__/main.test.ts.snap'), 'utf8');
  for (const file of ['cluster.k8s.yaml', 'PKI.md', 'nodes/cluster-pki-cp-1/manifests/kube-apiserver.yaml.review', 'nodes/cluster-pki-worker-1/kubelet/config.yaml.review']) expect(snapshot).toContain(`"${file}"`);
  expect(fs.existsSync(path.join(app, '.pki'))).toBe(false);
  expect(fs.existsSync(path.join(app, 'dist'))).toBe(false);
  const ci = sh('npm', ['test', '--', '--ci'], app);
  expect(ci.status).toBe(0);
  expect(ci.stderr).toMatch(/Snapshots:\s+1 passed, 1 total/);
}, 5 * MINUTES);

test('`npx cdk8s synth` writes dist/ and the state; export-node, join-command, plan and check-expiration then work as printed', () => {
  shOk('sh', ['-c', printedCommand('npx cdk8s synth')], app);
  expect(fs.readdirSync(path.join(app, 'dist')).sort()).toEqual(['PKI.md', 'cluster.k8s.yaml', 'nodes']);
  expect(fs.statSync(path.join(app, '.pki')).mode & 0o777).toBe(0o700);
  for (const command of commands.slice(4)) {
    const result = runPrinted(command);
    expect({ command, status: result.status, stderr: result.stderr }).toEqual({ command, status: 0, stderr: '' });
  }
  const node = path.join(app, printedCommand('npx cdk8s-pki export-node cp-1').split('--out ')[1]);
  runOk('openssl', ['verify', '-CAfile', path.join(node, 'pki/ca.crt'), path.join(node, 'pki/apiserver.crt')]);
  expect(runPrinted(printedCommand('npx cdk8s-pki join-command worker-1')).stdout).toMatch(/^kubeadm join api\.k8s\.example\.internal:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}\n$/);
}, 5 * MINUTES);

test('git, with the .gitignore init wrote, tracks the app and dist/, never the state, the exported trees or node_modules', () => {
  runOk('git', ['init', '-q'], { cwd: app });
  const untracked = runOk('git', ['ls-files', '--others', '--exclude-standard'], { cwd: app }).split('\n').filter(Boolean);
  expect(untracked).toEqual(expect.arrayContaining(['main.ts', 'main.test.ts', '__snapshots__/main.test.ts.snap', 'dist/PKI.md', 'dist/cluster.k8s.yaml', '.gitignore', 'jest.config.js']));
  expect(untracked.filter((file) => /^(\.pki|exported|node_modules)\//.test(file))).toEqual([]);
});

describe(`${THREE_YEARS_DAYS} days later (faketime)`, () => {
  const later = (program: string, args: string[]) => sh('faketime', ['-f', `+${THREE_YEARS_DAYS}d`, program, ...args], app);

  test('the snapshot test still passes: it depends on no date but its own clock', () => {
    const result = later('npm', ['test', '--', '--ci']);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringMatching(/Snapshots:\s+1 passed, 1 total/) });
  }, 5 * MINUTES);

  test('a synth renews what expired, and the exported apiserver certificate is valid then', () => {
    expect(later('npx', ['cdk8s', 'synth'])).toMatchObject({ status: 0 });
    const node = path.join(app, 'exported/cp-1-later');
    expect(later('npx', ['cdk8s-pki', 'export-node', 'cp-1', '--out', node])).toMatchObject({ status: 0 });
    const apiserver = new X509Certificate(fs.readFileSync(path.join(node, 'pki/apiserver.crt')));
    expect(new Date(apiserver.validTo).getTime()).toBeGreaterThan(Date.now() + THREE_YEARS_DAYS * 86_400_000);
    expect(later('openssl', ['verify', '-CAfile', path.join(node, 'pki/ca.crt'), path.join(node, 'pki/apiserver.crt')])).toMatchObject({ status: 0 });
  }, 5 * MINUTES);
});
