// Reviewer annotations against openssl: every object that carries a certificate describes it under
// pki.cdk8s.io/<label>.<field>, and each value agrees with what `openssl x509` prints for the certificate the
// object really carries (its data, the plaintext a Sealed Secrets controller opens, the files export-node writes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { certManager, ClusterCA, PkiState, RancherIngressTLS, RancherServingCertificate, SecretOutput, synthApp, TlsCertificate, usePkiState, useSecretOutput } from '../../constructs';
import { certificateAnnotations, certificateLabel } from '../../src/engine/annotations';
import { exportSecrets } from '../../src/secrets/secret-plan';
import { exportToTemp, synthReferenceCluster } from '../support/reference-cluster';
import { runOk, tempDir } from '../support/programs';
import { controller, unseal } from '../support/sealed-secrets-controller';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: any;
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** openssl's `notAfter=Mar  1 12:00:00 2027 GMT` as RFC 3339. */
function opensslDate(text: string): string {
  const m = /^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4}) GMT$/.exec(text);
  if (!m) throw new Error(`unexpected openssl date ${text}`);
  const pad = (n: string | number) => String(n).padStart(2, '0');
  return `${m[6]}-${pad(MONTHS.indexOf(m[1]) + 1)}-${pad(m[2])}T${m[3]}:${m[4]}:${m[5]}Z`;
}

/** What openssl prints of one PEM certificate, as the annotation fields (sans absent when it has none). */
function openssl(pem: string): Record<string, string> {
  const out = runOk('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-serial', '-subject', '-issuer', '-nameopt', 'RFC2253', '-ext', 'subjectAltName', '-dates'], { input: pem });
  const line = (prefix: string) => {
    const found = out.split('\n').find((l) => l.startsWith(prefix));
    if (found === undefined) throw new Error(`openssl printed no ${prefix}:\n${out}`);
    return found.slice(prefix.length);
  };
  const sans = /X509v3 Subject Alternative Name: *\n +(.*)\n/.exec(out)?.[1];
  return {
    'subject': line('subject='),
    ...(sans === undefined ? {} : { sans }),
    'issuer': line('issuer='),
    'serial': line('serial='),
    'not-before': opensslDate(line('notBefore=')),
    'not-after': opensslDate(line('notAfter=')),
    'sha256-fingerprint': line('sha256 Fingerprint='),
  };
}

/** The PEM certificates of a bundle, split here rather than by the engine. */
function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** The annotations `label` describes: `{ subject: …, serial: … }` for `pki.cdk8s.io/<label>.<field>`. */
function described(annotations: Record<string, string> | undefined, label: string): Record<string, string> {
  const prefix = `pki.cdk8s.io/${label}.`;
  return Object.fromEntries(
    Object.entries(annotations ?? {})
      .filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('.'))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/** Every certificate of `bundle` is described as `label`, `label.2` …, as openssl prints it, and nothing more. */
function expectDescribes(annotations: Record<string, string> | undefined, label: string, bundle: string): void {
  const certificates = pemCertificates(bundle);
  expect(certificates.length).toBeGreaterThan(0);
  certificates.forEach((pem, i) => expect(described(annotations, i === 0 ? label : `${label}.${i + 1}`)).toEqual(openssl(pem)));
  expect(described(annotations, `${label}.${certificates.length + 1}`)).toEqual({});
}

/** The labels an object's certificate annotations use. */
function labelsOf(annotations: Record<string, string> | undefined): string[] {
  const labels = Object.keys(annotations ?? {})
    .map((key) => /^pki\.cdk8s\.io\/([A-Za-z0-9-]+(?:\.\d+)?)\.(?:subject|sans|issuer|serial|not-before|not-after|sha256-fingerprint)$/.exec(key)?.[1])
    .filter((label): label is string => label !== undefined);
  return [...new Set(labels)].sort();
}

// apimachinery's IsQualifiedName and IsDNS1123Subdomain, the rule the API server applies to annotation keys.
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `${key}: prefix is not a DNS subdomain`;
  if (name.length > 63 || !NAME_PART.test(name)) return `${key}: name part is not a qualified name`;
  return undefined;
}

const base64 = (value: string) => Buffer.from(value, 'base64').toString('utf8');

