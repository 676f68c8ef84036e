// The package's public surface: the names it exports (read by TypeScript's own checker from the entry point),
// and that no public value of it, in a whole synthesized app, holds a private key.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Chart, Duration, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import * as ts from 'typescript';
import * as api from '../../constructs';
import { generateKey, issueCertificate, privateKeyToPem } from '../../src/engine';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';

const ENTRY = path.resolve(__dirname, '../../constructs/index.ts');

/** Every name the entry point exports (values and types), as the compiler resolves `export { … }` and `export * as`. */
function exportedNames(): string[] {
  const program = ts.createProgram([ENTRY], { noEmit: true, resolveJsonModule: true, esModuleInterop: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!;
  return checker.getExportsOfModule(module).map((symbol) => symbol.name).sort();
}

describe('the export list', () => {
  // A new public name is a decision: add it here on purpose.
  const VALUES = [
    'ApiServerCert', 'ApiServerEtcdClientCert', 'ApiServerKubeletClientCert', 'BootstrapToken', 'Certificate', 'CertificateSigningRequest',
    'ClusterCA', 'ClusterInfo', 'ControlPlanePki', 'DEFAULT_CA_VALIDITY', 'DEFAULT_CERTIFICATE_VALIDITY', 'DirectoryStore', 'ENV_FROZEN', 'ENV_STATE',
    'ENV_STATE_DIR', 'EtcdHealthcheckClientCert', 'EtcdPeerCert', 'EtcdServerCert', 'FrontProxyClientCert', 'KubeadmCertificate', 'Kubeconfig',
    'MemoryStore', 'NodeBootstrapRbac', 'OfflineRootCA', 'PLAINTEXT_SECRET_ANNOTATION', 'PkiState', 'PostgresStore', 'RancherIngressTLS',
    'RancherServingCertificate', 'SecretOutput', 'ServiceAccountKey', 'SignedCertificate', 'SpecError', 'StateError', 'TLS_USAGES',
    'TlsCertificate', 'bootstrap', 'certManager', 'certificatesApi', 'engine', 'kubeadm', 'pkiStateOf', 'rancher', 'reportErrors', 'synthApp', 'usePkiState',
    'useSecretOutput', 'ROTATION_PHASES',
  ];
  const TYPES = [
    'ApiServerCertProps', 'BootstrapTokenProps', 'CertificateRequest', 'CertificateSigningRequestOptions', 'CertificateSigningRequestProps', 'CertificateSpec', 'ClusterCABundleProps',
    'ClusterCAProps', 'ClusterInfoProps', 'ControlPlaneNodeProps', 'ControlPlanePkiProps', 'CsrApprover', 'CsrFromPemProps', 'EtcdMemberCertProps',
    'ExistingClusterCAProps', 'ExtendedKeyUsageName', 'ICertificateAuthority', 'IssuedCertificate', 'KeyAlgorithm', 'KeyReference',
    'KubeadmCertificateOptions', 'KubeadmCertificateProps', 'KubeconfigProps', 'NameConstraintsSpec', 'NodeBootstrapRbacProps', 'PendingChange',
    'PkiStateOptions', 'RancherIngressTLSProps', 'ServiceAccountKeyProps', 'SignedCertificateOptions', 'SignedCertificateRequest', 'SlotDecision', 'StateStore',
    'TlsBootstrapOptions', 'TlsCertificateProps', 'TlsSecretOptions', 'TokenAuthFileOptions', 'PostgresStoreOptions', 'CaRotation', 'RotationPhase', 'RotationDecision',
  ];

  test('the runtime values are exactly the pinned ones', () => {
    expect(Object.keys(api).sort()).toEqual([...VALUES].sort());
  });

  test('the declarations are the values plus the pinned types, and nothing else', () => {
    expect(exportedNames()).toEqual([...VALUES, ...TYPES].sort());
  });
});

/** Where in `value` a PEM private key or a private KeyObject sits (a property path), or undefined. */
function privateMaterialIn(value: unknown, at: string, seen = new Set<unknown>()): string | undefined {
  if (typeof value === 'string') return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value) ? at : undefined;
  if (value instanceof crypto.KeyObject) return value.type === 'private' ? at : undefined;
  if (value === null || typeof value !== 'object' || seen.has(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  const first = seen.size === 0;
  seen.add(value);
  // The state is where keys live by design; constructs are walked one by one, from the app.
  if (value instanceof api.PkiState || (!first && Construct.isConstruct(value))) return undefined;
  const entries: [string, unknown][] = value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v]) : Object.entries(value);
  // Getters of the package's classes (Certificate's) are public properties too.
  const proto = Object.getPrototypeOf(value);
  if (proto && proto !== Object.prototype && proto !== Array.prototype && !Construct.isConstruct(value)) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (descriptor.get) entries.push([name, descriptor.get.call(value)]);
    }
  }
  for (const [key, child] of entries) {
    const found = privateMaterialIn(child, `${at}.${key}`, seen);
    if (found) return found;
  }
  return undefined;
}

