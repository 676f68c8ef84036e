import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordNodePlan } from '../src/kubeadm/node-bundle';
import { recordOmittedSecret } from '../src/secrets/secret-plan';
import { PkiState } from '../src/state/pki-state';
import { run, runOk, tempDir } from './support/programs';
import { issueCaAndLeaf } from './support/mini-pki';

const CLI = path.resolve(__dirname, '../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const DAY = 86400;

describe('cdk8s-pki CLI', () => {
  const tmp = tempDir();
  const stateDir = path.join(tmp.dir, '.pki');
  afterAll(() => tmp.cleanup());

  const synth = () => {
    const state = PkiState.inDirectory(stateDir);
    const { ca, leaf } = issueCaAndLeaf(state);
    state.commit();
    return { state, ca, leaf };
  };

  test('list shows every certificate with its expiry', () => {
    const { ca, leaf } = synth();
    const result = run(process.execPath, [CLI, '--state', stateDir, 'list']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SLOT\s+CA\s+ISSUER\s+KEY\s+EXPIRES\s+LEFT\s+STATUS$/);
    // The expiry dates as node's X509Certificate reads them from the certificates.
    const day = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString().slice(0, 10);
    expect(lines[1]).toMatch(new RegExp(`^cluster/apiserver\\s+kubernetes\\s+ecdsa-p256 #1\\s+${day(leaf.certificate.pem)}\\s+36[45]d\\s+ok$`));
    expect(lines[2]).toMatch(new RegExp(`^cluster/ca\\s+CA\\s+kubernetes\\s+ecdsa-p256 #1\\s+${day(ca.certificate.pem)}\\s+3649d\\s+ok$`));
  });

  test('rotate --new-key makes the next synth issue a new key and keep the old one', () => {
    const before = synth();
    const result = run(process.execPath, [CLI, '--state', stateDir, 'rotate', 'cluster/apiserver', '--new-key']);
    expect(result.stdout).toContain('cluster/apiserver: key rotation requested');
    expect(run(process.execPath, [CLI, '--state', stateDir, 'list']).stdout).toMatch(/cluster\/apiserver .* key rotation/);
    const after = synth();
    expect(after.leaf.keyGeneration).toBe(before.leaf.keyGeneration + 1);
    expect(after.ca.certificate.pem).toBe(before.ca.certificate.pem);
  });

  test('an unknown slot is a one-line error and a non-zero exit', () => {
    const result = run(process.execPath, [CLI, '--state', stateDir, 'rotate', 'cluster/nope']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`cdk8s-pki: no certificate, key or secret "cluster/nope" in the state directory ${stateDir}; \`cdk8s-pki list\` shows the slots\n`);
  });
});

describe('cdk8s-pki with an age-encrypted state', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('reencrypt moves a plaintext state to age: the age command opens every file, synth reads it with the identity', () => {
    const stateDir = path.join(tmp.dir, '.pki');
    const plain = PkiState.inDirectory(stateDir);
    const ca = plain.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
    plain.commit();
    runOk('age-keygen', ['-o', path.join(tmp.dir, 'identity.txt')]);
    const identityFile = path.join(tmp.dir, 'identity.txt');
    const recipient = /# public key: (age1\S+)/.exec(fs.readFileSync(identityFile, 'utf8'))![1];
    const result = run(process.execPath, [CLI, '--state', stateDir, 'reencrypt', '--to', recipient, '--encrypt-plaintext']);
    expect([result.status, result.stdout]).toEqual([0, `re-encrypted 2 files in ${stateDir} to 1 recipient\n`]);
    const keyFile = path.join(stateDir, 'cluster/ca/key-1.pem');
    expect(fs.readFileSync(keyFile).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(runOk('age', ['-d', '-i', identityFile, keyFile])).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}/);
    const env = { ...process.env, CDK8S_PKI_AGE_IDENTITY_FILE: identityFile, CDK8S_PKI_AGE_RECIPIENTS: recipient };
    const list = spawnSync(process.execPath, [CLI, '--state', stateDir, 'list'], { env, encoding: 'utf8' });
    expect(list.stdout).toMatch(/^cluster\/ca\s+CA\s+kubernetes\s/m);
    expect(list.stdout).toContain(ca.certificate.notAfter.toISOString().slice(0, 10));
    const withoutIdentity = spawnSync(process.execPath, [CLI, '--state', stateDir, 'list'], { env: { ...process.env, CDK8S_PKI_AGE_RECIPIENTS: recipient }, encoding: 'utf8' });
    expect(withoutIdentity.status).toBe(1);
    expect(withoutIdentity.stderr).toMatch(/^cdk8s-pki: cannot decrypt .*certificate\.json/);
    // With no age variable at all (a CI secret missing), the state is not mistaken for a corrupt plaintext one.
    const noKeys = run(process.execPath, [CLI, '--state', stateDir, 'list']);
    expect([noKeys.status, noKeys.stderr]).toEqual([1, `cdk8s-pki: ${stateDir}/cluster/ca/certificate.json is age-encrypted, but no age key is set: set CDK8S_PKI_AGE_IDENTITY_FILE (or CDK8S_PKI_AGE_IDENTITY, or CDK8S_PKI_AGE_PASSPHRASE) and the recipients\n`]);
    // The plaintext state's .gitignore (everything) became the encrypted one, so the state can be committed.
    expect(fs.readFileSync(path.join(stateDir, '.gitignore'), 'utf8')).toMatch(/^# cdk8s-pki state, age-encrypted: commit it\./);
    // An identity given where a recipient belongs is refused without being echoed.
    const secretKey = fs.readFileSync(identityFile, 'utf8').match(/AGE-SECRET-KEY-1\S+/)![0];
    const leaked = run(process.execPath, [CLI, '--state', stateDir, 'reencrypt', '--to', secretKey]);
    expect(leaked.status).toBe(1);
    expect(leaked.stderr).toBe('cdk8s-pki: --to[0]: an age recipient was expected but an identity (AGE-SECRET-KEY-1…) was given: give its age1… public key\n');
  });

  test('a plaintext state directory tracked by git is warned about', () => {
    const repo = path.join(tmp.dir, 'repo');
    fs.mkdirSync(repo);
    runOk('git', ['init', '-q'], { cwd: repo });
    const stateDir = path.join(repo, '.pki');
    const state = PkiState.inDirectory(stateDir);
    state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
    state.commit();
    expect(run(process.execPath, [CLI, '--state', stateDir, 'list']).stderr).toBe('');
    runOk('git', ['add', '-f', '.pki'], { cwd: repo });
    expect(run(process.execPath, [CLI, '--state', stateDir, 'list']).stderr).toBe(
      `cdk8s-pki: warning: the plaintext state directory ${stateDir} is tracked by git; its private keys are in the repository. Encrypt it (CDK8S_PKI_AGE_RECIPIENTS, then \`cdk8s-pki reencrypt --encrypt-plaintext\`) or untrack it.\n`,
    );
  });
});

