import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Duration, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, OfflineRootCA, PkiState, TlsCertificate, usePkiState } from '../../constructs';
import { generateKey, issueCertificate, privateKeyToPem } from '../../src/engine';
import { run, runOk, snapshotDir, tempDir } from '../support/programs';

const FIXED_CLOCK = () => new Date('2026-01-15T09:00:00Z');

/** A CA and one etcd-style server certificate: the smallest app that exercises the state. */
class CaWithServer extends Chart {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const ca = new ClusterCA(this, 'kubernetes-ca', { bundleNamespace: 'kube-public' });
    new TlsCertificate(this, 'etcd-server', {
      ca,
      commonName: 'cp-1',
      dnsNames: ['cp-1', 'localhost'],
      ipAddresses: ['10.0.0.11', '127.0.0.1', '::1'],
      usage: 'peer',
    });
  }
}

describe('a CA with a server certificate', () => {
  test('snapshot, stable across runs (fixed clock + seeded in-memory state)', () => {
    const app = Testing.app();
    usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'example-snapshot' }));
    const chart = new CaWithServer(app, 'example');
    expect(Testing.synth(chart)).toMatchSnapshot();
  });

  test('synth twice gives identical dist/ and state; a changed SAN re-issues only that certificate', () => {
    const tmp = tempDir();
    try {
      const stateDir = path.join(tmp.dir, '.pki');
      const synth = (build: (chart: Chart) => void) => {
        const app = new App({ outdir: path.join(tmp.dir, 'dist') });
        usePkiState(app, PkiState.inDirectory(stateDir));
        const chart = new Chart(app, 'cluster');
        build(chart);
        app.synth();
        return { dist: snapshotDir(path.join(tmp.dir, 'dist')), state: snapshotDir(stateDir) };
      };
      let server!: TlsCertificate;
      const cluster = (sans: string[]) => (chart: Chart) => {
        const ca = new ClusterCA(chart, 'kubernetes-ca');
        server = new TlsCertificate(chart, 'apiserver', { ca, commonName: 'kube-apiserver', ipAddresses: sans });
        new TlsCertificate(chart, 'admin', { ca, commonName: 'kubernetes-admin', usage: 'client' });
      };
      const first = synth(cluster(['10.96.0.1']));
      const firstServerKey = server.keyReference;
      const second = synth(cluster(['10.96.0.1']));
      expect(second).toEqual(first);

      const third = synth(cluster(['10.96.0.1', '192.0.2.50']));
      // The manifests hold only public CA material, and the CA did not change; PKI.md shows the re-issued certificate's row.
      const { 'PKI.md': thirdReport, ...thirdManifests } = third.dist;
      const { 'PKI.md': firstReport, ...firstManifests } = first.dist;
      expect(thirdManifests).toEqual(firstManifests);
      const rows = (report: string) => Buffer.from(report, 'base64').toString().split('\n');
      expect(rows(thirdReport).filter((row) => !rows(firstReport).includes(row)).map((row) => row.split(' | ')[0])).toEqual(['| cluster/apiserver']);
      const changed = Object.keys(third.state).filter((f) => third.state[f] !== first.state[f]);
      // The certificate and its Secret's plan (which holds the certificate); no key file.
      expect(changed).toEqual(['cluster/apiserver/certificate.json', 'secrets/cluster/apiserver/Secret.doc.json']);
      expect(server.keyReference).toEqual(firstServerKey);
      expect(server.certificate.sans.ipAddresses).toEqual(['10.96.0.1', '192.0.2.50']);
    } finally {
      tmp.cleanup();
    }
  });

  test('frozen: a synth that needs new material fails with the list and writes neither state nor manifests', () => {
    const tmp = tempDir();
    try {
      const app = new App({ outdir: path.join(tmp.dir, 'dist') });
      usePkiState(app, PkiState.inDirectory(path.join(tmp.dir, '.pki'), { frozen: true }));
      new CaWithServer(app, 'example');
      expect(() => app.synth()).toThrow(/is frozen, but this synth needs to change it:\n {2}- example\/kubernetes-ca: new ecdsa-p256 key; not in the state\n {2}- example\/etcd-server/);
      expect(fs.existsSync(path.join(tmp.dir, '.pki'))).toBe(false);
      expect(fs.readdirSync(path.join(tmp.dir, 'dist'))).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('ClusterCA', () => {
  const chartWithState = () => {
    const app = Testing.app();
    usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK }));
    return new Chart(app, 'test');
  };

  test('synthesizes a public ConfigMap with the bundle, and exposes the pin and the Rancher checksum', () => {
    const chart = chartWithState();
    const ca = new ClusterCA(chart, 'kubernetes-ca', { bundleNamespace: 'kube-public' });
    const [configMap] = Testing.synth(chart);
    expect(configMap).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'kubernetes-ca-bundle', namespace: 'kube-public' }, data: { 'ca.crt': ca.trustBundlePem } });
    expect(configMap.metadata.annotations['pki.cdk8s.io/spki-pin']).toBe(ca.spkiPin);
    expect(ca.spkiPin).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(Testing.synth(chart))).not.toMatch(/PRIVATE KEY/);
    expect(ca.certificate.subject).toEqual({ commonName: 'kubernetes' });
    expect(ca.certificate.isCA).toBe(true);
    expect(ca.certificate.notAfter.getTime() - FIXED_CLOCK().getTime()).toBe(87600 * 3600 * 1000);
  });

  test('rancherChecksum is what Rancher computes: sha256 of cacerts.pem trimmed, plus one newline', () => {
    const tmp = tempDir();
    try {
      const chart = chartWithState();
      const root = new ClusterCA(chart, 'root', { commonName: 'root' });
      const ca = new ClusterCA(chart, 'intermediate', { issuer: root });
      // cacerts.pem as a user would upload it, with stray blank lines around the bundle.
      const file = tmp.file('cacerts.pem', `\n${ca.trustBundlePem}\n\n`);
      const script = 'python3 -c "import sys; sys.stdout.write(open(sys.argv[1]).read().strip() + chr(10))" "$1" | sha256sum';
      const [oracle] = runOk('sh', ['-c', script, 'sh', file]).split(' ');
      expect(oracle).toMatch(/^[0-9a-f]{64}$/);
      expect(ca.rancherChecksum).toBe(oracle);
    } finally {
      tmp.cleanup();
    }
  });

  test('an intermediate as long-lived as its root is issued though the clock ticks between the two', () => {
    // A clock a second later at every reading: a synth that read it per certificate made the intermediate end a
    // second after its root, which the issuer check refuses, whenever issuing the two crossed a second.
    let ticks = 0;
    const ticking = () => new Date(FIXED_CLOCK().getTime() + 1000 * ticks++);
    const app = Testing.app();
    usePkiState(app, PkiState.inMemory({ clock: ticking }));
    const chart = new Chart(app, 'test');
    const root = new ClusterCA(chart, 'root', { commonName: 'root' });
    const intermediate = new ClusterCA(chart, 'intermediate', { issuer: root });
    expect(intermediate.certificate.notAfter).toEqual(root.certificate.notAfter);
  });

  test('an intermediate under an offline root: the root key is needed once, and the chain verifies with openssl', () => {
    const tmp = tempDir();
    try {
      const rootKey = generateKey('ecdsa-p384');
      const root = issueCertificate({ subject: { commonName: 'offline-root', organizations: ['example'] }, ca: {}, validitySeconds: 20 * 365 * 86400 }, rootKey, { privateKey: rootKey }, FIXED_CLOCK());
      const stateDir = path.join(tmp.dir, '.pki');
      const synth = (privateKeyPem?: string) => {
        const app = Testing.app();
        usePkiState(app, PkiState.inDirectory(stateDir, { clock: FIXED_CLOCK }));
        const chart = new Chart(app, 'c');
        const ca = new ClusterCA(chart, 'kubernetes-ca', { issuer: OfflineRootCA.fromPem({ certificatePem: root.pem, privateKeyPem }), pathLength: 0 });
        const leaf = new TlsCertificate(chart, 'apiserver', { ca, commonName: 'kube-apiserver', dnsNames: ['kubernetes'], ipAddresses: ['127.0.0.1'] });
        const manifests = Testing.synth(chart);
        return { ca, leaf, manifests };
      };
      expect(() => synth()).toThrow(/c\/kubernetes-ca: issuer.privateKey: "kubernetes" must be issued \(not in the state\), which needs the private key of its issuer "offline-root"/);
      const first = synth(privateKeyToPem(rootKey));
      const second = synth(); // root key back offline
      expect(second.manifests).toEqual(first.manifests);
      expect(second.ca.trustBundlePem).toBe(first.ca.certificatePem + root.pem);
      expect(second.leaf.fullChainPem).toBe(first.leaf.certificatePem + first.ca.certificatePem);

      const rootFile = tmp.file('root.pem', root.pem);
      const chainFile = tmp.file('chain.pem', second.leaf.fullChainPem);
      expect(runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', rootFile, '-untrusted', chainFile, chainFile])).toContain(': OK');
      const text = runOk('openssl', ['x509', '-in', tmp.file('int.pem', second.ca.certificatePem), '-noout', '-text']);
      expect(text).toMatch(/Issuer: O ?= ?example, CN ?= ?offline-root/);
      expect(text).toMatch(/CA:TRUE, pathlen:0/);
    } finally {
      tmp.cleanup();
    }
  });

  test('bring your own CA made by openssl: it issues certificates openssl verifies, and nothing of it is stored', () => {
    const tmp = tempDir();
    try {
      const key = tmp.file('ca.key');
      runOk('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
      const cert = runOk('openssl', [
        'req', '-x509', '-new', '-key', key, '-subj', '/O=Acme/CN=acme-k8s-ca', '-days', '3650', '-sha256',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ]);
      const app = Testing.app();
      const state = usePkiState(app, PkiState.inMemory());
      const chart = new Chart(app, 'c');
      const ca = ClusterCA.fromExisting(chart, 'acme', { certificatePem: cert, privateKeyPem: fs.readFileSync(key, 'utf8') });
      const leaf = new TlsCertificate(chart, 'ingress', { ca, commonName: 'rancher.example.com', dnsNames: ['rancher.example.com'], validity: Duration.days(90) });
      expect(ca.certificatePem).toBe(cert);
      expect(state.pendingChanges().map((c) => c.slot)).toEqual(['c/ingress', 'secrets/c/ingress/Secret']);
      expect(runOk('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', tmp.file('ca.pem', cert), tmp.file('leaf.pem', leaf.certificatePem)])).toContain(': OK');
    } finally {
      tmp.cleanup();
    }
  });

  describe('bad props fail with the construct path and the field, before anything is written', () => {
    const otherKey = generateKey('ecdsa-p256');
    const caKey = generateKey('ecdsa-p256');
    const caCert = issueCertificate({ subject: { commonName: 'byo' }, ca: {}, validitySeconds: 86400 * 30 }, caKey, { privateKey: caKey }, FIXED_CLOCK());
    const leafCert = issueCertificate({ subject: { commonName: 'leaf' }, validitySeconds: 86400 }, otherKey, { privateKey: caKey, certificate: caCert }, FIXED_CLOCK());
    const cases: [string, (chart: Chart) => void, RegExp][] = [
      ['an IP that is not an IP', (c) => new TlsCertificate(c, 'srv', { ca: new ClusterCA(c, 'ca'), commonName: 's', ipAddresses: ['10.0.0.1', '10.0.0.300'] }), /^test\/srv: ipAddresses\[1\]: "10.0.0.300" is not a valid IPv4 or IPv6 address$/],
      ['an upper-case DNS name', (c) => new TlsCertificate(c, 'srv', { ca: new ClusterCA(c, 'ca'), commonName: 's', dnsNames: ['Kubernetes'] }), /^test\/srv: dnsNames\[0\]: "Kubernetes" is not a valid DNS name/],
      ['an empty common name', (c) => new ClusterCA(c, 'ca', { commonName: '' }), /^test\/ca: commonName: "" is not a valid subject value \(not blank\)$/],
      ['a validity beyond the CA', (c) => new TlsCertificate(c, 'srv', { ca: new ClusterCA(c, 'ca', { validity: Duration.days(30) }), commonName: 's', validity: Duration.days(365) }), /^test\/srv: validity: the certificate would end 2027-01-15T09:00:00.000Z, after its issuer "kubernetes" ends/],
      ['a sub-minute validity', (c) => new ClusterCA(c, 'ca', { validity: Duration.seconds(30) }), /^test\/ca: validity: must be a whole number of seconds, at least 60/],
      ['an unknown usage', (c) => new TlsCertificate(c, 'srv', { ca: new ClusterCA(c, 'ca'), commonName: 's', usage: 'both' as never }), /^test\/srv: usage: must be one of server, client, peer/],
      ['an unsupported key algorithm', (c) => new ClusterCA(c, 'ca', { keyAlgorithm: 'rsa-1024' as never }), /^test\/ca: keyAlgorithm: must be one of/],
      ['a key that does not match the existing CA', (c) => ClusterCA.fromExisting(c, 'ca', { certificatePem: caCert.pem, privateKeyPem: privateKeyToPem(otherKey) }), /^test\/ca: privateKeyPem: does not match the certificate of "byo"$/],
      ['an existing "CA" that is a leaf', (c) => ClusterCA.fromExisting(c, 'ca', { certificatePem: leafCert.pem, privateKeyPem: privateKeyToPem(otherKey) }), /^test\/ca: certificatePem: "leaf" is not a CA certificate/],
      ['garbage PEM', (c) => ClusterCA.fromExisting(c, 'ca', { certificatePem: 'nope', privateKeyPem: 'nope' }), /^test\/ca: certificatePem: holds no PEM CERTIFICATE block$/],
    ];
    test.each(cases)('%s', (_name, build, message) => {
      const tmp = tempDir();
      try {
        const app = new App({ outdir: path.join(tmp.dir, 'dist') });
        usePkiState(app, PkiState.inDirectory(path.join(tmp.dir, '.pki'), { clock: FIXED_CLOCK }));
        const chart = new Chart(app, 'test');
        expect(() => build(chart)).toThrow(message);
        expect(fs.existsSync(path.join(tmp.dir, '.pki'))).toBe(false);
      } finally {
        tmp.cleanup();
      }
    });
  });

  test('an existing CA takes no subject, key or validity props: its certificate decides them', () => {
    const chart = chartWithState();
    const caKey = generateKey('ecdsa-p256');
    const caCert = issueCertificate({ subject: { commonName: 'byo' }, ca: {}, validitySeconds: 86400 * 30 }, caKey, { privateKey: caKey }, FIXED_CLOCK());
    // @ts-expect-error commonName is not a prop of ClusterCA.fromExisting
    const ca = ClusterCA.fromExisting(chart, 'byo', { certificatePem: caCert.pem, privateKeyPem: privateKeyToPem(caKey), commonName: 'x' });
    expect(ca.certificate.subject.commonName).toBe('byo');
  });

  test('a SHA-1 CA brought from elsewhere is refused by name', () => {
    const tmp = tempDir();
    try {
      const key = tmp.file('ca.key');
      runOk('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
      const made = run('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=old-ca', '-days', '30', '-sha1', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
      if (made.status !== 0) throw new Error(`openssl cannot make a SHA-1 certificate here: ${made.stderr}`);
      const chart = chartWithState();
      expect(() => ClusterCA.fromExisting(chart, 'old', { certificatePem: made.stdout, privateKeyPem: fs.readFileSync(key, 'utf8') })).toThrow(
        /^test\/old: certificatePem: is signed with sha1WithRSAEncryption, which is refused/,
      );
    } finally {
      tmp.cleanup();
    }
  });
});
