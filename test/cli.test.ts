import * as path from 'node:path';
import { PkiState } from '../src/state/pki-state';
import { run, tempDir } from './support/programs';

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
    expect(result.stderr).toBe(`cdk8s-pki: no certificate or secret "cluster/nope" in the state directory ${stateDir}; \`cdk8s-pki list\` shows the slots\n`);
  });
});
