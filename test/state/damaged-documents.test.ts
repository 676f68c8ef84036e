// Every JSON document of the state (node plans, Secret plans, sealed values, Rancher's hostname) is checked
// against its schema when read back and before it is written: a document of the wrong shape stops the command
// or synth that reads it, naming the file and the field but never the value, and nothing is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { ClusterCA, PkiState, RancherIngressTLS, SecretOutput, TlsCertificate, usePkiState } from '../../constructs';
import { StateError } from '../../src/engine';
import { ClusterNodePlan, recordNodePlan } from '../../src/kubeadm/node-bundle';
import { recordOmittedSecret } from '../../src/secrets/secret-plan';
import { controller } from '../support/sealed-secrets-controller';
import { run, snapshotDir, tempDir } from '../support/programs';

const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const T0 = new Date('2026-03-01T12:00:00Z');
const ADVICE = 'restore it from a backup or remove it to have synth write it again';
/** A value that must never reach an error message. */
const SECRET = 'cG9pc29uZWQtdmFsdWU';
// The PEM label is built so that the tree holds no private-key marker outside fixtures.
const KEY_LABEL = ['PRIVATE', 'KEY'].join(' ');
const BROUGHT_KEY = `-----BEGIN ${KEY_LABEL}-----\n${SECRET}\n-----END ${KEY_LABEL}-----\n`;

type Json = Record<string, any>;

let tmp: ReturnType<typeof tempDir>;
let stateDir: string;
beforeEach(() => {
  tmp = tempDir();
  stateDir = path.join(tmp.dir, '.pki');
});
afterEach(() => tmp.cleanup());

/** Rewrites the document file `name` of the state with `garble` applied to what it holds. */
function garble(name: string, change: (document: Json) => void): string {
  const file = path.join(stateDir, name);
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(document);
  fs.writeFileSync(file, JSON.stringify(document));
  return file;
}

/** The command over the garbled state fails with exactly `message`, writes no output and changes no state file. */
function expectCommandRefused(args: string[], out: string, message: string) {
  const before = snapshotDir(stateDir);
  const result = run(process.execPath, [CLI, '--state', stateDir, ...args, '--out', out]);
  expect([result.status, result.stderr, result.stdout]).toEqual([1, `cdk8s-pki: ${message}\n`, '']);
  expect(result.stderr).not.toContain(SECRET);
  expect(fs.existsSync(out)).toBe(false);
  expect(snapshotDir(stateDir)).toEqual(before);
}

