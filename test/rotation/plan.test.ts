// A CA rotation as a reviewer and an operator see it, phase by phase, on a user app with a directory state:
// `plan` (text, and JSON against its schema), the synth summary, `list`, and `join-command`'s hashes, each
// checked against openssl's hash of the published bundle's certificates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';
import planSchema from '../../src/plan/schemas/plan.schema.json';
import { userApp } from '../plan/support';
import { runOk } from '../support/programs';

const app = userApp();
afterAll(() => app.cleanup());

const AUTHORITIES = ['demo/pki/ca', 'demo/pki/etcd-ca', 'demo/pki/front-proxy-ca', 'demo/pki/sa'];
const validatePlan = new Ajv({ strict: true, allErrors: true, validateFormats: false }).compile(planSchema);

const declare = (phase?: string) => app.configure(phase ? { caRotation: { id: '2027', phase } } : {});

/** `plan` in text and JSON: both exit alike, and the JSON is what its schema says. */
function plan() {
  const text = app.cli(['plan']);
  const json = app.cli(['plan', '--output', 'json']);
  expect([text.status, json.status]).toEqual([json.status, text.status]);
  const report = JSON.parse(json.stdout);
  expect(validatePlan(report) ? [] : validatePlan.errors).toEqual([]);
  return { status: text.status, lines: text.stdout.trimEnd().split('\n'), report };
}

/** The rows of the plan's rotation part: `<action> <slot> <transition>`, spaces squeezed. */
const rotationRows = (lines: string[]) => lines.filter((l) => /^(phase|rollback)\s/.test(l)).map((l) => l.replace(/\s+/g, ' '));

/** The kubernetes CA bundle as synth published it (the ConfigMap in dist/), one PEM per certificate. */
function publishedBundle(): string[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(app.distDir, 'demo.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  const bundle = docs.find((d) => d.kind === 'ConfigMap' && d.data?.['ca.crt'] && d.metadata.annotations?.['pki.cdk8s.io/ca.subject'] === 'CN=kubernetes');
  return bundle.data['ca.crt'].match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g);
}

/** kubeadm's --discovery-token-ca-cert-hash of a certificate, by openssl: SHA-256 of its SubjectPublicKeyInfo DER. */
const opensslHash = (pem: string) => `sha256:${runOk('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum'], { input: pem }).split(' ')[0]}`;

/** The hashes `join-command worker-1` prints, in order. */
function joinHashes(): string[] {
  const result = app.cli(['join-command', 'worker-1']);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^kubeadm join api\.demo\.internal:6443 --token [a-z0-9]{6}\.[a-z0-9]{16}( --discovery-token-ca-cert-hash sha256:[0-9a-f]{64})+\n$/);
  return [...result.stdout.matchAll(/--discovery-token-ca-cert-hash (\S+)/g)].map((m) => m[1]);
}

test('before a rotation: the plan has no rotation part and join-command pins the one CA', () => {
  expect(app.synth().status).toBe(0);
  const { status, lines, report } = plan();
  expect(status).toBe(0);
  expect(rotationRows(lines)).toEqual([]);
  expect(report.rotations.filter((r: { action: string }) => r.action !== 'keep')).toEqual([]);
  expect(joinHashes()).toEqual(publishedBundle().map(opensslHash));
  expect(joinHashes()).toHaveLength(1);
});

test('trust-both: the plan names each authority\'s start first, re-issues nothing, and says what the phase does', () => {
  declare('trust-both');
  const { status, lines, report } = plan();
  expect(status).toBe(2);
  expect(rotationRows(lines)).toEqual(AUTHORITIES.map((slot) => `phase ${slot} rotation 2027: none → trust-both`));
  expect(lines.slice(0, AUTHORITIES.length).map((l) => l.replace(/\s+/g, ' '))).toEqual(rotationRows(lines)); // before the certificate decisions
  expect(lines.filter((l) => /^(reissue|renew|rotate)\s/.test(l))).toEqual([]);
  expect(lines).toContain('trust-both (CA): a new CA (new key) beside the old one; every bundle trusts both; the old CA still signs, nothing is re-issued');
  expect(report.rotations.filter((r: { action: string }) => r.action === 'start').map((r: { slot: string }) => r.slot).sort()).toEqual(AUTHORITIES);
  expect(report.rotations.find((r: { slot: string }) => r.slot === 'demo/pki/ca')).toEqual({ slot: 'demo/pki/ca', kind: 'certificate-authority', id: '2027', from: 'none', to: 'trust-both', action: 'start' });
});