describe('the example app: every object carrying certificate material describes it as openssl does', () => {
  const { app, chart, state } = synthReferenceCluster({ clock: () => new Date('2026-03-01T12:00:00Z'), seed: 'annotations' });
  // Everything synth writes: the manifests, and the node review files under nodes/ (the static Pods).
  const documents = Object.values(synthApp(app)).flatMap((objects) => (Array.isArray(objects) ? objects : [])) as Manifest[];
  const find = (kind: string, name: string) => documents.filter((d) => d.kind === kind && d.metadata.name === name);

  test('every annotation key of every object is one the API server accepts', () => {
    const keys = documents.flatMap((d) => Object.keys(d.metadata?.annotations ?? {}));
    expect(keys.length).toBeGreaterThan(300);
    expect(keys.map(keyProblem).filter(Boolean)).toEqual([]);
  });

  test("the CA bundle ConfigMaps (kubeadm's three, the ingress CA): ca.crt, with the kubeadm pin kept beside it", () => {
    const bundles = documents.filter((d) => d.kind === 'ConfigMap' && d.data?.['ca.crt'] !== undefined);
    expect(bundles.map((b) => b.metadata.name).sort()).toEqual(['etcd-ca-bundle', 'front-proxy-ca-bundle', 'ingress-ca-bundle', 'kubernetes-ca-bundle']);
    for (const bundle of bundles) {
      expect(labelsOf(bundle.metadata.annotations)).toEqual(['ca']);
      expectDescribes(bundle.metadata.annotations, 'ca', bundle.data!['ca.crt']);
      const pin = runOk('sh', ['-c', 'openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r'], { input: bundle.data!['ca.crt'] });
      expect(bundle.metadata.annotations!['pki.cdk8s.io/spki-pin']).toBe(`sha256:${pin.split(' ')[0]}`);
    }
  });

  test('cluster-info: the certificate-authority-data of its kubeconfig', () => {
    const [clusterInfo] = find('ConfigMap', 'cluster-info');
    const kubeconfig = parse(clusterInfo.data!.kubeconfig);
    expect(labelsOf(clusterInfo.metadata.annotations)).toEqual(['ca']);
    expectDescribes(clusterInfo.metadata.annotations, 'ca', base64(kubeconfig.clusters[0].cluster['certificate-authority-data']));
  });

  test("Rancher's tls-ca Secret: cacerts.pem", () => {
    const [secret] = find('Secret', 'tls-ca');
    expect(labelsOf(secret.metadata.annotations)).toEqual(['cacerts']);
    expectDescribes(secret.metadata.annotations, 'cacerts', base64(secret.data!['cacerts.pem']));
  });

  test("the SealedSecrets (cert-manager's CA key pair, tls-rancher-ingress) describe their plaintext certificates, as the state holds them", () => {
    const [keyPair] = find('SealedSecret', 'kubernetes-ca-key-pair');
    const ca = chart.pki.certificateAuthorities.ca;
    expect(labelsOf(keyPair.metadata.annotations)).toEqual(['ca', 'tls']);
    expectDescribes(keyPair.metadata.annotations, 'tls', ca.trustBundlePem);
    expectDescribes(keyPair.metadata.annotations, 'ca', ca.certificatePem);
    const [ingress] = find('SealedSecret', 'tls-rancher-ingress');
    expect(labelsOf(ingress.metadata.annotations)).toEqual(['tls']);
    expectDescribes(ingress.metadata.annotations, 'tls', chart.rancher.servingCertificate!.fullChainPem);
  });

  test('each static Pod describes every certificate file and kubeconfig its flags name, read from the exported node; export-node writes the same Pods', () => {
    const exported = exportToTemp(state, 'cp-2');
    try {
      const pods = documents.filter((d) => d.kind === 'Pod' && d.metadata.annotations?.['pki.cdk8s.io/node'] === 'cp-2');
      expect(pods.map((p) => p.metadata.name).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
      for (const pod of pods) {
        const expected: Record<string, string> = {};
        for (const arg of pod.spec.containers[0].command as string[]) {
          const file = arg.slice(arg.indexOf('=') + 1);
          if (!file.startsWith('/etc/kubernetes/')) continue;
          const relative = file.slice('/etc/kubernetes/'.length);
          const label = relative.replace(/^pki\//, '').replace(/\.crt$/, '').replace(/[/.]/g, '-');
          if (file.endsWith('.crt')) expected[label] = fs.readFileSync(exported.file(relative), 'utf8');
          if (file.endsWith('.conf')) expected[label] = base64(parse(fs.readFileSync(exported.file(relative), 'utf8')).users[0].user['client-certificate-data']);
        }
        expect(labelsOf(pod.metadata.annotations)).toEqual(Object.keys(expected).sort());
        for (const [label, pem] of Object.entries(expected)) expectDescribes(pod.metadata.annotations, label, pem);
        const manifest = parse(fs.readFileSync(exported.file(`manifests/${pod.metadata.name}.yaml`), 'utf8'));
        expect(manifest.metadata.annotations).toEqual(pod.metadata.annotations);
      }
      const apiserver = pods.find((p) => p.metadata.name === 'kube-apiserver')!;
      expect(labelsOf(apiserver.metadata.annotations)).toEqual(['apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'ca', 'etcd-ca', 'front-proxy-ca', 'front-proxy-client']);
      expect(labelsOf(pods.find((p) => p.metadata.name === 'kube-scheduler')!.metadata.annotations)).toEqual(['scheduler-conf']);
    } finally {
      exported.cleanup();
    }
  });
});

describe('Secrets under each output policy', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sealer: { cert: string; key: string };
  beforeAll(() => {
    tmp = tempDir();
    sealer = controller(tmp.dir, 'controller', ['-newkey', 'rsa:2048']);
  });
  afterAll(() => tmp.cleanup());

  /** An intermediate CA, a TLS certificate, cert-manager's key pair and Rancher's Secrets, under `policy`. */
  function synth(state: PkiState, policy: SecretOutput) {
    const app = Testing.app();
    usePkiState(app, state);
    useSecretOutput(app, policy);
    const chart = new Chart(app, 'test');
    const root = new ClusterCA(chart, 'root', { commonName: 'Example Root CA, Inc.' });
    const issuing = new ClusterCA(chart, 'issuing', { commonName: 'Example Issuing CA', organizations: ['Example+Co'], issuer: root });
    const web = new TlsCertificate(chart, 'web', { ca: issuing, commonName: 'web', dnsNames: ['web.example.com'], ipAddresses: ['10.0.0.5', 'fd00::5'], secret: { name: 'web-tls', namespace: 'apps' } });
    new certManager.ClusterCaIssuer(chart, 'issuer', { ca: issuing, name: 'issuing' });
    new RancherIngressTLS(chart, 'rancher', { hostname: 'rancher.example.com', mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(issuing), version: '2.12.3' });
    const documents = Testing.synth(chart) as Manifest[];
    state.commit();
    return { web, documents, find: (kind: string, name: string) => documents.find((d) => d.kind === kind && d.metadata.name === name)! };
  }

  test('sealed: each SealedSecret describes, on its own metadata, the certificates the controller opens', () => {
    const { find } = synth(PkiState.inMemory(), SecretOutput.sealed({ controllerCertificate: sealer.cert }));
    const opened = (object: Manifest, key: string) => unseal(sealer.key, [{ ciphertext: Buffer.from(object.spec.encryptedData[key], 'base64'), label: `${object.metadata.namespace}/${object.metadata.name}` }])[0].plaintext!;
    const expected: [string, string[]][] = [['web-tls', ['ca', 'ca.2', 'tls', 'tls.2']], ['issuing-key-pair', ['ca', 'tls', 'tls.2']], ['tls-rancher-ingress', ['tls', 'tls.2']]];
    for (const [name, labels] of expected) {
      const sealed = find('SealedSecret', name);
      expect(labelsOf(sealed.metadata.annotations)).toEqual(labels);
      expectDescribes(sealed.metadata.annotations, 'tls', opened(sealed, 'tls.crt'));
      if (labels.includes('ca')) expectDescribes(sealed.metadata.annotations, 'ca', opened(sealed, 'ca.crt'));
      expect(labelsOf(sealed.spec.template.metadata.annotations)).toEqual([]);
    }
  });

  test('plaintext: each Secret describes the certificates of its data', () => {
    const written = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const { find } = synth(PkiState.inMemory(), SecretOutput.plaintext());
      const secret = find('Secret', 'web-tls');
      expectDescribes(secret.metadata.annotations, 'tls', base64(secret.data!['tls.crt']));
      expectDescribes(secret.metadata.annotations, 'ca', base64(secret.data!['ca.crt']));
      expect(secret.metadata.annotations!['pki.cdk8s.io/plaintext-secret']).toBe('true');
      // The subject's special characters are escaped as RFC 4514 (openssl -nameopt RFC2253) writes them.
      expect(secret.metadata.annotations!['pki.cdk8s.io/ca.2.subject']).toBe('CN=Example Root CA\\, Inc.');
      expect(secret.metadata.annotations!['pki.cdk8s.io/ca.subject']).toBe('CN=Example Issuing CA,O=Example\\+Co');
    } finally {
      process.stderr.write = written;
    }
  });

  test('omit: nothing reaches the manifests; the Secrets export-secrets writes carry the annotations', () => {
    const state = PkiState.inMemory();
    const { documents } = synth(state, SecretOutput.omit());
    expect(documents.filter((d) => d.kind === 'Secret' || d.kind === 'SealedSecret').map((d) => d.metadata.name)).toEqual(['tls-ca']);
    const out = path.join(tmp.dir, 'exported');
    expect(exportSecrets(state, out).sort()).toEqual(['apps.web-tls.yaml', 'cattle-system.tls-rancher-ingress.yaml', 'cert-manager.issuing-key-pair.yaml']);
    for (const file of fs.readdirSync(out).filter((name) => name.endsWith('.yaml'))) {
      const secret = parse(fs.readFileSync(path.join(out, file), 'utf8')) as Manifest;
      const [tls, ca] = [base64(secret.data!['tls.crt']), base64(secret.data!['ca.crt'] ?? '')];
      const labels = (label: string, bundle: string) => pemCertificates(bundle).map((_, i) => (i === 0 ? label : `${label}.${i + 1}`));
      expect(labelsOf(secret.metadata.annotations)).toEqual([...labels('ca', ca), ...labels('tls', tls)].sort());
      expectDescribes(secret.metadata.annotations, 'tls', tls);
      if (ca) expectDescribes(secret.metadata.annotations, 'ca', ca);
    }
  });

  test('a renewal shows in the SealedSecret diff; an unchanged synth gives the same annotations', () => {
    const state = PkiState.inMemory({ clock: () => new Date('2026-03-01T12:00:00Z') });
    const policy = SecretOutput.sealed({ controllerCertificate: sealer.cert });
    const first = synth(state, policy).find('SealedSecret', 'web-tls').metadata.annotations!;
    expect(synth(state, policy).find('SealedSecret', 'web-tls').metadata.annotations).toEqual(first);
    state.requestRotation('test/web', { newKey: false });
    const renewed = synth(state, policy).find('SealedSecret', 'web-tls').metadata.annotations!;
    // The same clock gives the same validity: the new serial and fingerprint are the renewal's lines in the diff.
    expect(Object.keys(renewed).filter((key) => renewed[key] !== first[key]).sort()).toEqual(['pki.cdk8s.io/tls.serial', 'pki.cdk8s.io/tls.sha256-fingerprint']);
  });
});

describe('certificateAnnotations on certificates openssl made', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('subject and issuer as -nameopt RFC2253, SANs in the certificate order, multi-valued RDNs', () => {
    const keyFile = tmp.file('k.pem');
    const certFile = tmp.file('c.pem');
    runOk('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-multivalue-rdn',
      '-subj', '/C=DE/ST=Berlin/O=a\\, b;c/OU=x+CN=#hash "quoted" <lt> /L=trailing ',
      '-addext', 'subjectAltName=IP:10.0.0.1,DNS:z.example,URI:spiffe://cluster.local/ns/a,email:ops@example.com,IP:fd00::1,DNS:a.example',
    ]);
    const pem = fs.readFileSync(certFile, 'utf8');
    expect(described(certificateAnnotations([{ name: 'odd.pem', pem }]), 'odd')).toEqual(openssl(pem));
  });

  test('a long or odd file name still gives valid keys', () => {
    const pem = fs.readFileSync(path.join(__dirname, '../../examples/sealed-secrets-controller.crt'), 'utf8');
    for (const name of ['x'.repeat(100) + '.crt', '..weird/na_me.pem', '.crt', 'tls.crt']) {
      const keys = Object.keys(certificateAnnotations([{ name, pem: pem + pem }]));
      expect(keys.length).toBe(2 * Object.keys(openssl(pem)).length);
      expect(keys.map(keyProblem).filter(Boolean)).toEqual([]);
      expect(keys.every((key) => key.startsWith(`pki.cdk8s.io/${certificateLabel(name)}.`))).toBe(true);
    }
    expect(['tls.crt', 'etcd/ca.crt', 'controller-manager.conf', 'cacerts.pem'].map(certificateLabel)).toEqual(['tls', 'etcd-ca', 'controller-manager-conf', 'cacerts']);
  });
});
