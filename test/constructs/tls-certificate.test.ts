// Where a TlsCertificate goes: a kubernetes.io/tls Secret under the secret output policy, judged by kubectl
// (which refuses a key that does not match its certificate) and openssl.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Duration, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { ClusterCA, PkiState, SecretOutput, TlsCertificate, TlsCertificateProps, usePkiState } from '../../constructs';
import { exportSecrets, omittedSecrets } from '../../src/secrets/secret-plan';
import { expectValidManifests } from '../support/kubernetes-schema';
import { runOk, tempDir } from '../support/programs';

function build(secret?: TlsCertificateProps['secret']) {
  const app = Testing.app();
  const state = usePkiState(app, PkiState.inMemory());
  const chart = new Chart(app, 'apps', { namespace: 'web' });
  const root = new ClusterCA(chart, 'root', { commonName: 'root' });
  // Issued now (real programs check the dates), so shorter than the root it is issued a moment after.
  const ca = new ClusterCA(chart, 'issuing', { commonName: 'issuing', issuer: root, validity: Duration.days(5 * 365) });
  const certificate = new TlsCertificate(chart, 'frontend', { ca, commonName: 'frontend', dnsNames: ['frontend.web.svc'], secret });
  return { state, chart, root, certificate, manifests: Testing.synth(chart) };
}

describe('TlsCertificate delivery', () => {
  test('by default the Secret is left out of the manifests; export-secrets writes one that kubectl and openssl accept', () => {
    const tmp = tempDir();
    try {
      const { state, root, manifests } = build();
      expect(manifests.map((m) => m.kind)).toEqual(['ConfigMap', 'ConfigMap']); // the two CA bundles only
      const out = path.join(tmp.dir, 'secrets');
      expect(exportSecrets(state, out)).toEqual(['web.apps-frontend-c814de6f.yaml']);
      const secret = parse(fs.readFileSync(path.join(out, 'web.apps-frontend-c814de6f.yaml'), 'utf8'));
      expectValidManifests([secret]);
      expect(secret).toMatchObject({ kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'apps-frontend-c814de6f', namespace: 'web' } });
      const file = (key: string) => tmp.file(key, Buffer.from(secret.data[key], 'base64').toString());
      // kubectl builds a TLS Secret only from a key that matches the first certificate of the chain.
      const made = parse(runOk('kubectl', ['create', 'secret', 'tls', 'check', '--cert', file('tls.crt'), '--key', file('tls.key'), '--dry-run=client', '-o', 'yaml']));
      expect(made.data['tls.crt']).toBe(secret.data['tls.crt']);
      // tls.crt is the leaf then the issuing CA; ca.crt the issuing CA then the root: it verifies from the root.
      const rootFile = tmp.file('root.pem', root.certificatePem);
      expect(runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', rootFile, '-untrusted', file('ca.crt'), file('tls.crt')])).toContain(': OK');
    } finally {
      tmp.cleanup();
    }
  });

  test('named, sealed or plaintext as its props say; `false` delivers nothing', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const plaintext = build({ name: 'frontend-tls', secretOutput: SecretOutput.plaintext() });
      const secret = plaintext.manifests.find((m) => m.kind === 'Secret')!;
      expectValidManifests([secret]);
      expect(secret.metadata).toMatchObject({ name: 'frontend-tls', namespace: 'web' });
      expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
      expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(plaintext.certificate.fullChainPem);

      const sealed = build({ namespace: 'edge', secretOutput: SecretOutput.sealed({ controllerCertificate: 'examples/sealed-secrets-controller.crt' }) });
      const sealedSecret = sealed.manifests.find((m) => m.kind === 'SealedSecret')!;
      expect(sealedSecret.spec.template).toEqual({ metadata: { name: 'apps-frontend-c814de6f', namespace: 'edge' }, type: 'kubernetes.io/tls' });
      expect(omittedSecrets(sealed.state)).toEqual([]);

      const none = build(false);
      expect(none.manifests.map((m) => m.kind)).toEqual(['ConfigMap', 'ConfigMap']);
      expect(omittedSecrets(none.state)).toEqual([]);
    } finally {
      stderr.mockRestore();
    }
  });
});
