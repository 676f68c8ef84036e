// Example 6, Rancher on a single node: what synth writes, and each step of its walk-through run for real: the
// export of each certificate option, the docker run line printed for it, and the refusals.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { RancherIngressTLS, usePkiState } from '../../constructs';
import { CertificateOption, HOSTNAME, RancherSingleNode } from '../../examples/rancher-single-node/main';
import { planReport } from '../../src/plan/report';
import { formatPlan } from '../../src/plan/run';
import { PkiState } from '../../src/state/pki-state';
import { synthExample } from '../support/example-app';
import { run, runOk, tempDir } from '../support/programs';
import { curlThroughExportedServer, fileModes, opensslVerifyExport, parseDockerRun, parseExportOutput, sha256sum } from '../support/rancher-export';

const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const IMAGE = 'rancher/rancher:v2.12.3';

const EXAMPLE = path.resolve(__dirname, '../../examples/rancher-single-node');
const README = fs.readFileSync(path.join(EXAMPLE, 'README.md'), 'utf8');
const tmp = tempDir('cdk8s-pki-rancher-single-node-');
afterAll(() => tmp.cleanup());

/** Synthesizes the example with `option`, as `npx cdk8s synth` in its directory does, into the state directory `stateDir` (system clock). */
function synthOption(stateDir: string, option: CertificateOption, files?: { chain: string; key: string }): RancherSingleNode {
  let chart: RancherSingleNode | undefined;
  const { app } = synthExample((a) => (chart = new RancherSingleNode(a, 'single-node', { certificate: option, publicCertificateFiles: files })), { state: PkiState.inDirectory(stateDir) });
  fs.rmSync(app.outdir, { recursive: true, force: true });
  return chart!;
}

const cli = (stateDir: string, ...args: string[]) => run(process.execPath, [CLI, '--state', stateDir, ...args]);
const exportRancher = (stateDir: string, out: string) => cli(stateDir, 'export-rancher', '--out', out);

/** What `run` writes to stderr (the synth summary), quieted. */
function stderrOf(run: () => void): string {
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    run();
    return spy.mock.calls.map((call) => String(call[0])).join('');
  } finally {
    spy.mockRestore();
  }
}

/** The export-rancher command a summary or plan line prints, run as printed with `<dir>` replaced by `out`. */
function runPrinted(stateDir: string, line: string, out: string) {
  const words = /cdk8s-pki (export-rancher .*)$/.exec(line)![1].split(' ');
  return cli(stateDir, ...words.map((word) => (word === '<dir>' ? out : word)));
}