describe('cdk8s-pki list: status, width, json, closed pipe', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const stateDir = path.join(tmp.dir, '.pki');
  const now = Date.now();
  // Issued in the past by a state whose clock says so: one long expired, one in its last third, one fresh.
  const issueAt = (slot: string, daysAgo: number, validityDays: number) => {
    const state = PkiState.inDirectory(stateDir, { clock: () => new Date(now - daysAgo * DAY * 1000) });
    const cert = state.ensure({ slot, keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: slot.split('/').pop()! }, ca: {}, validitySeconds: validityDays * DAY } });
    state.commit();
    return cert;
  };
  const longSlot = 'clusters/production-eu-west-1/control-plane/nodes/control-plane-node-1/etcd-healthcheck-client';
  beforeAll(() => {
    issueAt('app/expired', 20, 10);
    issueAt('app/due', 25, 30);
    issueAt('app/fresh', 1, 30);
    issueAt(longSlot, 1, 30);
  });

  test('says EXPIRED and renewal due explicitly', () => {
    const lines = runOk(process.execPath, [CLI, '--state', stateDir, 'list']).split('\n');
    expect(lines.find((l) => l.startsWith('app/expired '))).toMatch(/\s-1[01]d\s+EXPIRED$/);
    expect(lines.find((l) => l.startsWith('app/due '))).toMatch(/\s[45]d\s+renewal due$/);
    expect(lines.find((l) => l.startsWith('app/fresh '))).toMatch(/\s2[89]d\s+ok$/);
  });

  test('fits 120 columns, a long slot wrapping within its column', () => {
    const lines = runOk(process.execPath, [CLI, '--state', stateDir, 'list']).trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    const wrapped = lines.findIndex((l) => l.startsWith('clusters/'));
    expect(lines.slice(wrapped, wrapped + 3).map((l) => l.slice(0, 40).trim()).join('')).toBe(longSlot);
  });

  test('--output json gives every certificate with its dates, status and request', () => {
    const listed = JSON.parse(runOk(process.execPath, [CLI, '--state', stateDir, 'list', '--output', 'json']));
    expect(listed.stateDirectory).toBe(stateDir);
    const expired = listed.certificates.find((c: { slot: string }) => c.slot === 'app/expired');
    const pem = JSON.parse(fs.readFileSync(path.join(stateDir, 'app/expired/certificate.json'), 'utf8')).certificate;
    expect(new Date(expired.notAfter).getTime()).toBe(new Date(new X509Certificate(pem).validTo).getTime());
    expect(expired).toMatchObject({ commonName: 'expired', isCA: true, keyAlgorithm: 'ecdsa-p256', keyGeneration: 1, status: 'expired' });
    expect(listed.certificates.map((c: { status: string }) => c.status).sort()).toEqual(['expired', 'renewal due', 'valid', 'valid']);
    expect(listed.tokens).toEqual([]);
  });

  test('a closed pipe ends it quietly, exit 0', () => {
    // python3 hands the CLI a pipe whose read end is already closed: every write fails with EPIPE.
    const closedPipe = 'import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\np = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)\nsys.stdout.write(f"{p.returncode}\\n{p.stderr.decode()}")\n';
    const result = runOk('python3', ['-c', closedPipe, process.execPath, CLI, '--state', stateDir, 'list']);
    expect(result).toBe('0\n');
  });

  test('an unknown --output is refused with the choices', () => {
    const result = run(process.execPath, [CLI, '--state', stateDir, 'list', '--output', 'yaml']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error: option '-o, --output <format>' argument 'yaml' is invalid\. Allowed choices are table, json\./);
  });
});