/** Synth over the garbled state fails with a StateError of exactly `message`, and writes nothing. */
function expectSynthRefused(synth: () => void, message: string) {
  const before = snapshotDir(tmp.dir);
  let thrown: unknown;
  try {
    synth();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(StateError);
  expect((thrown as Error).message).toBe(message);
  expect((thrown as Error).message).not.toContain(SECRET);
  expect(snapshotDir(tmp.dir)).toEqual(before);
}

describe('a node plan', () => {
  const planFile = 'nodes/example/pki/cp-1.doc.json';
  beforeEach(() => {
    const state = PkiState.inDirectory(stateDir, { clock: () => T0 });
    const plan: ClusterNodePlan = {
      cluster: 'example/pki',
      node: 'cp-1',
      role: 'control-plane',
      directories: [{ path: 'manifests', mode: 0o700 }],
      files: [
        { path: 'pki/ca.crt', mode: 0o644, content: { kind: 'text', text: 'ca' } },
        { path: 'pki/sa.key', mode: 0o600, content: { kind: 'private-key', key: { slot: 'example/pki/sa', generation: 1 } } },
      ],
    };
    recordNodePlan(state, plan);
    state.commit();
  });

  test.each([
    ['a missing field', (plan: Json) => delete plan.role, 'role: is required'],
    ['a wrong type', (plan: Json) => (plan.files[0].mode = SECRET), 'files[0].mode: must be integer'],
    ['an unknown content kind', (plan: Json) => (plan.files[0].content = { kind: SECRET, text: BROUGHT_KEY }), 'files[0].content.kind: must be equal to one of the allowed values'],
    ['a key reference of the wrong shape', (plan: Json) => (plan.files[1].content.key = { slot: 'example/pki/sa' }), 'files[1].content.key.generation: is required'],
    ['a field the plan does not have', (plan: Json) => (plan.files[0].content.token = SECRET), 'files[0].content.token: is not a known field (known: kind, text)'],
  ])('with %s stops export-node, naming the file and the field', (_, change, reason) => {
    const file = garble(planFile, change);
    expectCommandRefused(['export-node', 'cp-1'], path.join(tmp.dir, 'cp-1'), `${file} is corrupt (${reason}); ${ADVICE}`);
  });

  test('of the wrong shape is never staged: a bug cannot store a plan it would not read back', () => {
    const before = snapshotDir(stateDir);
    const state = PkiState.inDirectory(stateDir, { clock: () => T0 });
    const plan = { cluster: 'example/pki', node: 'cp-2', role: 'control-plane', directories: [], files: [{ path: 'pki/x', mode: 0o600, content: { kind: 'file', text: BROUGHT_KEY } }] };
    expect(() => recordNodePlan(state, plan as unknown as ClusterNodePlan)).toThrow(
      `${path.join(stateDir, 'nodes/example/pki/cp-2.doc.json')} would not read back (files[0].content.kind: must be equal to one of the allowed values); not written`,
    );
    state.commit();
    expect(snapshotDir(stateDir)).toEqual(before);
  });
});

describe('a Secret plan', () => {
  const planFile = 'secrets/apps/web-tls.doc.json';
  beforeEach(() => {
    const state = PkiState.inDirectory(stateDir, { clock: () => T0 });
    recordOmittedSecret(state, 'apps/web-tls', { name: 'web-tls', namespace: 'apps', type: 'kubernetes.io/tls', data: { 'tls.key': { kind: 'text', text: BROUGHT_KEY } } });
    state.commit();
  });

  test.each([
    ['a missing field', (plan: Json) => delete plan.type, 'type: is required'],
    ['a wrong type', (plan: Json) => (plan.data['tls.key'].text = 42), 'data.tls.key.text: must be string'],
    ['an unknown content kind', (plan: Json) => (plan.data['tls.key'].kind = 'pem'), 'data.tls.key.kind: must be equal to one of the allowed values'],
  ])('with %s stops export-secrets, naming the file and the field, not the key it holds', (_, change, reason) => {
    const file = garble(planFile, change);
    expectCommandRefused(['export-secrets'], path.join(tmp.dir, 'secrets'), `${file} is corrupt (${reason}); ${ADVICE}`);
  });
});

describe('the sealed values of a SealedSecret', () => {
  const synth = (certificate: string) => {
    const app = new App({ outdir: path.join(tmp.dir, 'dist') });
    usePkiState(app, PkiState.inDirectory(stateDir, { clock: () => T0 }));
    const chart = new Chart(app, 'test');
    const ca = new ClusterCA(chart, 'ca');
    new TlsCertificate(chart, 'web', { ca, commonName: 'web', dnsNames: ['web.example.com'], usage: 'server', secret: { namespace: 'apps', secretOutput: SecretOutput.sealed({ controllerCertificate: certificate }) } });
    app.synth();
  };

  test.each([
    ['a missing field', (cache: Json) => delete cache['tls.key'].fingerprint, 'tls.key.fingerprint: is required'],
    ['a wrong type', (cache: Json) => (cache['tls.key'].fingerprint = 7), 'tls.key.fingerprint: must be string'],
    ['a value that is not an entry', (cache: Json) => (cache['tls.key'] = SECRET), 'tls.key: must be object'],
  ])('with %s stops synth, naming the file and the field, not the ciphertext', (_, change, reason) => {
    const { cert } = controller(tmp.dir, 'controller', ['-newkey', 'rsa:2048']);
    synth(cert);
    const file = garble('sealed/test/web/Secret.doc.json', (cache) => {
      cache['tls.crt'].ciphertext = SECRET;
      change(cache);
    });
    expectSynthRefused(() => synth(cert), `${file} is corrupt (${reason}); ${ADVICE}`);
  });
});

describe("Rancher's recorded hostname", () => {
  const synth = () => {
    const app = new App({ outdir: path.join(tmp.dir, 'dist') });
    usePkiState(app, PkiState.inDirectory(stateDir, { clock: () => T0 }));
    new RancherIngressTLS(new Chart(app, 'cluster'), 'rancher', { hostname: 'rancher.example.com', version: '2.12.1' });
    app.synth();
  };

  test.each([
    ['a missing field', (record: Json) => delete record.hostname, 'hostname: is required'],
    ['a wrong type', (record: Json) => (record.hostname = [SECRET]), 'hostname: must be string'],
    ['a field the record does not have', (record: Json) => (record.previous = SECRET), 'previous: is not a known field (known: hostname)'],
  ])('with %s stops synth, naming the file and the field', (_, change, reason) => {
    synth();
    const file = garble('rancher-hostname/cluster/rancher.doc.json', change);
    expectSynthRefused(synth, `${file} is corrupt (${reason}); ${ADVICE}`);
  });
});