test('synthesizes the manifests, PKI.md and the values file of the walk-through', () => {
  const { app, files } = synthExample((a) => new RancherSingleNode(a, 'single-node'));
  try {
    const valuesFile = 'single-node-rancher-values.yaml';
    expect({ ...files, [valuesFile]: fs.readFileSync(path.join(app.outdir, valuesFile), 'utf8') }).toMatchSnapshot();
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
});

test('the walk-through shows main.ts as it is', () => {
  expect(README).toContain(`\`\`\`ts\n${fs.readFileSync(path.join(EXAMPLE, 'main.ts'), 'utf8')}\`\`\`\n`);
});

test('without install: docker, export-rancher refuses in the line the walk-through quotes, and writes nothing', () => {
  const stateDir = path.join(tmp.dir, 'helm', '.pki');
  const out = path.join(tmp.dir, 'helm', 'rancher-ssl');
  const { app } = synthExample((a) => new RancherIngressTLS(new Chart(a, 'single-node'), 'rancher', { hostname: HOSTNAME, version: '2.12.3' }), { state: PkiState.inDirectory(stateDir) });
  fs.rmSync(app.outdir, { recursive: true, force: true });
  const result = exportRancher(stateDir, out);
  expect(result.status).toBe(1);
  const [line, ...rest] = result.stderr.split('\n');
  expect(rest).toEqual(['']);
  expect(line).toMatch(/^cdk8s-pki: single-node\/rancher: install: is "helm" \(the default\).* set install: 'docker' on the RancherIngressTLS/);
  expect(README.split('\n')).toContain(line);
  expect(fs.existsSync(out)).toBe(false);
});

describe('option private-ca (the default): cert.pem, key.pem and cacerts.pem', () => {
  const stateDir = path.join(tmp.dir, 'private-ca', '.pki');
  const out = path.join(tmp.dir, 'private-ca', 'rancher-ssl');
  let chart: RancherSingleNode;
  let stdout = '';
  beforeAll(() => {
    chart = synthOption(stateDir, 'private-ca');
    const result = exportRancher(stateDir, out);
    expect([result.status, result.stderr]).toEqual([0, '']);
    stdout = result.stdout;
  });

  test('the files written are the ones the printed docker run line mounts, with sane modes', () => {
    const { wrote, docker } = parseExportOutput(stdout);
    expect(wrote).toBe(`single-node/rancher: wrote cert.pem, key.pem, cacerts.pem to ${out}`);
    expect(docker).toEqual({
      flags: ['-d', '--restart=unless-stopped', '--privileged'],
      ports: ['80:80', '443:443'],
      mounts: ['cert.pem', 'key.pem', 'cacerts.pem'].map((name) => ({ host: path.join(out, name), container: `/etc/rancher/ssl/${name}` })),
      image: IMAGE,
      args: [],
    });
    // Besides them, only the marker that lets the next export replace the directory whole.
    expect(fileModes(out)).toEqual({ 'cert.pem': 0o644, 'key.pem': 0o600, 'cacerts.pem': 0o644, '.cdk8s-pki-export': 0o600 });
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
  });

  test('openssl verifies the chain for a TLS server; curl with cacerts.pem accepts a server holding cert.pem and key.pem', async () => {
    expect(opensslVerifyExport(out)).toEqual({ status: 0, output: `${path.join(out, 'cert.pem')}: OK` });
    const curl = await curlThroughExportedServer(out, HOSTNAME, path.join(out, 'cacerts.pem'));
    expect([curl.status, curl.body, curl.stderr]).toEqual([0, 'rancher', '']);
  });

  test('a client trusting something else is refused: curl exits 60', async () => {
    const other = path.join(tmp.dir, 'other-ca.pem');
    runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(tmp.dir, 'other-ca.key'), '-out', other, '-subj', '/CN=Other CA', '-days', '1']);
    expect((await curlThroughExportedServer(out, HOSTNAME, other)).status).toBe(60);
  });

  test('the printed CATTLE_CA_CHECKSUM is sha256sum of cacerts.pem, and the one in the values file of the Helm install', () => {
    const { checksum } = parseExportOutput(stdout);
    expect(checksum).toBe(sha256sum(path.join(out, 'cacerts.pem')));
    expect(checksum).toBe(chart.rancher.caChecksum);
  });
});

