import * as fs from 'node:fs';
import { WorkloadCertificates } from '../../examples/workload-certificates/main';
import { synthExample } from '../support/example-app';
import { showsWhole } from '../support/example-readme';
import { expectValidManifests } from '../support/kubernetes-schema';
import { run, runOk, tempDir } from '../support/programs';
import { Document, exportedSecrets, secretValue } from '../support/example-checks';
import { curlHttps, startRecordingServer } from '../support/tls-server';

/** The documents of the example's one manifest file, by kind and name. */
function synth() {
  let chart!: WorkloadCertificates;
  const { app, state, files } = synthExample((a) => (chart = new WorkloadCertificates(a, 'workload-certificates')));
  fs.rmSync(app.outdir, { recursive: true, force: true });
  const documents = files['workload-certificates.k8s.yaml'] as Document[];
  const find = (kind: string, name: string) => documents.find((doc) => doc.kind === kind && doc.metadata.name === name)!;
  return { chart, state, files, documents, find };
}

/**
 * What cert-manager's CA issuer does with a Certificate, done with openssl: a new ECDSA P-256 key, and a
 * certificate for the Certificate's DNS names and usages signed with the key pair of the issuer's Secret.
 */
function issueAsCertManager(issuerSecret: Document, dnsNames: string[], dir: ReturnType<typeof tempDir>): { crt: string; key: string } {
  const caCrt = dir.file('ca-tls.crt', secretValue([issuerSecret], issuerSecret.metadata.name, 'tls.crt'));
  const caKey = dir.file('ca-tls.key', secretValue([issuerSecret], issuerSecret.metadata.name, 'tls.key'));
  const key = dir.file('leaf.key');
  runOk('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  const csr = runOk('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${dnsNames[0]}`]);
  const extensions = dir.file(
    'leaf.ext',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${dnsNames.map((name) => `DNS:${name}`).join(',')}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  const crt = runOk('openssl', ['x509', '-req', '-CA', caCrt, '-CAkey', caKey, '-set_serial', '0x1d', '-days', '2', '-extfile', extensions], { input: csr });
  return { crt, key: fs.readFileSync(key, 'utf8') };
}

describe('examples/workload-certificates', () => {
  const example = synth();
  const certificate = example.find('Certificate', 'orders-tls');
  const bundle = example.find('Bundle', 'workload-ca');
  const issuerSecrets = exportedSecrets(example.state);

  test('synthesizes the manifests and PKI.md of the walk-through, main.ts shown whole', () => {
    expect(Object.keys(example.files).sort()).toEqual(['PKI.md', 'workload-certificates.k8s.yaml']);
    expect(example.files).toMatchSnapshot();
    expect(showsWhole('workload-certificates', 'main.ts')).toBe(true);
  });

  test('the cert-manager and trust-manager objects validate against their CRDs, the rest against the Kubernetes schema', () => {
    expect(example.documents.map((doc) => `${doc.apiVersion} ${doc.kind}`)).toEqual(
      expect.arrayContaining(['cert-manager.io/v1 ClusterIssuer', 'cert-manager.io/v1 Certificate', 'trust.cert-manager.io/v1alpha1 Bundle', 'apps/v1 Deployment', 'batch/v1 Job']),
    );
    expectValidManifests(example.documents);
    // The CA key pair is left out of the manifests; `cdk8s-pki export-secrets` writes it into cert-manager's namespace.
    expect(issuerSecrets.map((doc) => `${doc.type} ${doc.metadata.namespace}/${doc.metadata.name}`)).toEqual(['kubernetes.io/tls cert-manager/workload-ca-key-pair']);
    expectValidManifests(issuerSecrets);
    expect(example.documents.filter((doc) => doc.kind === 'Secret' || doc.kind === 'SealedSecret')).toEqual([]);
  });

  test('the pieces are wired: issuer → Certificate → the server mounts its Secret; Bundle → the client mounts its ConfigMap and calls a name of the Certificate', () => {
    expect(example.find('ClusterIssuer', 'workload-ca').spec).toEqual({ ca: { secretName: 'workload-ca-key-pair' } });
    expect(certificate.spec.issuerRef).toEqual({ name: 'workload-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    const server = example.find('Deployment', 'orders').spec.template.spec;
    expect(server.volumes).toContainEqual({ name: 'tls', secret: { secretName: certificate.spec.secretName } });
    const client = example.find('Job', 'orders-check').spec.template.spec;
    expect(client.volumes).toEqual([{ name: 'workload-ca', configMap: { name: 'workload-ca' } }]);
    expect(bundle.spec.target.configMap).toEqual({ key: 'ca.crt' });
    expect(bundle.spec.target.namespaceSelector.matchExpressions[0].values).toEqual(['shop', 'storefront']);
    const args: string[] = client.containers[0].args;
    expect(args[args.indexOf('--cacert') + 1]).toBe('/etc/workload-ca/ca.crt');
    expect(certificate.spec.dnsNames).toContain(new URL(args.at(-1)!).hostname);
  });

  test('the Bundle distributes the CA of the issuer Secret', () => {
    const caCrt = secretValue(issuerSecrets, 'workload-ca-key-pair', 'ca.crt');
    expect(bundle.spec.sources).toEqual([{ inLine: caCrt }]);
    expect(secretValue(issuerSecrets, 'workload-ca-key-pair', 'tls.crt')).toBe(caCrt); // a root: its own chain
    const subject = runOk('openssl', ['x509', '-noout', '-subject'], { input: caCrt }).trim();
    expect(subject).toBe('subject=CN = Example Workload CA');
    // tls.key is the key of tls.crt, as cert-manager requires of a CA issuer's Secret.
    const keyPem = secretValue(issuerSecrets, 'workload-ca-key-pair', 'tls.key');
    expect(runOk('openssl', ['pkey', '-pubout'], { input: keyPem })).toBe(runOk('openssl', ['x509', '-noout', '-pubkey'], { input: caCrt }));
  });

  test('a certificate signed as cert-manager signs it verifies for the Service names against the bundle, and curl with the bundle accepts it', async () => {
    const tmp = tempDir('cdk8s-pki-workload-');
    try {
      const issued = issueAsCertManager(issuerSecrets[0], certificate.spec.dnsNames, tmp);
      const bundleFile = tmp.file('ca.crt', bundle.spec.sources[0].inLine);
      const leafFile = tmp.file('orders-tls.crt', issued.crt);
      for (const name of certificate.spec.dnsNames as string[]) {
        const verified = run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', name, '-CAfile', bundleFile, leafFile]);
        expect(verified.stdout.trim()).toBe(`${leafFile}: OK`);
      }
      const server = await startRecordingServer({ cert: issued.crt, key: issued.key, body: 'orders\n' });
      try {
        expect(await curlHttps({ cacert: bundleFile }, 'orders.shop.svc', server.port)).toMatchObject({ status: 0, stdout: 'orders\n' });
        // The control: a name the certificate does not carry is refused (curl exit 60).
        expect((await curlHttps({ cacert: bundleFile }, 'orders.other.svc', server.port)).status).toBe(60);
      } finally {
        await server.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
