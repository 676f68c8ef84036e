// `cdk8s-pki renew`: kubeadm's `certs renew` counterpart. Checked by the next synth's certificates (node's
// X509Certificate): a new serial, the same public key unless --rotate-keys; and by what a refusal leaves.
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fingerprint, userApp } from './support';

const app = userApp();
afterAll(() => app.cleanup());
beforeAll(() => expect(app.synth().status).toBe(0));

const certificateOf = (slot: string) => new X509Certificate(JSON.parse(fs.readFileSync(path.join(app.stateDir, slot, 'certificate.json'), 'utf8')).certificate);
const leafSlots = () =>
  fs
    .readdirSync(app.stateDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('certificate.json'))
    .map((f) => path.dirname(f))
    .filter((slot) => !certificateOf(slot).ca)
    .sort();

test('renew <slot>: the next synth re-issues it with the same key, and nothing else', () => {
  const before = certificateOf('demo/web');
  const ca = certificateOf('demo/web-ca');
  const result = app.cli(['renew', 'demo/web']);
  expect([result.status, result.stdout]).toEqual([0, '1 certificate: renewal requested; run `cdk8s synth` to carry it out (`cdk8s-pki plan` shows it)\n']);
  expect(app.cli(['plan']).stdout).toMatch(/^renew\s+demo\/web\s+renewal requested; new certificate until /m);
  expect(app.synth().status).toBe(0);
  const after = certificateOf('demo/web');
  expect(after.serialNumber).not.toBe(before.serialNumber);
  expect(after.publicKey.export({ type: 'spki', format: 'der' })).toEqual(before.publicKey.export({ type: 'spki', format: 'der' }));
  expect(certificateOf('demo/web-ca').raw).toEqual(ca.raw);
});

test('renew --all --rotate-keys: every leaf gets a new key at the next synth, every CA is kept', () => {
  const leaves = leafSlots();
  const keys = new Map(leaves.map((slot) => [slot, certificateOf(slot).publicKey.export({ type: 'spki', format: 'der' })]));
  const cas = fs.readdirSync(app.stateDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('certificate.json')).map((f) => path.dirname(f)).filter((s) => !leaves.includes(s));
  const caBytes = new Map(cas.map((slot) => [slot, certificateOf(slot).raw]));
  expect(app.cli(['renew', '--all', '--rotate-keys']).stdout).toBe(`${leaves.length} certificates: key rotation requested; run \`cdk8s synth\` to carry it out (\`cdk8s-pki plan\` shows it)\n`);
  const plan = app.cli(['plan']);
  expect([...plan.stdout.matchAll(/^rotate\s+(\S+)\s+key rotation requested; new key/gm)].map((m) => m[1])).toEqual(leaves);
  expect(app.synth().status).toBe(0);
  for (const slot of leaves) expect(certificateOf(slot).publicKey.export({ type: 'spki', format: 'der' })).not.toEqual(keys.get(slot));
  for (const slot of cas) expect(certificateOf(slot).raw).toEqual(caBytes.get(slot));
});

test('refusals check every slot first and write nothing: a CA (naming rotate), a token, an unknown slot, frozen', () => {
  const before = fingerprint(app.stateDir);
  const refuse = (args: string[], env: Record<string, string> = {}) => {
    const result = app.cli(['renew', ...args], { env });
    expect([result.status, result.stdout]).toEqual([1, '']);
    return result.stderr;
  };
  expect(refuse(['demo/web', 'demo/pki/ca'])).toBe('cdk8s-pki: "demo/pki/ca" is a CA, and renew re-issues leaves only; re-issue the CA with `cdk8s-pki rotate demo/pki/ca` (a new CA key comes through the phases of a rotation: `rotation` / `caRotation`)\n');
  expect(refuse(['demo/pki/join-token'])).toBe('cdk8s-pki: "demo/pki/join-token" is a token, with no certificate to renew; give it a new value with `cdk8s-pki rotate demo/pki/join-token`\n');
  expect(refuse(['demo/web', 'demo/nope'])).toBe(`cdk8s-pki: no certificate "demo/nope" in the state directory ${app.stateDir}; \`cdk8s-pki list\` shows the slots\n`);
  expect(refuse(['--all'], { CDK8S_PKI_FROZEN: '1' })).toMatch(/is frozen \(CDK8S_PKI_FROZEN\), and renew writes it/);
  expect(refuse([])).toBe('cdk8s-pki: renew: name the certificates to renew, or --all\n');
  expect(fingerprint(app.stateDir)).toEqual(before);
  expect(app.cli(['plan']).status).toBe(0);
});
