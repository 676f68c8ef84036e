// `cdk8s-pki export-rancher`: the files a single-node Rancher mounts, written from the state, and the docker run
// line that mounts them, checked by the programs that read such files (openssl, a TLS server and curl, sha256sum).
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { ClusterCA, PkiState, RancherIngressTLS, RancherIngressTLSProps, RancherServingCertificate, synthApp, usePkiState } from '../../constructs';
import { readSingleNodePlan, recordSingleNodePlan, SingleNodePlan } from '../../src/rancher/single-node';
import { run, snapshotDir, tempDir } from '../support/programs';
import { curlThroughExportedServer, fileModes, opensslVerifyExport, parseDockerRun, parseExportOutput, sha256sum } from '../support/rancher-export';
import { pemCertificates } from '../support/tls-verify';

const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const HOSTNAME = 'rancher.example.com';
const MARKER = '.cdk8s-pki-export';

const tmp = tempDir('cdk8s-pki-export-rancher-');
afterAll(() => tmp.cleanup());
let dirs = 0;
const freshDir = (name: string) => path.join(tmp.dir, `${++dirs}-${name}`);

// The time the suite started, for every synth: the programs check the certificates on the system clock, and an
// intermediate issued a second after its root would outlast it.
const STARTED = new Date();

/** Synthesizes a chart `test` with RancherIngressTLS `rancher` installed by docker run (and what `props` adds) into a state directory. */
function synthInto(stateDir: string, props: (chart: Chart) => Partial<RancherIngressTLSProps>, ids: string[] = ['rancher']): void {
  const app = Testing.app();
  usePkiState(app, PkiState.inDirectory(stateDir, { clock: () => STARTED }));
  const chart = new Chart(app, 'test');
  const extra = props(chart);
  for (const id of ids) new RancherIngressTLS(chart, id, { hostname: HOSTNAME, version: '2.12.1', install: 'docker', ...extra });
  try {
    synthApp(app);
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

/** A private root and an intermediate under it that issues Rancher's certificate. */
function privateHierarchy(chart: Chart): ClusterCA {
  const root = new ClusterCA(chart, 'root-ca', { commonName: 'Example Root CA' });
  return new ClusterCA(chart, 'issuing-ca', { commonName: 'Example Issuing CA', issuer: root });
}

const fromIntermediate = (chart: Chart): Partial<RancherIngressTLSProps> => ({ mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(privateHierarchy(chart)) });

/** Rewrites the recorded plan of test/rancher (as synth would have recorded another spec). */
function changePlan(stateDir: string, change: (plan: SingleNodePlan) => SingleNodePlan): void {
  const state = PkiState.inDirectory(stateDir);
  recordSingleNodePlan(state, 'test/rancher', change(readSingleNodePlan(state, 'test/rancher')));
  state.commit();
}

const exportRancher = (stateDir: string, ...args: string[]) => run(process.execPath, [CLI, '--state', stateDir, 'export-rancher', ...args]);

/** The root of a cacerts bundle, as a file of its own: what a client that trusts only the root is given. */
function rootFile(cacertsPem: string): string {
  const file = path.join(freshDir('root'), 'root.pem');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, pemCertificates(cacertsPem).at(-1)!);
  return file;
}

describe('a certificate from a private intermediate CA', () => {
  const stateDir = freshDir('state');
  const out = freshDir('out');
  let stdout = '';
  beforeAll(() => {
    synthInto(stateDir, fromIntermediate);
    const result = exportRancher(stateDir, '--out', out);
    expect([result.status, result.stderr]).toEqual([0, '']);
    stdout = result.stdout;
  });

  test('writes exactly the files the printed line mounts, to the paths it mounts them at', () => {
    const { wrote, docker } = parseExportOutput(stdout);
    expect(wrote).toBe(`test/rancher: wrote cert.pem, key.pem, cacerts.pem to ${out}`);
    expect(docker.mounts).toEqual(['cert.pem', 'key.pem', 'cacerts.pem'].map((name) => ({ host: path.join(out, name), container: `/etc/rancher/ssl/${name}` })));
    expect(Object.keys(fileModes(out)).sort()).toEqual([MARKER, ...docker.mounts.map((m) => path.basename(m.host))].sort());
    expect(docker).toMatchObject({ flags: ['-d', '--restart=unless-stopped', '--privileged'], ports: ['80:80', '443:443'], image: 'rancher/rancher:v2.12.1', args: [] });
  });

  test('cert.pem is the leaf then the intermediate; cacerts.pem the intermediate then the root', () => {
    const chain = pemCertificates(fs.readFileSync(path.join(out, 'cert.pem'), 'utf8')).map((pem) => new X509Certificate(pem));
    const cacerts = pemCertificates(fs.readFileSync(path.join(out, 'cacerts.pem'), 'utf8')).map((pem) => new X509Certificate(pem));
    expect(chain.map((c) => c.subject)).toEqual([`CN=${HOSTNAME}`, 'CN=Example Issuing CA']);
    expect(cacerts.map((c) => c.subject)).toEqual(['CN=Example Issuing CA', 'CN=Example Root CA']);
    expect(chain[1].raw.equals(cacerts[0].raw)).toBe(true);
    expect(chain[0].checkIssued(chain[1]) && chain[1].checkIssued(cacerts[1]) && cacerts[1].checkIssued(cacerts[1])).toBe(true);
  });

  test('the chain verifies for a TLS server with openssl, and curl trusting only the root accepts a server holding cert.pem and key.pem', async () => {
    expect(opensslVerifyExport(out)).toEqual({ status: 0, output: `${path.join(out, 'cert.pem')}: OK` });
    const curl = await curlThroughExportedServer(out, HOSTNAME, rootFile(fs.readFileSync(path.join(out, 'cacerts.pem'), 'utf8')));
    expect([curl.status, curl.body, curl.stderr]).toEqual([0, 'rancher', '']);
  });

  test('prints the checksum sha256sum gives for cacerts.pem; the key is 0600 in a 0700 directory', () => {
    expect(parseExportOutput(stdout).checksum).toBe(sha256sum(path.join(out, 'cacerts.pem')));
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    expect(fileModes(out)).toEqual({ 'cert.pem': 0o644, 'key.pem': 0o600, 'cacerts.pem': 0o644, [MARKER]: 0o600 });
  });
});

test('a certificate from a public CA: cert.pem and key.pem, --no-cacerts, an empty checksum; clients trusting the CA accept the server', async () => {
  const stateDir = freshDir('state');
  const out = freshDir('out');
  synthInto(stateDir, fromIntermediate);
  // The state as synth records a certificate brought from a public CA: no CA uploaded. (Synth refuses a
  // private chain without cacertsPem; the test's root stands in for a public one.)
  const root = rootFile(readSingleNodePlan(PkiState.inDirectory(stateDir)).cacertsPem!);
  changePlan(stateDir, ({ cacertsPem: _, ...plan }) => plan);
  const result = exportRancher(stateDir, 'test/rancher', '--out', out);
  expect(result.status).toBe(0);
  const { docker, checksum, checksumReason } = parseExportOutput(result.stdout);
  expect(docker.mounts).toEqual(['cert.pem', 'key.pem'].map((name) => ({ host: path.join(out, name), container: `/etc/rancher/ssl/${name}` })));
  expect(docker.args).toEqual(['--no-cacerts']);
  expect([checksum, checksumReason]).toEqual(['""', 'empty: Rancher runs with --no-cacerts, so agents verify it with their system trust store']);
  expect(Object.keys(fileModes(out)).sort()).toEqual([MARKER, 'cert.pem', 'key.pem'].sort());
  const curl = await curlThroughExportedServer(out, HOSTNAME, root);
  expect([curl.status, curl.body]).toEqual([0, 'rancher']);
});

test('TLS in front of Rancher (external) with a private CA: cacerts.pem only', () => {
  const stateDir = freshDir('state');
  const out = freshDir('out');
  synthInto(stateDir, (chart) => ({ mode: 'external', cacertsPem: new ClusterCA(chart, 'front-ca', { commonName: 'Front CA' }).certificatePem }));
  const result = exportRancher(stateDir, '--out', out);
  expect(result.status).toBe(0);
  const { docker, checksum } = parseExportOutput(result.stdout);
  expect(docker.mounts).toEqual([{ host: path.join(out, 'cacerts.pem'), container: '/etc/rancher/ssl/cacerts.pem' }]);
  expect(docker.args).toEqual([]);
  expect(Object.keys(fileModes(out)).sort()).toEqual([MARKER, 'cacerts.pem']);
  expect(checksum).toBe(sha256sum(path.join(out, 'cacerts.pem')));
});

test('cacerts.pem holds the bytes Rancher serves, so sha256sum of it is the checksum of a CA given with stray whitespace', () => {
  const stateDir = freshDir('state');
  const out = freshDir('out');
  synthInto(stateDir, (chart) => ({ mode: 'external', cacertsPem: `\n${new ClusterCA(chart, 'front-ca', { commonName: 'Front CA' }).certificatePem}\n\n  ` }));
  const { checksum } = parseExportOutput(exportRancher(stateDir, '--out', out).stdout);
  const cacerts = fs.readFileSync(path.join(out, 'cacerts.pem'), 'utf8');
  expect(cacerts).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
  expect(checksum).toBe(sha256sum(path.join(out, 'cacerts.pem')));
});

test('a mode that mounts nothing is refused in one line naming the construct, with its docker run line; nothing is written', () => {
  const stateDir = freshDir('state');
  const out = freshDir('out');
  synthInto(stateDir, () => ({ mode: 'external' }));
  const result = exportRancher(stateDir, '--out', out);
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/^cdk8s-pki: test\/rancher: mode: "external" has nothing to export: TLS ends in front of Rancher at a public CA's certificate, so no file is mounted; CATTLE_CA_CHECKSUM: "" \(empty: Rancher runs with --no-cacerts, so agents verify it with their system trust store\); start it with docker run [^\n]+\n$/);
  const docker = parseDockerRun(result.stderr.slice(result.stderr.indexOf('docker run ')));
  expect(docker).toMatchObject({ mounts: [], image: 'rancher/rancher:v2.12.1', args: ['--no-cacerts'] });
  expect(fs.existsSync(out)).toBe(false);
});

describe('the export directory', () => {
  test('an earlier export is replaced whole: a cacerts.pem the spec no longer has does not stay', () => {
    const stateDir = freshDir('state');
    const out = freshDir('out');
    synthInto(stateDir, fromIntermediate);
    expect(exportRancher(stateDir, '--out', out).status).toBe(0);
    changePlan(stateDir, ({ cacertsPem: _, ...plan }) => plan);
    expect(exportRancher(stateDir, '--out', out).status).toBe(0);
    expect(Object.keys(fileModes(out)).sort()).toEqual([MARKER, 'cert.pem', 'key.pem']);
  });

  test('a directory holding anything else is refused and left as it was', () => {
    const stateDir = freshDir('state');
    const out = freshDir('out');
    synthInto(stateDir, fromIntermediate);
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const result = exportRancher(stateDir, '--out', out);
    expect([result.status, result.stderr]).toEqual([1, `cdk8s-pki: --out: ${out} exists and is not an empty directory, nor an earlier export-rancher (which is replaced whole)\n`]);
    expect(snapshotDir(out)).toEqual({ 'notes.txt': Buffer.from('mine').toString('base64') });
  });

  test('--host-dir names the files where they will be on the Docker host, quoted for the shell when it must be', () => {
    const stateDir = freshDir('state');
    synthInto(stateDir, fromIntermediate);
    const result = exportRancher(stateDir, '--out', freshDir('out'), '--host-dir', "/srv/rancher's ssl");
    const { docker, command } = parseExportOutput(result.stdout);
    expect(command).toContain(`-v '/srv/rancher'\\''s ssl/cert.pem:/etc/rancher/ssl/cert.pem'`);
    expect(docker.mounts.map((m) => m.host)).toEqual(['cert.pem', 'key.pem', 'cacerts.pem'].map((name) => `/srv/rancher's ssl/${name}`));
    expect(exportRancher(stateDir, '--out', freshDir('out'), '--host-dir', 'ssl').stderr).toBe('cdk8s-pki: --host-dir: "ssl" is not an absolute path on the Docker host\n');
  });
});

describe('which RancherIngressTLS', () => {
  const stateDir = freshDir('state');
  // A construct id with a space: its slot spells it with a dash.
  beforeAll(() => synthInto(stateDir, () => ({ mode: 'external' }), ['rancher', 'staging eu']));

  test('with several in the state, one must be named: by its slot or its path', () => {
    expect(exportRancher(stateDir, '--out', freshDir('out')).stderr).toBe("cdk8s-pki: construct: the state holds 2 RancherIngressTLS with install: 'docker' (test/rancher, test/staging-eu); name one\n");
    for (const name of ['test/staging-eu', 'test/staging eu']) {
      expect(exportRancher(stateDir, name, '--out', freshDir('out')).stderr).toMatch(/^cdk8s-pki: test\/staging eu: mode: "external" has nothing to export/);
    }
  });

  test('an unknown one is refused with the known ones', () => {
    expect(exportRancher(stateDir, 'test/prod', '--out', freshDir('out')).stderr).toBe('cdk8s-pki: construct: no RancherIngressTLS "test/prod" in the state; it holds test/rancher, test/staging-eu\n');
  });
});

describe('a RancherIngressTLS installed with Helm (install unset)', () => {
  const HELM_INSTALL = `install: is "helm" (the default), which export-rancher has nothing for; for Rancher on a single node (docker run), set install: 'docker' on the RancherIngressTLS and synth again`;

  test('synth records nothing for export-rancher, which refuses in one line naming the prop to set; nothing is written', () => {
    const stateDir = freshDir('state');
    const out = freshDir('out');
    synthInto(stateDir, () => ({ install: undefined, mode: 'external' }));
    expect(PkiState.inDirectory(stateDir).documentNames('rancher-single-node')).toEqual([]);
    for (const args of [[], ['test/rancher']]) {
      expect(exportRancher(stateDir, ...args, '--out', out)).toMatchObject({ status: 1, stdout: '', stderr: `cdk8s-pki: test/rancher: ${HELM_INSTALL}\n` });
    }
    expect(fs.existsSync(out)).toBe(false);
  });

  test('beside one installed by docker run, export-rancher takes that one, and names the Helm one when asked for it', () => {
    const stateDir = freshDir('state');
    synthInto(stateDir, (chart) => {
      new RancherIngressTLS(chart, 'helm', { hostname: 'rancher.internal.example.com', version: '2.12.1', mode: 'external' });
      return fromIntermediate(chart);
    });
    expect(parseExportOutput(exportRancher(stateDir, '--out', freshDir('out')).stdout).wrote).toMatch(/^test\/rancher: wrote cert\.pem, key\.pem, cacerts\.pem to /);
    expect(exportRancher(stateDir, 'test/helm', '--out', freshDir('out')).stderr).toBe(`cdk8s-pki: test/helm: ${HELM_INSTALL}\n`);
    expect(exportRancher(stateDir, 'test/prod', '--out', freshDir('out')).stderr).toBe('cdk8s-pki: construct: no RancherIngressTLS "test/prod" in the state; it holds test/helm (Helm), test/rancher\n');
  });

  test('several installed with Helm, none by docker run: refused naming them all', () => {
    const stateDir = freshDir('state');
    synthInto(stateDir, () => ({ install: undefined, mode: 'external' }), ['rancher', 'staging']);
    expect(exportRancher(stateDir, '--out', freshDir('out')).stderr).toBe(`cdk8s-pki: install: of every RancherIngressTLS of the state (test/rancher, test/staging) ${HELM_INSTALL.slice('install: '.length)}\n`);
  });

  test('an install that is neither is refused by synth, naming the prop', () => {
    expect(() => synthInto(freshDir('state'), () => ({ install: 'k3s' as 'helm' }))).toThrow('test/rancher: install: must be "helm" or "docker" (got "k3s")');
  });
});
