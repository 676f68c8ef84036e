// `cdk8s-pki plan` on a small user app: the action and reason per slot, the nodes to re-export, the exit code of
// `terraform plan -detailed-exitcode`, and nothing written (state and dist/ fingerprinted before and after).
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import planSchema from '../../src/plan/schemas/plan.schema.json';
import { runOk } from '../support/programs';
import { fingerprint, userApp } from './support';

const app = userApp();
afterAll(() => app.cleanup());

/** The certificate a slot holds, read back from the state file by node's X509Certificate (OpenSSL). */
const certificateOf = (slot: string) => new X509Certificate(JSON.parse(fs.readFileSync(path.join(app.stateDir, slot, 'certificate.json'), 'utf8')).certificate);

/** Runs `plan` and asserts it wrote nothing to the state or dist/. */
function plan(args: string[] = [], options: { env?: Record<string, string>; faketime?: string } = {}) {
  const before = [fingerprint(app.stateDir), fingerprint(app.distDir)];
  const result = app.cli(['plan', ...args], options);
  expect([fingerprint(app.stateDir), fingerprint(app.distDir)]).toEqual(before);
  return result;
}

const lines = (text: string) => text.trimEnd().split('\n');

describe('cdk8s-pki plan', () => {
  beforeEach(() => {
    fs.rmSync(app.stateDir, { recursive: true, force: true });
    fs.rmSync(app.distDir, { recursive: true, force: true });
    app.configure();
  });

  test('before any synth: everything is issued, exit 2, and no state directory is created', () => {
    const result = plan();
    expect(result.status).toBe(2);
    expect(fs.existsSync(app.stateDir)).toBe(false);
    expect(result.stdout).toMatch(/^issue\s+demo\/pki\/ca\s+not in the state$/m);
    expect(result.stdout).toContain('then: cdk8s-pki export-node --all --out <dir>\n');
  });

  test('right after synth: exit 0, every slot kept', () => {
    expect(app.synth().status).toBe(0);
    const result = plan();
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(lines(result.stdout)).toEqual(['keep 19', 'no changes; dist/PKI.md describes the PKI']);
    const verbose = plan(['--verbose']);
    expect(verbose.stdout).toMatch(/^keep\s+worker-1\s+node bundle unchanged$/m);
    expect(verbose.stdout).toMatch(new RegExp(`^keep\\s+demo/web\\s+renewal from ${new Date(certificateOf('demo/web').validTo).getUTCFullYear()}-`, 'm'));
  });

  test('a SAN change: the apiserver certificate re-issued with the SAN named, cp-1 to re-export, exit 2', () => {
    app.synth();
    app.configure({ sans: ['10.0.0.10', '10.0.0.5'] });
    const result = plan();
    expect(result.status).toBe(2);
    expect(lines(result.stdout)).toEqual([
      'reissue  demo/pki/cp-1/apiserver  SANs +10.0.0.5',
      'export   cp-1                     plan changed; reissue demo/pki/cp-1/apiserver',
      'keep 18',
      'then: cdk8s-pki export-node cp-1 --out <dir>',
      'dist/ would change: PKI.md (modified), demo.k8s.yaml (modified), nodes/demo-pki-cp-1/manifests/kube-apiserver.yaml.review (modified)',
      'dist/PKI.md describes the result after synth',
    ]);
  });

  test('a clock inside the renewal window: each leaf renewed, with the expiry openssl reads, CAs kept', () => {
    app.synth();
    const result = plan([], { faketime: '+250d' });
    expect(result.status).toBe(2);
    const expiry = new Date(runOk('openssl', ['x509', '-noout', '-enddate'], { input: certificateOf('demo/web').toString() }).trim().replace('notAfter=', '')).toISOString();
    expect(result.stdout).toMatch(new RegExp(`^renew\\s+demo/web\\s+renewal due \\(expires ${expiry}\\); new certificate until 2028-`, 'm'));
    // Renewed: exactly the leaves, as OpenSSL reads the certificates (CA:FALSE).
    const slots = fs.readdirSync(app.stateDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('certificate.json')).map((f) => path.dirname(f));
    const leaves = slots.filter((slot) => !certificateOf(slot).ca).sort();
    expect([...result.stdout.matchAll(/^renew\s+(\S+)/gm)].map((m) => m[1])).toEqual(leaves);
    expect(result.stdout).toMatch(new RegExp(`^export\\s+cp-1\\s+plan changed; renew ${leaves.length - 1} slots$`, 'm')); // all but demo/web
    // worker-1's tree holds the cluster CA and the (never-expiring) token only: nothing of it changes.
    expect(result.stdout).toContain('then: cdk8s-pki export-node cp-1 --out <dir>\n');
    expect(result.stdout).toMatch(/^keep 6$/m);
  });

  test('a key algorithm change on a leaf: re-issued with a new key, no node to re-export', () => {
    app.synth();
    app.configure({ webKeyAlgorithm: 'ecdsa-p384' });
    const result = plan();
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^reissue\s+demo\/web\s+key algorithm ecdsa-p256 → ecdsa-p384; new key \(generation 2\)$/m);
    expect(result.stdout).not.toContain('export-node');
  });

  test('a requested token rotation: rotate, and worker-1 (whose bootstrap kubeconfig holds it) to re-export', () => {
    app.synth();
    expect(app.cli(['rotate', 'demo/pki/join-token']).status).toBe(0);
    const result = plan();
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^rotate\s+demo\/pki\/join-token\s+rotation requested$/m);
    expect(result.stdout).toMatch(/^export\s+worker-1\s+rotate demo\/pki\/join-token$/m);
    expect(result.stdout).toContain('then: cdk8s-pki export-node worker-1 --out <dir>\n');
  });

  test('--output json follows its schema and says what the text says', () => {
    app.synth();
    app.configure({ sans: ['10.0.0.10', '10.0.0.5'] });
    const result = plan(['--output', 'json']);
    expect(result.status).toBe(2);
    const report = JSON.parse(result.stdout);
    const validate = new Ajv({ strict: true, allErrors: true, validateFormats: false }).compile(planSchema);
    const valid = validate(report);
    expect(validate.errors).toBeNull();
    expect(valid).toBe(true);
    for (const slot of report.slots) for (const date of [slot.renewAt, slot.notAfter].filter(Boolean)) expect(new Date(date).toISOString()).toBe(date);
    const apiserver = report.slots.find((s: { slot: string }) => s.slot === 'demo/pki/cp-1/apiserver');
    expect(apiserver).toMatchObject({ kind: 'certificate', action: 'reissue', reasons: ['SANs +10.0.0.5'], commonName: 'kube-apiserver' });
    expect(report.nodes.filter((n: { reexport: boolean }) => n.reexport).map((n: { node: string }) => n.node)).toEqual(['cp-1']);
    // PKI.md's row of the certificate, the kubeadm-config ConfigMap, and cp-1's kube-apiserver Pod (its annotations).
    expect(report.outputFiles).toEqual(['PKI.md', 'demo.k8s.yaml', 'nodes/demo-pki-cp-1/manifests/kube-apiserver.yaml.review'].map((file) => ({ path: file, change: 'modified' })));
    // The schema refuses what it does not describe.
    expect(validate({ ...report, slots: [{ ...apiserver, action: 'replace' }] })).toBe(false);
  });

  test('under CDK8S_PKI_FROZEN: the plan a frozen synth refuses to carry out', () => {
    app.synth();
    app.configure({ sans: ['10.0.0.10', '10.0.0.5'] });
    const frozen = { CDK8S_PKI_FROZEN: '1' };
    const refused = app.synth(frozen);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('demo/pki/cp-1/apiserver: SANs +10.0.0.5');
    const result = plan([], { env: frozen });
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^reissue\s+demo\/pki\/cp-1\/apiserver\s+SANs \+10\.0\.0\.5$/m);
  });

  test('on an age-encrypted state, with the identity alone (no recipients: nothing can be written)', () => {
    const identityFile = path.join(app.dir, 'identity.txt');
    if (!fs.existsSync(identityFile)) runOk('age-keygen', ['-o', identityFile]);
    const recipient = /# public key: (age1\S+)/.exec(fs.readFileSync(identityFile, 'utf8'))![1];
    expect(app.synth({ CDK8S_PKI_AGE_RECIPIENTS: recipient, CDK8S_PKI_AGE_IDENTITY_FILE: identityFile }).status).toBe(0);
    expect(fs.readFileSync(path.join(app.stateDir, 'demo/web/certificate.json')).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const env = { CDK8S_PKI_AGE_IDENTITY_FILE: identityFile };
    expect(plan([], { env }).status).toBe(0);
    app.configure({ sans: ['10.0.0.10', '10.0.0.5'] });
    const changed = plan([], { env });
    expect(changed.status).toBe(2);
    expect(changed.stdout).toMatch(/^reissue\s+demo\/pki\/cp-1\/apiserver\s+SANs \+10\.0\.0\.5$/m);
  });

  test("a failing app: exit 1, the app's error line on stderr, nothing on stdout", () => {
    app.synth();
    app.configure({ cpIp: '10.0.0.300' });
    const result = plan();
    expect([result.status, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toContain('cdk8s-pki: demo/pki: nodes[0].ip: "10.0.0.300" is not a valid IPv4 or IPv6 address\n');
    expect(lines(result.stderr).pop()).toBe('cdk8s-pki: the app (node main.js) failed with exit code 1; nothing was planned');
  });

  test('an app that commits the state by hand: refused (exit 1) rather than written', () => {
    app.synth();
    app.configure({ commitByHand: true, sans: ['10.0.0.10', '10.0.0.5'] });
    const result = plan();
    expect([result.status, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toContain('cdk8s-pki: CDK8S_PKI_PLAN_FILE is set (cdk8s-pki plan), and a plan writes nothing, but this app commits the PKI state itself; plan needs an app that calls app.synth()\n');
  });
});
