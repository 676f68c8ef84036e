import * as crypto from 'node:crypto';
import { Chart, ChartProps, Duration, Testing } from 'cdk8s';
import {
  CaBootstrapChain,
  Certificate,
  CertificateProps,
  CertManagerUsage,
  ClusterCaIssuer,
  ClusterIssuer,
  ClusterIssuerProps,
  formatGoDuration,
  Issuer,
  parseGoDuration,
  SYNC_WAVE_ANNOTATION,
  TrustBundle,
} from '../../constructs/cert-manager';
import { ClusterCA } from '../../constructs/cluster-ca';
import { SecretOutput, useSecretOutput } from '../../constructs/secret-output';
import { usePkiState } from '../../constructs/state';
import { generateKey, issueCertificate, privateKeyToPem } from '../../src/engine';
import { PkiState } from '../../src/state/pki-state';
import { MemoryStore } from '../../src/state/store';
import { expectValidManifests, validateManifest } from '../support/kubernetes-schema';

const FIXED_CLOCK = () => new Date('2026-01-15T09:00:00Z');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  type?: string;
}

function chartWithState(props: ChartProps = {}, secretOutput?: SecretOutput): Chart {
  const app = Testing.app();
  usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'cert-manager' }));
  if (secretOutput) useSecretOutput(app, secretOutput);
  return new Chart(app, 'test', props);
}