describe('cdk8s-pki finds the state as git finds its repository', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const app = path.join(tmp.dir, 'app');
  const env = (extra: Record<string, string> = {}) => {
    const { CDK8S_PKI_STATE_DIR: _ignored, ...rest } = process.env;
    return { ...rest, ...extra };
  };
  const cli = (cwd: string, args: string[], extra: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { cwd, env: env(extra), encoding: 'utf8' });
  beforeAll(() => {
    fs.mkdirSync(path.join(app, 'charts/nested'), { recursive: true });
    fs.writeFileSync(path.join(app, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node main.ts\n');
    const state = PkiState.inDirectory(path.join(app, '.pki'));
    state.ensure({ slot: 'app/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'app-ca' }, ca: {}, validitySeconds: 30 * DAY } });
    state.commit();
  });

  test('from a subdirectory of the app, the app directory\'s .pki', () => {
    const result = cli(path.join(app, 'charts/nested'), ['list']);
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toMatch(/^app\/ca\s+CA\s+app-ca\s/m);
  });

  test('a relative CDK8S_PKI_STATE_DIR is taken from the app directory, where synth resolves it', () => {
    fs.renameSync(path.join(app, '.pki'), path.join(app, 'state'));
    try {
      expect(cli(path.join(app, 'charts'), ['list'], { CDK8S_PKI_STATE_DIR: 'state' }).stdout).toMatch(/^app\/ca\s/m);
      const missing = cli(path.join(app, 'charts'), ['list']);
      expect([missing.status, missing.stdout, missing.stderr]).toEqual([1, '', `cdk8s-pki: no state directory ${path.join(app, '.pki')}; run \`cdk8s synth\` in the app's directory first, or name the state with --state or CDK8S_PKI_STATE_DIR\n`]);
    } finally {
      fs.renameSync(path.join(app, 'state'), path.join(app, '.pki'));
    }
  });

  test('outside any app, it says where it looked and exits 1', () => {
    const outside = fs.mkdtempSync(path.join(tmp.dir, 'elsewhere-'));
    const result = cli(outside, ['list']);
    expect([result.status, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toBe(`cdk8s-pki: no cdk8s.yaml in ${outside} or any directory above it: run cdk8s-pki in the app's directory, or name the state with --state or CDK8S_PKI_STATE_DIR\n`);
  });

  test('--version prints the version of package.json', () => {
    const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../package.json'), 'utf8'));
    expect(cli(tmp.dir, ['--version']).stdout).toBe(`${manifest.version}\n`);
  });
});

describe('cdk8s-pki export-secrets and export-node write whole trees', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const stateDir = path.join(tmp.dir, '.pki');
  const planSecret = (name: string) => {
    const state = PkiState.inDirectory(stateDir);
    recordOmittedSecret(state, 'cluster/join-token', { name, namespace: 'kube-system', type: 'Opaque', data: { token: { kind: 'text', text: `${name}-value` } } });
    state.commit();
  };
  const exportSecrets = (out: string) => run(process.execPath, [CLI, '--state', stateDir, 'export-secrets', '--out', out]);

  test('a second export replaces the first whole: a rotated token\'s old Secret is gone', () => {
    const out = path.join(tmp.dir, 'secrets');
    planSecret('bootstrap-token-aaaaaa');
    expect(exportSecrets(out).stdout).toBe(`wrote 1 Secret to ${out}: kube-system.bootstrap-token-aaaaaa.yaml\n`);
    planSecret('bootstrap-token-bbbbbb');
    expect(exportSecrets(out).status).toBe(0);
    // kubectl reads .yaml/.yml/.json files only: the marker is not applied.
    expect(fs.readdirSync(out).sort()).toEqual(['.cdk8s-pki-export', 'kube-system.bootstrap-token-bbbbbb.yaml']);
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(out, 'kube-system.bootstrap-token-bbbbbb.yaml')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(tmp.dir).filter((f) => /\.(partial|old)-/.test(f))).toEqual([]);
  });

  test('a non-empty directory that is not an earlier export is refused and left as it was', () => {
    const out = path.join(tmp.dir, 'manifests');
    fs.mkdirSync(out, { mode: 0o755 });
    fs.writeFileSync(path.join(out, 'deployment.yaml'), 'kind: Deployment\n');
    const result = exportSecrets(out);
    expect([result.status, result.stderr]).toEqual([1, `cdk8s-pki: --out: ${out} exists and is not an empty directory, nor an earlier export-secrets (which is replaced whole)\n`]);
    expect(fs.readdirSync(out)).toEqual(['deployment.yaml']);
    expect(fs.statSync(out).mode & 0o777).toBe(0o755);
  });

  test('export-node into a git work tree that does not ignore it warns; an ignored one does not', () => {
    const state = PkiState.inDirectory(stateDir);
    recordNodePlan(state, { cluster: 'app/pki', node: 'worker-1', role: 'worker', directories: [], files: [{ path: 'pki/ca.crt', mode: 0o644, content: { kind: 'text', text: 'ca' } }] });
    state.commit();
    const repo = path.join(tmp.dir, 'repo');
    fs.mkdirSync(repo);
    runOk('git', ['init', '-q'], { cwd: repo });
    fs.writeFileSync(path.join(repo, '.gitignore'), 'ignored/\n');
    const exported = run(process.execPath, [CLI, '--state', stateDir, 'export-node', 'worker-1', '--out', path.join(repo, 'worker-1')]);
    expect(exported.status).toBe(0);
    expect(exported.stderr).toBe(`cdk8s-pki: warning: ${path.join(repo, 'worker-1')} is in the git work tree ${fs.realpathSync(repo)} and nothing ignores it: its private keys could be committed with the code; write it outside the repository or add it to .gitignore\n`);
    const ignored = run(process.execPath, [CLI, '--state', stateDir, 'export-node', 'worker-1', '--out', path.join(repo, 'ignored/worker-1')]);
    expect([ignored.status, ignored.stderr]).toEqual([0, '']);
    const outside = run(process.execPath, [CLI, '--state', stateDir, 'export-node', 'worker-1', '--out', path.join(tmp.dir, 'worker-1')]);
    expect([outside.status, outside.stderr]).toEqual([0, '']);
  });
});