test('option public-ca: a certificate of a private CA is refused by synth, since the container would run with --no-cacerts', () => {
  const dir = path.join(tmp.dir, 'public-ca');
  fs.mkdirSync(dir);
  const file = (name: string) => path.join(dir, name);
  // A CA that no client trusts, and a certificate for the hostname from it, made by openssl.
  runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-subj', '/CN=Unknown CA', '-days', '1']);
  runOk('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('privkey.pem'), '-out', file('leaf.csr'), '-subj', `/CN=${HOSTNAME}`]);
  fs.writeFileSync(file('ext.cnf'), `subjectAltName=DNS:${HOSTNAME}\nextendedKeyUsage=serverAuth\n`);
  runOk('openssl', ['x509', '-req', '-in', file('leaf.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('fullchain.pem'), '-days', '1', '-extfile', file('ext.cnf')]);
  expect(() => synthOption(path.join(dir, '.pki'), 'public-ca', { chain: file('fullchain.pem'), key: file('privkey.pem') })).toThrow(
    /^single-node\/rancher: cacertsPem: is required: "rancher\.example\.com" was issued by "Unknown CA", which is not a public root/,
  );
});

describe.each([
  ['lets-encrypt', 'letsEncrypt', ['--acme-domain', HOSTNAME], /with --acme-domain Rancher gets its certificate from Let's Encrypt itself .*; CATTLE_CA_CHECKSUM: "" \(empty: /],
  ['rancher-generated', 'rancher', [], /Rancher makes its own CA and certificate when it first starts, so no file is mounted; CATTLE_CA_CHECKSUM: unknown \(known once it runs: curl -k -s -fL https:\/\/rancher\.example\.com\/v3\/settings\/cacerts/],
] as const)('option %s: nothing to export', (option, mode, args, why) => {
  test('export-rancher refuses in one line naming the construct, and gives the docker run line, which mounts nothing', () => {
    const stateDir = path.join(tmp.dir, option, '.pki');
    const out = path.join(tmp.dir, option, 'rancher-ssl');
    synthOption(stateDir, option);
    const result = exportRancher(stateDir, out);
    expect(result.status).toBe(1);
    const [line, ...rest] = result.stderr.split('\n');
    expect(rest).toEqual(['']);
    expect(line.startsWith(`cdk8s-pki: single-node/rancher: mode: "${mode}" has nothing to export: `)).toBe(true);
    expect(line).toMatch(why);
    expect(README.split('\n')).toContain(line); // the walk-through quotes it as it is
    expect(parseDockerRun(line.slice(line.indexOf('docker run ')))).toEqual({ flags: ['-d', '--restart=unless-stopped', '--privileged'], ports: ['80:80', '443:443'], mounts: [], image: IMAGE, args });
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('a renewed certificate: synth and plan say to export again, and the command they print writes it', () => {
  const stateDir = path.join(tmp.dir, 'renewal', '.pki');
  const out = path.join(tmp.dir, 'renewal', 'rancher-ssl');
  const EXPORT_LINE = 'cdk8s-pki export-rancher single-node/rancher --out <dir>';
  const served = () => runOk('openssl', ['x509', '-noout', '-serial', '-in', path.join(out, 'cert.pem')]);
  let first = '';

  beforeAll(() => {
    const summary = stderrOf(() => synthOption(stateDir, 'private-ca'));
    expect(summary).toBe(`cdk8s-pki: issued 2 new (2 certificates)\ncdk8s-pki: Rancher (docker run) to export: ${EXPORT_LINE}\n`);
    expect(README).toContain(summary);
    expect(runPrinted(stateDir, summary.trim().split('\n')[1], out).status).toBe(0);
    first = served();
  });

  test('a synth that changes nothing says nothing', () => {
    expect(stderrOf(() => synthOption(stateDir, 'private-ca'))).toBe('');
  });

  test('after renew: plan, then the synth summary, name the command; run as printed, it writes the new certificate', () => {
    expect(cli(stateDir, 'renew', 'single-node/rancher/serving-certificate').status).toBe(0);
    // The plan of the app as `cdk8s-pki plan` formats it: built on the state, not synthesized, so nothing is committed.
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inDirectory(stateDir));
    new RancherSingleNode(app, 'single-node');
    const plan = formatPlan({ ...planReport(state), outputDirectory: 'dist', outputFiles: [] });
    expect(plan.split('\n')).toEqual(expect.arrayContaining([expect.stringMatching(/^renew +single-node\/rancher\/serving-certificate +renewal requested/), `then: ${EXPORT_LINE}`]));
    fs.rmSync(app.outdir, { recursive: true, force: true });

    const summary = stderrOf(() => synthOption(stateDir, 'private-ca')).split('\n');
    expect(summary[0]).toMatch(/^cdk8s-pki: renewed single-node\/rancher\/serving-certificate: renewal requested; new certificate until /);
    expect(summary.slice(1)).toEqual([`cdk8s-pki: Rancher (docker run) to re-export: ${EXPORT_LINE}`, '']);
    expect(README.split('\n')).toContain(summary[1]);
    expect(runPrinted(stateDir, summary[1], out).status).toBe(0);
    expect(served()).not.toBe(first);
    expect(opensslVerifyExport(out)).toEqual({ status: 0, output: `${path.join(out, 'cert.pem')}: OK` });
  });
});