const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];
const find = (manifests: Manifest[], kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const wave = (manifest: Manifest) => Number(manifest.metadata.annotations?.[SYNC_WAVE_ANNOTATION] ?? 0);

/** A cluster's cert-manager setup: Let's Encrypt, a bootstrapped CA, a ClusterCA offered to cert-manager, trust distribution. */
function buildCluster(chart: Chart): void {
  const letsEncrypt = new ClusterIssuer(chart, 'letsencrypt', {
    name: 'letsencrypt-production',
    acme: { server: 'letsencrypt-production', email: 'ops@example.com', solvers: [{ http01: { ingressClassName: 'nginx' } }] },
  });
  new Issuer(chart, 'letsencrypt-dns', {
    name: 'letsencrypt-staging-dns',
    namespace: 'web',
    acme: {
      server: 'letsencrypt-staging',
      email: 'ops@example.com',
      privateKeySecretRef: { name: 'letsencrypt-staging-account' },
      solvers: [
        { selector: { dnsZones: ['example.com'] }, dns01: { cloudflare: { apiTokenSecretRef: { name: 'cloudflare-api-token', key: 'api-token' } } } },
        {
          selector: { dnsZones: ['example.org'] },
          dns01: {
            route53: {
              region: 'eu-west-1',
              accessKeyIDSecretRef: { name: 'route53-credentials', key: 'access-key-id' },
              secretAccessKeySecretRef: { name: 'route53-credentials', key: 'secret-access-key' },
            },
          },
        },
        { dns01: { route53: { region: 'eu-west-1', role: 'arn:aws:iam::123456789012:role/cert-manager' } } },
        { http01: { class: 'traefik' } },
      ],
    },
  });
  new Certificate(chart, 'web', {
    issuer: letsEncrypt,
    name: 'web',
    namespace: 'web',
    dnsNames: ['www.example.com', 'example.com'],
    privateKey: { algorithm: 'ECDSA', size: 384, rotationPolicy: 'Always' },
    secretTemplate: { labels: { app: 'web' } },
  });
  const chain = new CaBootstrapChain(chart, 'internal-ca', { name: 'internal-ca', subject: { organizations: ['Example'] } });
  new Certificate(chart, 'grpc', {
    issuer: chain,
    name: 'grpc',
    namespace: 'apps',
    commonName: 'grpc.apps.svc',
    dnsNames: ['grpc.apps.svc', 'grpc.apps.svc.cluster.local'],
    ipAddresses: ['10.96.0.20'],
    uris: ['spiffe://cluster.local/ns/apps/sa/grpc'],
    duration: Duration.days(30),
    renewBefore: Duration.days(10),
    usages: ['digital signature', 'server auth', 'client auth'],
    privateKey: { algorithm: 'Ed25519', encoding: 'PKCS8' },
  });
  const clusterCa = new ClusterCA(chart, 'kubernetes-ca', { bundleNamespace: 'kube-public' });
  const offered = new ClusterCaIssuer(chart, 'kubernetes-ca-issuer', { ca: clusterCa, name: 'kubernetes-ca' });
  new Certificate(chart, 'webhook', {
    issuer: offered,
    name: 'webhook',
    namespace: 'apps',
    literalSubject: 'CN=webhook.apps.svc,O=Example',
    dnsNames: ['webhook.apps.svc'],
    duration: Duration.hours(2160),
    renewBeforePercentage: 25,
  });
  new Certificate(chart, 'external', {
    issuer: { name: 'pca', kind: 'AWSPCAClusterIssuer', group: 'awspca.cert-manager.io' },
    name: 'external',
    namespace: 'apps',
    emailAddresses: ['ops@example.com'],
  });
  new TrustBundle(chart, 'trust', { ca: clusterCa, name: 'cluster-trust', namespaceSelector: { matchLabels: { 'trust.example.com/kubernetes-ca': 'true' } } });
  new TrustBundle(chart, 'trust-from-configmap', { ca: clusterCa, name: 'cluster-trust-from-configmap', source: 'configMap' });
}

describe('a cluster with cert-manager and trust-manager objects', () => {
  test('snapshot, valid against the Kubernetes and CRD schemas, identical on a second synth', () => {
    const first = synth(buildClusterChart());
    expect(first).toMatchSnapshot();
    expectValidManifests(first);
    expect(synth(buildClusterChart())).toEqual(first);
    expect(JSON.stringify(first)).not.toMatch(/PRIVATE KEY/);
  });

  test('the validation covers every cert-manager and trust-manager kind this library writes', () => {
    const kinds = new Set(synth(buildClusterChart()).map((m) => `${m.apiVersion} ${m.kind}`));
    expect([...kinds].sort()).toEqual([
      'cert-manager.io/v1 Certificate',
      'cert-manager.io/v1 ClusterIssuer',
      'cert-manager.io/v1 Issuer',
      'trust.cert-manager.io/v1alpha1 Bundle',
      'v1 ConfigMap',
    ]);
  });

  test('the schema check is not vacuous: a misspelled field and a wrong enum value are reported', () => {
    const manifests = synth(buildClusterChart());
    const certificate = find(manifests, 'Certificate', 'web')!;
    const broken = { ...certificate, spec: { ...certificate.spec, dnsName: ['x'], privateKey: { algorithm: 'DSA' } } };
    expect(validateManifest(broken)).toEqual([
      'Certificate web/web: spec.dnsName: unknown field',
      'Certificate web/web: spec.privateKey.algorithm: must be one of "RSA", "ECDSA", "Ed25519"',
    ]);
  });

  test('durations are written as cert-manager prints them', () => {
    const manifests = synth(buildClusterChart());
    expect(find(manifests, 'Certificate', 'grpc')!.spec).toMatchObject({ duration: '720h0m0s', renewBefore: '240h0m0s' });
    expect(find(manifests, 'Certificate', 'internal-ca')!.spec.duration).toBe('87600h0m0s');
  });

  function buildClusterChart(): Chart {
    const chart = chartWithState();
    buildCluster(chart);
    return chart;
  }
});

describe('Argo CD sync waves', () => {
  test('everything an object needs is in an earlier wave: Secrets and issuers before Certificates, sources before Bundles', () => {
    const errorOutput = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const chart = chartWithState({}, SecretOutput.plaintext());
      buildCluster(chart);
      const manifests = synth(chart);
      const waveOf = (kind: string, name: string) => {
        const object = find(manifests, kind, name);
        if (!object) throw new Error(`no ${kind} ${name}`);
        return wave(object);
      };
      const dependencies: [string, string, number][] = [];
      for (const m of manifests) {
        const ref = m.spec?.issuerRef;
        if (m.kind === 'Certificate' && ref.group === 'cert-manager.io') dependencies.push([`Certificate ${m.metadata.name}`, `${ref.kind} ${ref.name}`, waveOf(ref.kind, ref.name)]);
        const secretName = m.spec?.ca?.secretName;
        if (secretName) {
          const producer = find(manifests, 'Secret', secretName) ?? manifests.find((c) => c.kind === 'Certificate' && c.spec.secretName === secretName)!;
          dependencies.push([`${m.kind} ${m.metadata.name}`, `${producer.kind} ${producer.metadata.name}`, wave(producer)]);
        }
        for (const source of m.kind === 'Bundle' ? m.spec.sources : []) {
          if (source.configMap) dependencies.push([`Bundle ${m.metadata.name}`, `ConfigMap ${source.configMap.name}`, waveOf('ConfigMap', source.configMap.name)]);
        }
      }
      const late = dependencies.filter(([dependent, , neededWave]) => {
        const [kind, name] = dependent.split(' ');
        return waveOf(kind, name) <= neededWave;
      });
      expect(late).toEqual([]);
      expect(dependencies.length).toBe(7);

      const certificateWaves = manifests.filter((m) => m.kind === 'Certificate' && !m.spec.isCA).map(wave);
      const earlierWaves = manifests.filter((m) => ['Bundle', 'Issuer', 'ClusterIssuer', 'Secret'].includes(m.kind)).map(wave);
      expect(Math.max(...earlierWaves)).toBeLessThan(Math.min(...certificateWaves));
    } finally {
      errorOutput.mockRestore();
    }
  });

  test('the waves in the manifests are the ones of the table', () => {
    const chart = chartWithState();
    buildCluster(chart);
    const waves = Object.fromEntries(synth(chart).map((m) => [`${m.kind} ${m.metadata.name}`, m.metadata.annotations?.[SYNC_WAVE_ANNOTATION]]));
    expect(waves).toMatchObject({
      'ClusterIssuer internal-ca-selfsigned': '-15',
      'Certificate internal-ca': '-10',
      'ClusterIssuer internal-ca': '-5',
      'ClusterIssuer letsencrypt-production': '-5',
      'Bundle cluster-trust': '-5',
      'Bundle cluster-trust-from-configmap': '-5',
      'ConfigMap cluster-trust-from-configmap-source': '-15',
      'Certificate grpc': '0',
    });
  });

  test('an explicit syncWave overrides the table', () => {
    const chart = chartWithState();
    const issuer = new ClusterIssuer(chart, 'self', { selfSigned: true, syncWave: -30 });
    new Certificate(chart, 'cert', { issuer, dnsNames: ['a.example.com'], syncWave: 5 });
    expect(synth(chart).map((m) => m.metadata.annotations![SYNC_WAVE_ANNOTATION])).toEqual(['-30', '5']);
  });
});