test('trust-both: the synth summary says each transition; then the plan is empty, and join-command pins both CAs, old first', () => {
  const before = publishedBundle();
  const result = app.synth();
  expect(result.status).toBe(0);
  for (const slot of AUTHORITIES) expect(result.stderr).toContain(`cdk8s-pki: ${slot}: rotation 2027: none → trust-both\n`);
  const again = plan();
  expect([again.status, rotationRows(again.lines)]).toEqual([0, []]);
  expect(again.report.rotations.map((r: { action: string; to: string }) => `${r.action} ${r.to}`)).toEqual(AUTHORITIES.map(() => 'keep trust-both'));
  // --verbose names the phase each authority stays in.
  expect(app.cli(['plan', '--verbose']).stdout).toMatch(/^keep\s+demo\/pki\/ca\s+rotation 2027: trust-both$/m);
  const bundle = publishedBundle();
  expect(bundle).toHaveLength(2);
  expect(bundle[0]).toBe(before[0]); // the old CA, which still signs, first
  expect(joinHashes()).toEqual(bundle.map(opensslHash));
});

test('list shows the phase of each rotating CA', () => {
  const text = app.cli(['list']);
  expect(text.status).toBe(0);
  expect(Math.max(...text.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(120);
  for (const slot of AUTHORITIES) expect(text.stdout).toMatch(new RegExp(`^rotation ${slot}: 2027 trust-both\\b`, 'm'));
  const json = JSON.parse(app.cli(['list', '--output', 'json']).stdout);
  expect(json.rotations.find((r: { slot: string }) => r.slot === 'demo/pki/ca')).toMatchObject({ slot: 'demo/pki/ca', kind: 'certificate-authority', id: '2027', phase: 'trust-both', signing: { keyGeneration: 1 }, trustedBeside: { keyGeneration: 2 }, archived: [] });
});

test('issue-from-new: the transitions first, then each leaf of the old CAs re-issued (issuer changed); the new CA pinned first', () => {
  declare('issue-from-new');
  const { status, lines } = plan();
  expect(status).toBe(2);
  expect(rotationRows(lines)).toEqual(AUTHORITIES.map((slot) => `phase ${slot} rotation 2027: trust-both → issue-from-new`));
  expect(lines).toContainEqual(expect.stringMatching(/^reissue\s+demo\/pki\/cp-1\/apiserver\s+issuer changed$/));
  const old = publishedBundle();
  expect(app.synth().status).toBe(0);
  const bundle = publishedBundle();
  expect(bundle).toEqual([old[1], old[0]]);
  expect(joinHashes()).toEqual(bundle.map(opensslHash));
});

test('back to trust-both: named a rollback in the plan and the summary', () => {
  declare('trust-both');
  const { status, lines, report } = plan();
  expect(status).toBe(2);
  expect(rotationRows(lines)).toEqual(AUTHORITIES.map((slot) => `rollback ${slot} rotation 2027 rolled back: issue-from-new → trust-both`));
  expect(report.rotations.map((r: { action: string; from: string; to: string }) => `${r.action} ${r.from} ${r.to}`)).toEqual(AUTHORITIES.map(() => 'rollback issue-from-new trust-both'));
  expect(lines).toContain('back to trust-both (CA): the old CA signs again: the leaves are re-issued by it; bundles as in trust-both');
  const result = app.synth();
  expect(result.status).toBe(0);
  expect(result.stderr).toContain('cdk8s-pki: demo/pki/ca: rotation 2027 rolled back: issue-from-new → trust-both\n');
});

test('drop-old: the old CA leaves the bundle and join-command pins the new one only; list shows the archived CA', () => {
  declare('issue-from-new');
  expect(app.synth().status).toBe(0);
  const signing = publishedBundle()[0];
  declare('drop-old');
  expect(rotationRows(plan().lines)).toEqual(AUTHORITIES.map((slot) => `phase ${slot} rotation 2027: issue-from-new → drop-old`));
  expect(app.synth().status).toBe(0);
  expect(publishedBundle()).toEqual([signing]);
  expect(joinHashes()).toEqual([opensslHash(signing)]);
  const list = app.cli(['list']).stdout;
  expect(list).toMatch(/^archived demo\/pki\/ca: /m);
  const json = JSON.parse(app.cli(['list', '--output', 'json']).stdout);
  const ca = json.rotations.find((r: { slot: string }) => r.slot === 'demo/pki/ca');
  expect(ca).toMatchObject({ id: '2027', phase: 'drop-old', signing: { keyGeneration: 2 }, archived: [{ keyGeneration: 1, keyFile: 'demo/pki/ca/key-1.pem', why: 'dropped', rotation: '2027' }] });
  expect(ca.trustedBeside).toBeUndefined();
  // The archived CA's key file is still in the slot.
  expect(fs.existsSync(path.join(app.stateDir, 'demo/pki/ca/key-1.pem'))).toBe(true);
});