describe('no public property holds a private key', () => {
  // Quiet the plaintext Secret's warning.
  beforeEach(() => jest.spyOn(process.stderr, 'write').mockImplementation(() => true));
  afterEach(() => jest.restoreAllMocks());

  test('the walker finds a key wherever it is planted (so a pass means something)', () => {
    const key = generateKey('ecdsa-p256');
    expect(privateMaterialIn({ a: [{ b: privateKeyToPem(key) }] }, '')).toBe('.a.0.b');
    expect(privateMaterialIn({ a: new Map([['k', key]]) }, '')).toBe('.a.k');
    expect(privateMaterialIn({ a: crypto.createPublicKey(key) }, '')).toBeUndefined();
  });

  test('across the example app and every construct that takes or makes a key', () => {
    const app = Testing.app();
    api.usePkiState(app, api.PkiState.inMemory({ seed: 'public-api', clock: () => new Date('2026-01-15T09:00:00Z') }));
    new ExampleCluster(app, 'example', { cluster: REFERENCE_CLUSTER });
    const chart = new Chart(app, 'pieces');
    const rootKey = generateKey('ecdsa-p256');
    const root = issueCertificate({ subject: { commonName: 'offline-root' }, ca: {}, validitySeconds: 20 * 365 * 86400 }, rootKey, { privateKey: rootKey }, new Date('2026-01-15T09:00:00Z'));
    const offline = api.OfflineRootCA.fromPem({ certificatePem: root.pem, privateKeyPem: privateKeyToPem(rootKey) });
    const intermediate = new api.ClusterCA(chart, 'intermediate', { issuer: offline });
    const existing = api.ClusterCA.fromExisting(chart, 'existing', { certificatePem: root.pem, privateKeyPem: privateKeyToPem(rootKey) });
    const leaf = new api.TlsCertificate(chart, 'leaf', { ca: intermediate, commonName: 'leaf', dnsNames: ['leaf.example.com'], secret: { secretOutput: api.SecretOutput.plaintext() } });
    new api.Kubeconfig(chart, 'ops', { ca: existing, server: 'https://api.example.com:6443', userName: 'ops', validity: Duration.days(30) });
    new api.CertificateSigningRequest(chart, 'csr', { signerName: 'example.com/my-signer', commonName: 'custom', usages: ['digital signature', 'client auth'] });
    new api.RancherIngressTLS(chart, 'rancher', {
      hostname: 'leaf.example.com',
      mode: 'secret',
      certificate: api.RancherServingCertificate.fromPem({ certificateChainPem: leaf.fullChainPem, privateKeyPem: privateKeyToPem(api.pkiStateOf(app).privateKey(leaf.keyReference.slot, leaf.keyReference.generation)) }),
      cacertsPem: intermediate.trustBundlePem,
      version: '2.12.3',
    });
    api.synthApp(app);

    const exported = Object.values(api as Record<string, unknown>).filter((v): v is abstract new (...args: never[]) => unknown => typeof v === 'function');
    const constructs = app.node.findAll().filter((c) => exported.some((cls) => c instanceof cls));
    // Every kind of construct that holds a key by reference is in the walk.
    const kinds = new Set(constructs.map((c) => c.constructor.name));
    for (const kind of ['ClusterCA', 'TlsCertificate', 'KubeadmCertificate', 'Kubeconfig', 'ServiceAccountKey', 'BootstrapToken', 'CertificateSigningRequest', 'RancherIngressTLS', 'ControlPlanePki']) {
      expect(kinds).toContain(kind);
    }
    for (const construct of [...constructs, offline]) {
      expect(privateMaterialIn(construct, construct instanceof Construct ? construct.node.path : 'OfflineRootCA')).toBeUndefined();
    }
  });
});