describe('ACME servers', () => {
  test.each([
    ['letsencrypt-production', 'https://acme-v02.api.letsencrypt.org/directory'],
    ['letsencrypt-staging', 'https://acme-staging-v02.api.letsencrypt.org/directory'],
    ['https://acme.zerossl.com/v2/DV90', 'https://acme.zerossl.com/v2/DV90'],
  ])('%s is written as %s', (server, url) => {
    const chart = chartWithState();
    new ClusterIssuer(chart, 'acme', { name: 'acme', acme: { server, email: 'ops@example.com', solvers: [{ http01: {} }] } });
    const [issuer] = synth(chart);
    expect(issuer.spec).toEqual({
      acme: { server: url, email: 'ops@example.com', privateKeySecretRef: { name: 'acme-acme-account' }, solvers: [{ http01: { ingress: {} } }] },
    });
    expectValidManifests([issuer]);
  });
});

describe('the CA chain objects', () => {
  test('CaBootstrapChain: selfSigned ClusterIssuer, CA Certificate in the cluster resource namespace, CA ClusterIssuer on its Secret', () => {
    const chart = chartWithState({ namespace: 'apps' });
    const chain = new CaBootstrapChain(chart, 'chain', { name: 'platform-ca', commonName: 'Platform CA' });
    new Certificate(chart, 'leaf', { issuer: chain, name: 'leaf', dnsNames: ['leaf.apps.svc'] });
    const manifests = synth(chart);
    expectValidManifests(manifests);
    expect(manifests.map((m) => ({ kind: m.kind, metadata: m.metadata, spec: m.spec }))).toEqual([
      { kind: 'ClusterIssuer', metadata: { name: 'platform-ca-selfsigned', annotations: { [SYNC_WAVE_ANNOTATION]: '-15' } }, spec: { selfSigned: {} } },
      {
        kind: 'Certificate',
        metadata: { name: 'platform-ca', namespace: 'cert-manager', annotations: { [SYNC_WAVE_ANNOTATION]: '-10' } },
        spec: {
          isCA: true,
          commonName: 'Platform CA',
          secretName: 'platform-ca-key-pair',
          duration: '87600h0m0s',
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
          issuerRef: { name: 'platform-ca-selfsigned', kind: 'ClusterIssuer', group: 'cert-manager.io' },
        },
      },
      { kind: 'ClusterIssuer', metadata: { name: 'platform-ca', annotations: { [SYNC_WAVE_ANNOTATION]: '-5' } }, spec: { ca: { secretName: 'platform-ca-key-pair' } } },
      {
        kind: 'Certificate',
        metadata: { name: 'leaf', namespace: 'apps', annotations: { [SYNC_WAVE_ANNOTATION]: '0' } },
        spec: { secretName: 'leaf', dnsNames: ['leaf.apps.svc'], issuerRef: { name: 'platform-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
      },
    ]);
  });

  test('CaBootstrapChain: a partial privateKey keeps the ECDSA P-256 default; another algorithm drops its size', () => {
    const chart = chartWithState();
    const keyOf = (id: string, privateKey: NonNullable<ConstructorParameters<typeof CaBootstrapChain>[2]>['privateKey']) => {
      new CaBootstrapChain(chart, id, { name: id, privateKey });
      return synth(chart).find((m) => m.kind === 'Certificate' && m.metadata.name === id)!.spec.privateKey;
    };
    expect(keyOf('pkcs8', { encoding: 'PKCS8' })).toEqual({ algorithm: 'ECDSA', size: 256, encoding: 'PKCS8', rotationPolicy: 'Never' });
    expect(keyOf('p384', { algorithm: 'ECDSA', size: 384 })).toEqual({ algorithm: 'ECDSA', size: 384, rotationPolicy: 'Never' });
    expect(keyOf('rsa', { algorithm: 'RSA', size: 4096 })).toEqual({ algorithm: 'RSA', size: 4096, rotationPolicy: 'Never' });
  });

  describe('ClusterCaIssuer', () => {
    const captureWarnings = () => jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

    test('plaintext output: a kubernetes.io/tls Secret with the CA, its key and the root, then a ca ClusterIssuer', () => {
      const warnings = captureWarnings();
      try {
        const chart = chartWithState({}, SecretOutput.plaintext());
        const root = new ClusterCA(chart, 'root', { commonName: 'root' });
        const intermediate = new ClusterCA(chart, 'intermediate', { commonName: 'intermediate', issuer: root });
        const offered = new ClusterCaIssuer(chart, 'issuer', { ca: intermediate, name: 'intermediate' });
        const manifests = synth(chart);
        expectValidManifests(manifests);
        const secret = find(manifests, 'Secret', 'intermediate-key-pair')!;
        expect(secret).toMatchObject({ type: 'kubernetes.io/tls', metadata: { namespace: 'cert-manager', annotations: { [SYNC_WAVE_ANNOTATION]: '-15' } } });
        const data = Object.fromEntries(Object.entries(secret.data!).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
        expect(Object.keys(data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
        expect(data['tls.crt']).toBe(intermediate.certificatePem + root.certificatePem);
        expect(data['ca.crt']).toBe(root.certificatePem);
        const caPublicKey = new crypto.X509Certificate(intermediate.certificatePem).publicKey;
        const keyPublicKey = crypto.createPublicKey(crypto.createPrivateKey(data['tls.key']));
        expect(keyPublicKey.export({ format: 'der', type: 'spki' })).toEqual(caPublicKey.export({ format: 'der', type: 'spki' }));
        expect(find(manifests, 'ClusterIssuer', 'intermediate')!.spec).toEqual({ ca: { secretName: 'intermediate-key-pair' } });
        expect(offered.issuerRef).toEqual({ name: 'intermediate', kind: 'ClusterIssuer', group: 'cert-manager.io' });
        expect(warnings.mock.calls.join('')).toMatch(/Secret cert-manager\/intermediate-key-pair is written in plaintext/);
      } finally {
        warnings.mockRestore();
      }
    });

    test('an intermediate in rotation: tls.crt is the signing intermediate of the phase and its root, tls.key its key; the Bundle trusts both', () => {
      const warnings = captureWarnings();
      try {
        // One state through the phases, as successive synths of one repository.
        const store = new MemoryStore();
        const phases = [undefined, 'trust-both', 'issue-from-new', 'drop-old'] as const;
        const synths = phases.map((phase) => {
          const app = Testing.app();
          const state = usePkiState(app, new PkiState({ store, clock: FIXED_CLOCK }));
          useSecretOutput(app, SecretOutput.plaintext());
          const chart = new Chart(app, 'test');
          const root = new ClusterCA(chart, 'root', { commonName: 'root' });
          const intermediate = new ClusterCA(chart, 'intermediate', { commonName: 'intermediate', issuer: root, rotation: phase && { id: '2027', phase } });
          new ClusterCaIssuer(chart, 'issuer', { ca: intermediate, name: 'intermediate' });
          new TrustBundle(chart, 'trust', { ca: intermediate, name: 'intermediate' });
          const manifests = synth(chart);
          state.commit();
          const secret = find(manifests, 'Secret', 'intermediate-key-pair')!;
          const data = Object.fromEntries(Object.entries(secret.data!).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
          return { data, bundle: find(manifests, 'Bundle', 'intermediate')!.spec.sources[0].inLine as string };
        });
        const certificates = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? []).map((c) => new crypto.X509Certificate(c));
        const [rootCertificate] = certificates(synths[0].data['ca.crt']);
        const oldCa = certificates(synths[0].data['tls.crt'])[0];
        const newCa = certificates(synths[3].data['tls.crt'])[0];
        expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
        const signers = [oldCa, oldCa, newCa, newCa];
        synths.forEach(({ data, bundle }, i) => {
          const [signing, ...above] = certificates(data['tls.crt']);
          expect([phases[i], signing.fingerprint256, above.map((c) => c.fingerprint256)]).toEqual([phases[i], signers[i].fingerprint256, [rootCertificate.fingerprint256]]);
          expect(signing.verify(rootCertificate.publicKey)).toBe(true);
          expect(certificates(data['ca.crt']).map((c) => c.fingerprint256)).toEqual([rootCertificate.fingerprint256]);
          const keyPublicKey = crypto.createPublicKey(crypto.createPrivateKey(data['tls.key']));
          expect(keyPublicKey.export({ format: 'der', type: 'spki' })).toEqual(signing.publicKey.export({ format: 'der', type: 'spki' }));
          const trusted = i === 1 || i === 2 ? [oldCa, newCa, rootCertificate] : [signers[i], rootCertificate];
          expect(certificates(bundle).map((c) => c.fingerprint256).sort()).toEqual(trusted.map((c) => c.fingerprint256).sort());
        });
      } finally {
        warnings.mockRestore();
      }
    });

    test("the app's default output leaves the Secret out: no private material in the manifests", () => {
      const chart = chartWithState();
      const offered = new ClusterCaIssuer(chart, 'issuer', { ca: new ClusterCA(chart, 'ca'), name: 'cluster-ca' });
      const manifests = synth(chart);
      expect(offered.secret).toBeUndefined();
      expect(manifests.map((m) => m.kind)).toEqual(['ConfigMap', 'ClusterIssuer']);
      expect(JSON.stringify(manifests)).not.toMatch(/PRIVATE KEY/);
    });

    test('as an Issuer, the Secret goes to the Issuer namespace and Certificates there can use it', () => {
      const warnings = captureWarnings();
      try {
        const chart = chartWithState({ namespace: 'apps' }, SecretOutput.plaintext());
        const offered = new ClusterCaIssuer(chart, 'issuer', { ca: new ClusterCA(chart, 'ca'), kind: 'Issuer', name: 'apps-ca' });
        new Certificate(chart, 'leaf', { issuer: offered, name: 'leaf', dnsNames: ['leaf.apps.svc'] });
        const manifests = synth(chart);
        expectValidManifests(manifests);
        expect(find(manifests, 'Secret', 'apps-ca-key-pair')!.metadata.namespace).toBe('apps');
        expect(find(manifests, 'Issuer', 'apps-ca')!.metadata.namespace).toBe('apps');
        expect(find(manifests, 'Certificate', 'leaf')!.spec.issuerRef).toEqual({ name: 'apps-ca', kind: 'Issuer', group: 'cert-manager.io' });
      } finally {
        warnings.mockRestore();
      }
    });
  });

  test('cluster-scoped objects drop the chart namespace; namespaced ones keep it', () => {
    const chart = chartWithState({ namespace: 'apps' });
    const ca = new ClusterCA(chart, 'ca');
    new ClusterIssuer(chart, 'cluster', { name: 'cluster', selfSigned: true });
    new Issuer(chart, 'local', { name: 'local', selfSigned: true });
    new TrustBundle(chart, 'bundle', { ca, name: 'bundle' });
    const namespaces = Object.fromEntries(synth(chart).map((m) => [m.kind, m.metadata.namespace]));
    expect(namespaces).toEqual({ ConfigMap: 'apps', ClusterIssuer: undefined, Issuer: 'apps', Bundle: undefined });
  });
});

describe("cert-manager's webhook rules, refused at synth naming the construct path and the field", () => {
  const VALID: CertificateProps = { issuer: { name: 'ca', kind: 'ClusterIssuer' }, dnsNames: ['web.example.com'] };

  test('the valid base case synthesizes', () => {
    const chart = chartWithState();
    new Certificate(chart, 'web', VALID);
    expectValidManifests(synth(chart));
  });

  test.each<[string, Partial<CertificateProps>, RegExp]>([
    ['duration under 1h', { duration: Duration.minutes(30) }, /^test\/web: duration: 30m0s: certificate duration must be greater than 1h0m0s$/],
    ['duration not whole seconds', { duration: Duration.millis(3_600_500) }, /^test\/web: duration: must be a whole, non-negative number of seconds \(got 3600\.5\)$/],
    ['renewBefore equal to duration', { duration: Duration.hours(2), renewBefore: Duration.hours(2) }, /^test\/web: renewBefore: certificate duration 2h0m0s must be greater than renewBefore 2h0m0s$/],
    ['renewBefore beyond the default 90 days', { renewBefore: Duration.days(91) }, /^test\/web: renewBefore: certificate duration 2160h0m0s must be greater than renewBefore 2184h0m0s$/],
    ['renewBefore under 5m', { renewBefore: Duration.minutes(1) }, /^test\/web: renewBefore: 1m0s: certificate renewBefore must be greater than 5m0s$/],
    ['renewBefore with renewBeforePercentage', { renewBefore: Duration.hours(24), renewBeforePercentage: 10 }, /^test\/web: renewBeforePercentage: cannot be set together with renewBefore/],
    ['renewBeforePercentage of 100', { renewBeforePercentage: 100 }, /^test\/web: renewBeforePercentage: 100: must be an integer in the range \(0,100\)$/],
    ['renewBeforePercentage giving under 5m', { duration: Duration.hours(1), renewBeforePercentage: 5 }, /^test\/web: renewBeforePercentage: 5% of duration 1h0m0s is 3m0s; the renewBefore it gives must be at least 5m0s$/],
    ['ECDSA size 255', { privateKey: { algorithm: 'ECDSA', size: 255 } }, /^test\/web: privateKey.size: Unsupported value: 255: supported values: "256", "384", "521"$/],
    ['RSA size 1024', { privateKey: { algorithm: 'RSA', size: 1024 } }, /^test\/web: privateKey.size: 1024: must be between 2048 & 8192 for rsa keyAlgorithm$/],
    ['RSA size 16384 (RSA is the default algorithm)', { privateKey: { size: 16384 } }, /^test\/web: privateKey.size: 16384: must be between 2048 & 8192 for rsa keyAlgorithm$/],
    ['Ed25519 with a size', { privateKey: { algorithm: 'Ed25519', size: 256 } }, /^test\/web: privateKey.size: 256: an Ed25519 key has one size; cert-manager ignores this field for Ed25519/],
    ['subject with literalSubject', { subject: { organizations: ['Example'] }, literalSubject: 'CN=web' }, /^test\/web: subject: When providing a `LiteralSubject` no `Subject` properties may be provided\.$/],
    ['commonName with literalSubject', { commonName: 'web', literalSubject: 'CN=web' }, /^test\/web: commonName: When providing a `LiteralSubject` no `commonName` may be provided\.$/],
    ['a literalSubject that is not type=value', { literalSubject: 'CN=web,Example' }, /^test\/web: literalSubject: "Example" is not an attribute \(type=value\)/],
    ['a usage outside the enum', { usages: ['digital signature', 'server-auth' as CertManagerUsage] }, /^test\/web: usages\[1\]: "server-auth": unknown keyusage \(cert-manager knows: signing, digital signature, /],
    ['no name at all', { dnsNames: undefined }, /^test\/web: at least one of commonName \(from the commonName field or from a literalSubject\), dnsNames, uriSANs, ipAddresses, emailSANs or otherNames must be set$/],
    ['a literalSubject without CN and no SAN', { dnsNames: undefined, literalSubject: 'O=Example' }, /^test\/web: at least one of commonName /],
    ['commonName over 64 bytes', { commonName: 'é'.repeat(33) }, /^test\/web: commonName: may not be more than 64 bytes \(got 66\)$/],
    ['an invalid IP address', { ipAddresses: ['10.0.0.300'] }, /^test\/web: ipAddresses\[0\]: "10\.0\.0\.300": invalid IP address$/],
    ['an IP address with a zone', { ipAddresses: ['fe80::1%eth0'] }, /^test\/web: ipAddresses\[0\]: "fe80::1%eth0": invalid IP address$/],
    ['an email address with a display name', { emailAddresses: ['Ops <ops@example.com>'] }, /^test\/web: emailAddresses\[0\]: "Ops <ops@example.com>": invalid email address: make sure the supplied value only contains the email address itself$/],
    ['isCA without a subject', { isCA: true }, /^test\/web: commonName: a CA certificate needs a subject \(commonName, subject or literalSubject\)/],
    ['a secretName that is not a DNS subdomain', { secretName: 'Web_TLS' }, /^test\/web: secretName: "Web_TLS": a lowercase RFC 1123 subdomain must consist of/],
    ['a cert-manager.io annotation in secretTemplate', { secretTemplate: { annotations: { 'cert-manager.io/issuer-name': 'x' } } }, /^test\/web: secretTemplate.annotations: "cert-manager.io\/issuer-name": cert-manager.io\/\* annotations are not allowed$/],
    ['an external issuer kind without its group', { issuer: { name: 'pca', kind: 'AWSPCAClusterIssuer' } }, /^test\/web: issuer.kind: "AWSPCAClusterIssuer": must be one of Issuer or ClusterIssuer \(did you forget to set spec.issuerRef.group\?\)$/],
    ['an issuerRef without a name', { issuer: { name: '' } }, /^test\/web: issuer.name: must be specified$/],
  ])('Certificate: %s', (_case, change, message) => {
    const chart = chartWithState();
    expect(() => new Certificate(chart, 'web', { ...VALID, ...change })).toThrow(message);
  });

  test('Certificate: isCA from an ACME issuer', () => {
    const chart = chartWithState();
    const issuer = new ClusterIssuer(chart, 'le', { acme: { server: 'letsencrypt-staging', email: 'ops@example.com', solvers: [{ http01: {} }] } });
    expect(() => new Certificate(chart, 'web', { issuer, commonName: 'ca', isCA: true })).toThrow(/^test\/web: isCA: acme does not support CA certificates/);
  });

  test('Certificate: an Issuer of another namespace', () => {
    const chart = chartWithState();
    const issuer = new Issuer(chart, 'ns-issuer', { namespace: 'team-a', selfSigned: true });
    expect(() => new Certificate(chart, 'web', { ...VALID, issuer, namespace: 'team-b' })).toThrow(
      /^test\/web: issuer: test\/ns-issuer is an Issuer of namespace "team-a", but this Certificate is in "team-b": cert-manager looks for an Issuer in the Certificate's own namespace/,
    );
  });

  const ACME: ClusterIssuerProps = { acme: { server: 'letsencrypt-production', email: 'ops@example.com', solvers: [{ http01: { ingressClassName: 'nginx' } }] } };
  const acmeWith = (change: Partial<NonNullable<ClusterIssuerProps['acme']>>): ClusterIssuerProps => ({ acme: { ...ACME.acme!, ...change } });
  const cloudflareToken = { name: 'cloudflare', key: 'token' };

  test.each<[string, ClusterIssuerProps, RegExp]>([
    ['no issuer type', {}, /^test\/le: at least one issuer must be configured/],
    ['two issuer types', { selfSigned: true, ca: { secretName: 'ca' } }, /^test\/le: selfSigned: may not specify more than one issuer type \(ca and selfSigned are set\)$/],
    ['a ca issuer without secretName', { ca: { secretName: '' } }, /^test\/le: ca.secretName: required/],
    ['no email', acmeWith({ email: '' }), /^test\/le: acme.email: required: the ACME account contact/],
    ['an email with a display name', acmeWith({ email: 'Ops <ops@example.com>' }), /^test\/le: acme.email: "Ops <ops@example.com>" is not a plain email address/],
    ['a misspelled server name', acmeWith({ server: 'letsencrypt-prod' }), /^test\/le: acme.server: "letsencrypt-prod" is neither a known server \(letsencrypt-production, letsencrypt-staging\) nor an https:\/\/ directory URL$/],
    ['a plain-http server', acmeWith({ server: 'http://acme.example.com/directory' }), /^test\/le: acme.server: "http:\/\/acme.example.com\/directory" is neither a known server/],
    ['no solver', acmeWith({ solvers: [] }), /^test\/le: acme.solvers: at least one HTTP-01 or DNS-01 solver is needed/],
    ['neither HTTP-01 nor DNS-01 in a solver', acmeWith({ solvers: [{ selector: { dnsZones: ['example.com'] } }] }), /^test\/le: acme.solvers\[0\]: no solver type configured \(http01 or dns01\)$/],
    ['HTTP-01 and DNS-01 in one solver', acmeWith({ solvers: [{ http01: {}, dns01: { cloudflare: { apiTokenSecretRef: cloudflareToken } } }] }), /^test\/le: acme.solvers\[0\]: may not specify more than one solver type in a single solver$/],
    ['class and ingressClassName', acmeWith({ solvers: [{ http01: { ingressClassName: 'nginx', class: 'nginx' } }] }), /^test\/le: acme.solvers\[0\].http01.ingress: only one of 'ingressClassName', 'name' or 'class' should be specified/],
    ['an ingressClassName that is no IngressClass name', acmeWith({ solvers: [{ http01: { ingressClassName: 'azure/application-gateway' } }] }), /^test\/le: acme.solvers\[0\].http01.ingress.ingressClassName: must be a valid IngressClass name/],
    ['DNS-01 without a provider', acmeWith({ solvers: [{ dns01: {} }] }), /^test\/le: acme.solvers\[0\].dns01: no DNS01 provider configured$/],
    ['two DNS-01 providers', acmeWith({ solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: cloudflareToken }, route53: {} } }] }), /^test\/le: acme.solvers\[0\].dns01.route53: may not specify more than one provider type/],
    ['a Cloudflare token reference without key', acmeWith({ solvers: [{ dns01: { cloudflare: { apiTokenSecretRef: { name: 'cloudflare', key: '' } } } }] }), /^test\/le: acme.solvers\[0\].dns01.cloudflare.apiTokenSecretRef.key: secret key is required$/],
    [
      'a Route 53 access key ID without its secret',
      acmeWith({ solvers: [{ http01: {} }, { dns01: { route53: { region: 'eu-west-1', accessKeyIDSecretRef: { name: 'aws', key: 'id' } } } }] }),
      /^test\/le: acme.solvers\[1\].dns01.route53: an access key ID and secretAccessKeySecretRef go together/,
    ],
  ])('ClusterIssuer: %s', (_case, props, message) => {
    const chart = chartWithState();
    expect(() => new ClusterIssuer(chart, 'le', props)).toThrow(message);
  });

  test('ClusterCaIssuer: a CA brought with `fromExisting` has no key in the state to hand over', () => {
    const chart = chartWithState();
    const key = generateKey('ecdsa-p256');
    const certificate = issueCertificate({ subject: { commonName: 'byo' }, ca: {}, validitySeconds: 86400 * 365 }, key, { privateKey: key }, FIXED_CLOCK());
    const ca = ClusterCA.fromExisting(chart, 'byo', { certificatePem: certificate.pem, privateKeyPem: privateKeyToPem(key) });
    expect(() => new ClusterCaIssuer(chart, 'issuer', { ca })).toThrow(/^test\/issuer: ca: test\/byo was brought with `ClusterCA.fromExisting`, so its key is not in the state/);
  });

  test.each<[string, ChartProps, Partial<ConstructorParameters<typeof ClusterCaIssuer>[2]>, RegExp]>([
    ['an Issuer without namespace', {}, { kind: 'Issuer' }, /^test\/issuer: namespace: required for an Issuer \(or a chart namespace\): cert-manager reads its Secret from the Issuer's own namespace$/],
    ['an Issuer with clusterResourceNamespace', { namespace: 'apps' }, { kind: 'Issuer', clusterResourceNamespace: 'cert-manager' }, /^test\/issuer: clusterResourceNamespace: applies to a ClusterIssuer only/],
    ['a ClusterIssuer with namespace', {}, { namespace: 'apps' }, /^test\/issuer: namespace: a ClusterIssuer has no namespace; cert-manager reads its Secret from the cluster resource namespace/],
  ])('ClusterCaIssuer: %s', (_case, chartProps, props, message) => {
    const chart = chartWithState(chartProps);
    expect(() => new ClusterCaIssuer(chart, 'issuer', { ca: new ClusterCA(chart, 'ca'), ...props })).toThrow(message);
  });
});

describe('Go durations', () => {
  test.each([
    [0, '0s'],
    [45, '45s'],
    [300, '5m0s'],
    [5400, '1h30m0s'],
    [90 * 86400, '2160h0m0s'],
  ])('%i seconds are written %s, and read back', (seconds, text) => {
    expect(formatGoDuration(seconds, 'duration')).toBe(text);
    expect(parseGoDuration(text, 'duration')).toBe(seconds);
  });

  test.each([
    ['2160h', 90 * 86400],
    ['1.5h', 5400],
    ['90m', 5400],
    ['1h30m0s', 5400],
    ['300ms', 0.3],
    ['-5m', -300],
  ])('%s is read as %d seconds', (text, seconds) => {
    expect(parseGoDuration(text, 'duration')).toBeCloseTo(seconds, 9);
  });

  test.each(['90d', '1 h', '', 'h', '5'])('"%s" is not a Go duration', (text) => {
    expect(() => parseGoDuration(text, 'renewBefore')).toThrow(/^renewBefore: ".*" is not a Go duration/);
  });
});
