// The secret output policy, end to end: what each mode synthesizes, that a controller (python3-cryptography,
// not our code) opens what we seal for each scope, that sealed values do not churn, and the CLI that writes
// omitted Secrets.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { ClusterCA, PkiState, SecretOutput, TlsCertificate, usePkiState, useSecretOutput } from '../../constructs';
import { emitSecret } from '../../constructs/secret-output';
import { PlannedSecret } from '../../src/secrets/secret-plan';
import { renderContent } from '../../src/content/planned-content';
import { expectValidManifests } from '../support/kubernetes-schema';
import { run, runOk, tempDir } from '../support/programs';
import { controller, unseal } from '../support/sealed-secrets-controller';

const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const T0 = new Date('2026-03-01T12:00:00Z');

type Manifest = { kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string> };

/** The annotations other than the certificate's own (`pki.cdk8s.io/tls.*`, checked against openssl in test/annotations/). */
const besidesCertificate = (annotations: Record<string, string> = {}) => Object.fromEntries(Object.entries(annotations).filter(([key]) => !key.startsWith('pki.cdk8s.io/tls.')));

describe('secret output policy', () => {
  let tmp: ReturnType<typeof tempDir>;
  let rsa: { cert: string; key: string };
  let ec: { cert: string; key: string };
  beforeAll(() => {
    tmp = tempDir();
    rsa = controller(tmp.dir, 'controller', ['-newkey', 'rsa:2048']);
    ec = controller(tmp.dir, 'ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  });
  afterAll(() => tmp.cleanup());

  /** A server certificate from a CA, and its kubernetes.io/tls Secret planned with the key by reference. */
  function tlsSecret(state: PkiState, policy: SecretOutput) {
    const app = Testing.app();
    usePkiState(app, state);
    const chart = new Chart(app, 'test');
    const ca = new ClusterCA(chart, 'ca');
    const leaf = new TlsCertificate(chart, 'web', { ca, commonName: 'web', dnsNames: ['web.example.com'], usage: 'server', secret: false });
    const secret: PlannedSecret = {
      name: 'web-tls',
      namespace: 'apps',
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': { kind: 'text', text: leaf.certificatePem }, 'tls.key': { kind: 'private-key', key: leaf.keyReference } },
    };
    emitSecret(chart, 'web-tls', secret, policy);
    const manifests = Testing.synth(chart) as Manifest[];
    state.commit();
    return { secret, manifests, object: manifests.find((m) => m.metadata.name === 'web-tls') };
  }

  test.each([
    ['strict', 'apps/web-tls', {}],
    ['namespace-wide', 'apps', { 'sealedsecrets.bitnami.com/namespace-wide': 'true' }],
    ['cluster-wide', '', { 'sealedsecrets.bitnami.com/cluster-wide': 'true' }],
  ] as const)('sealed, %s scope: the controller opens each value with label "%s"; other labels fail', (scope, label, annotations) => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const { secret, object } = tlsSecret(state, SecretOutput.sealed({ controllerCertificate: rsa.cert, scope }));
    expectValidManifests([object]);
    expect(object!.kind).toBe('SealedSecret');
    expect(besidesCertificate(object!.metadata.annotations)).toEqual(annotations);
    expect(object!.spec.template).toEqual({ metadata: { name: 'web-tls', namespace: 'apps', ...(Object.keys(annotations).length ? { annotations } : {}) }, type: 'kubernetes.io/tls' });
    const entries = Object.entries(object!.spec.encryptedData as Record<string, string>);
    expect(entries.map(([key]) => key)).toEqual(['tls.crt', 'tls.key']);
    const opened = unseal(rsa.key, entries.map(([, value]) => ({ ciphertext: Buffer.from(value, 'base64'), label })));
    expect(opened.map((o) => o.plaintext)).toEqual(entries.map(([key]) => renderContent(state, secret.data[key])));
    expect(opened[1].plaintext).toMatch(/^-{5}BEGIN EC PRIVATE KEY-{5}/);
    const wrong = unseal(rsa.key, entries.map(([, value]) => ({ ciphertext: Buffer.from(value, 'base64'), label: scope === 'cluster-wide' ? 'apps/other' : 'other/web-tls' })));
    expect(wrong.map((o) => o.error)).toEqual(['ValueError', 'ValueError']);
  });

  test('sealed values do not churn: a second synth is byte-identical; a renewed certificate re-seals tls.crt only', () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const policy = SecretOutput.sealed({ controllerCertificate: fs.readFileSync(rsa.cert, 'utf8') });
    const first = tlsSecret(state, policy).object!.spec.encryptedData;
    const second = tlsSecret(state, policy).object!.spec.encryptedData;
    expect(second).toEqual(first);
    state.requestRotation('test/web', { newKey: false });
    const renewed = tlsSecret(state, policy).object!.spec.encryptedData;
    expect(renewed['tls.key']).toBe(first['tls.key']);
    expect(renewed['tls.crt']).not.toBe(first['tls.crt']);
  });

  test('two constructs sealing Secrets of the same name (two clusters) each keep their ciphertext across synths', () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const policy = SecretOutput.sealed({ controllerCertificate: rsa.cert });
    const synthBoth = () => {
      const app = Testing.app();
      usePkiState(app, state);
      const sealedOf = (chartId: string, text: string) => {
        const chart = new Chart(app, chartId);
        emitSecret(chart, 'token', { name: 'shared', namespace: 'apps', type: 'Opaque', data: { value: { kind: 'text', text } } }, policy);
        return (Testing.synth(chart) as Manifest[])[0].spec.encryptedData.value as string;
      };
      const result = [sealedOf('east', 'east-value'), sealedOf('west', 'west-value')];
      state.commit();
      return result;
    };
    const first = synthBoth();
    expect(synthBoth()).toEqual(first);
    expect(unseal(rsa.key, first.map((c) => ({ ciphertext: Buffer.from(c, 'base64'), label: 'apps/shared' }))).map((o) => o.plaintext)).toEqual(['east-value', 'west-value']);
  });

  test('sealed with a certificate that is not RSA, or with no certificate, fails naming the construct and the field', () => {
    expect(() => tlsSecret(PkiState.inMemory(), SecretOutput.sealed({ controllerCertificate: ec.cert }))).toThrow(/^test\/web-tls: secretOutput\.controllerCertificate: .*RSA/);
    expect(() => tlsSecret(PkiState.inMemory(), SecretOutput.sealed({ controllerCertificate: path.join(tmp.dir, 'missing.crt') }))).toThrow(
      /^test\/web-tls: secretOutput\.controllerCertificate: ".*missing\.crt" is neither a PEM certificate nor a readable file \(ENOENT\)$/,
    );
  });

  test('plaintext: the Secret, annotated, and a warning on stderr naming it', () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      const { object } = tlsSecret(PkiState.inMemory(), SecretOutput.plaintext());
      expectValidManifests([object]);
      expect(object!.kind).toBe('Secret');
      expect(besidesCertificate(object!.metadata.annotations)).toEqual({ 'pki.cdk8s.io/plaintext-secret': 'true' });
      expect(Buffer.from(object!.data!['tls.key'], 'base64').toString()).toMatch(/^-{5}BEGIN EC PRIVATE KEY-{5}/);
    } finally {
      process.stderr.write = write;
    }
    expect(written).toEqual(['cdk8s-pki: warning: test/web-tls: Secret apps/web-tls is written in plaintext (SecretOutput.plaintext())\n']);
  });

  test('the app-wide policy applies where a construct does not set one; omit is the default', () => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory());
    useSecretOutput(app, SecretOutput.sealed({ controllerCertificate: rsa.cert }));
    const chart = new Chart(app, 'test');
    emitSecret(chart, 'x', { name: 'x', namespace: 'default', type: 'Opaque', data: { a: { kind: 'text', text: 'b' } } });
    expect((Testing.synth(chart) as Manifest[]).map((m) => m.kind)).toEqual(['SealedSecret']);
    const other = Testing.app();
    usePkiState(other, PkiState.inMemory());
    emitSecret(new Chart(other, 'test'), 'x', { name: 'x', namespace: 'default', type: 'Opaque', data: { a: { kind: 'text', text: 'b' } } });
    expect(Testing.synth(other.charts[0])).toEqual([]);
    state.commit();
  });

  test('omit: cdk8s-pki export-secrets writes the Secrets from a state directory, per namespace, 0600', () => {
    const stateDir = path.join(tmp.dir, 'omit-state');
    const state = PkiState.inDirectory(stateDir, { clock: () => T0 });
    const { manifests } = tlsSecret(state, SecretOutput.omit());
    expect(manifests.map((m) => m.kind)).toEqual(['ConfigMap']); // the CA bundle only
    const out = path.join(tmp.dir, 'exported');
    expect(runOk(process.execPath, [CLI, '--state', stateDir, 'export-secrets', '--namespace', 'apps', '--out', out])).toBe(`wrote 1 Secret to ${out}: apps.web-tls.yaml\n`);
    const file = path.join(out, 'apps.web-tls.yaml');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = parse(fs.readFileSync(file, 'utf8'));
    expectValidManifests([secret]);
    expect(Buffer.from(secret.data['tls.key'], 'base64').toString()).toMatch(/^-{5}BEGIN EC PRIVATE KEY-{5}/);
    const none = run(process.execPath, [CLI, '--state', stateDir, 'export-secrets', '--namespace', 'other', '--out', path.join(tmp.dir, 'none')]);
    expect([none.status, none.stderr]).toEqual([1, 'cdk8s-pki: --namespace: the state holds no omitted Secrets in namespace other; run synth first\n']);
  });
});
