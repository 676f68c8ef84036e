import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PkiState } from '../src/state/pki-state';
import { run, runOk, tempDir } from './support/programs';

const CLI = path.resolve(__dirname, '../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const DAY = 86400;

describe('cdk8s-pki CLI', () => {
  const tmp = tempDir();
  const stateDir = path.join(tmp.dir, '.pki');
  afterAll(() => tmp.cleanup());

  const synth = () => {
    const state = PkiState.inDirectory(stateDir);
    const ca = state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: 3650 * DAY } });
    const leaf = state.ensure({
      slot: 'cluster/apiserver',
      keyAlgorithm: 'ecdsa-p256',
      spec: { subject: { commonName: 'kube-apiserver' }, extendedKeyUsage: ['serverAuth'], validitySeconds: 365 * DAY },
      issuer: { certificate: ca.certificate, privateKey: ca.privateKey, chain: [] },
    });
    state.commit();
    return { state, ca, leaf };
  };

  test('list shows every certificate with its expiry', () => {
    synth();
    const result = run(process.execPath, [CLI, '--state', stateDir, 'list']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SLOT\s+COMMON NAME\s+CA\s+ISSUER\s+KEY\s+NOT AFTER\s+LEFT\s+REQUESTED/);
    expect(lines[1]).toMatch(/^cluster\/apiserver\s+kube-apiserver\s+kubernetes\s+ecdsa-p256 #1\s+\S+Z\s+36[45]d/);
    expect(lines[2]).toMatch(/^cluster\/ca\s+kubernetes\s+yes\s+kubernetes\s+ecdsa-p256 #1\s+\S+Z\s+3649d/);
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
    expect(list.stdout).toMatch(/^cluster\/ca\s+kubernetes\s+yes/m);
    expect(list.stdout).toContain(ca.certificate.notAfter.toISOString().replace(/\.000Z$/, 'Z'));
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
