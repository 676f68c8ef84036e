// Parity with kubeadm v1.31–v1.34 for the reference cluster (3 control-plane nodes, 2 workers). The expected
// values are transcribed from kubeadm's certlist.go, kubeconfig.go and pki_helpers.go (the project's kubeadm
// reference, §1–§4), not taken from our catalog, and the certificates are read with OpenSSL (node's
// X509Certificate and the openssl command), not with our parser. Where we differ on purpose (docs/constructs.md,
// "Where this differs from kubeadm"), the test says so and checks our value.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KeyAlgorithm } from '../../src/engine';
import { REFERENCE_CLUSTER } from '../../examples/main';
import { expectValidManifests } from '../support/kubernetes-schema';
import { run, runOk } from '../support/programs';
import { exportToTemp, synthReferenceCluster } from '../support/reference-cluster';

const HOUR_MS = 3600_000;
const BACKDATE_MS = 5 * 60_000;
/** kubeadm's CertificateValidityPeriod and CACertificateValidityPeriod: 365 and 3650 days, no leap days. */
const LEAF_VALIDITY_MS = 8760 * HOUR_MS;
const CA_VALIDITY_MS = 87600 * HOUR_MS;

type Purpose = 'sslserver' | 'sslclient';

interface ExpectedCertificate {
  /** The issuing CA's file base under pki/. */
  readonly issuer: 'ca' | 'etcd/ca' | 'front-proxy-ca';
  readonly commonName: string;
  readonly organization?: string;
  /** OpenSSL's names, in the certificate's order. */
  readonly extendedKeyUsage: string[];
  /** `DNS:…, IP Address:…` as OpenSSL prints the extension: DNS sorted, IPs in kubeadm's insertion order. */
  readonly subjectAltName?: string;
  readonly purposes: Purpose[];
}

const CA_COMMON_NAMES = { 'ca': 'kubernetes', 'etcd/ca': 'etcd-ca', 'front-proxy-ca': 'front-proxy-ca' } as const;

/** Reference §1 for control-plane node `name` at `ip` of the reference cluster. */
function expectedPkiCertificates(name: string, ip: string): Record<string, ExpectedCertificate> {
  const dns = (names: string[]) => names.map((n) => `DNS:${n}`);
  const ips = (addresses: string[]) => addresses.map((a) => `IP Address:${a}`);
  // Rule A: node name, the Service names and the endpoint host as DNS (sorted); the primary service CIDR's
  // first IP, the advertise address, then apiServer.certSANs as IPs (insertion order).
  const apiServerSans = [
    ...dns([name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'api.k8s.example.internal'].sort()),
    ...ips(['10.96.0.1', ip, '10.0.0.10']),
  ].join(', ');
  // Rule B: node name and localhost; advertise address, 127.0.0.1, ::1 (OpenSSL prints ::1 in full).
  const etcdSans = [...dns([name, 'localhost'].sort()), ...ips([ip, '127.0.0.1', '0:0:0:0:0:0:0:1'])].join(', ');
  return {
    'apiserver': { issuer: 'ca', commonName: 'kube-apiserver', extendedKeyUsage: ['TLS Web Server Authentication'], subjectAltName: apiServerSans, purposes: ['sslserver'] },
    'apiserver-kubelet-client': {
      issuer: 'ca', commonName: 'kube-apiserver-kubelet-client', organization: 'kubeadm:cluster-admins', extendedKeyUsage: ['TLS Web Client Authentication'], purposes: ['sslclient'],
    },
    'front-proxy-client': { issuer: 'front-proxy-ca', commonName: 'front-proxy-client', extendedKeyUsage: ['TLS Web Client Authentication'], purposes: ['sslclient'] },
    'etcd/server': {
      issuer: 'etcd/ca', commonName: name, extendedKeyUsage: ['TLS Web Server Authentication', 'TLS Web Client Authentication'], subjectAltName: etcdSans, purposes: ['sslserver', 'sslclient'],
    },
    'etcd/peer': {
      issuer: 'etcd/ca', commonName: name, extendedKeyUsage: ['TLS Web Server Authentication', 'TLS Web Client Authentication'], subjectAltName: etcdSans, purposes: ['sslserver', 'sslclient'],
    },
    'etcd/healthcheck-client': { issuer: 'etcd/ca', commonName: 'kube-etcd-healthcheck-client', extendedKeyUsage: ['TLS Web Client Authentication'], purposes: ['sslclient'] },
    'apiserver-etcd-client': { issuer: 'etcd/ca', commonName: 'kube-apiserver-etcd-client', extendedKeyUsage: ['TLS Web Client Authentication'], purposes: ['sslclient'] },
  };
}

/** Reference §3: file, client CN, O and server for a control-plane node at `ip`. */
function expectedKubeconfigs(name: string, ip: string, first: boolean): Record<string, { commonName: string; organization?: string; server: string }> {
  const endpoint = 'https://api.k8s.example.internal:6443';
  const local = `https://${ip}:6443`;
  return {
    'admin.conf': { commonName: 'kubernetes-admin', organization: 'kubeadm:cluster-admins', server: endpoint },
    ...(first ? { 'super-admin.conf': { commonName: 'kubernetes-super-admin', organization: 'system:masters', server: endpoint } } : {}),
    'controller-manager.conf': { commonName: 'system:kube-controller-manager', server: local },
    'scheduler.conf': { commonName: 'system:kube-scheduler', server: local },
    'kubelet.conf': { commonName: `system:node:${name}`, organization: 'system:nodes', server: endpoint },
  };
}

/** Reference §4: every file of a stacked-etcd control-plane node with its mode (plus our kubelet/config.yaml). */
function expectedControlPlaneTree(first: boolean): Record<string, number> {
  const tree: Record<string, number> = {};
  for (const base of ['ca', 'apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-ca', 'front-proxy-client', 'etcd/ca', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client']) {
    tree[`pki/${base}.crt`] = 0o644;
    tree[`pki/${base}.key`] = 0o600;
  }
  tree['pki/sa.key'] = 0o600;
  tree['pki/sa.pub'] = 0o600;
  for (const conf of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf', ...(first ? ['super-admin.conf'] : [])]) tree[conf] = 0o600;
  for (const manifest of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) tree[`manifests/${manifest}.yaml`] = 0o600;
  tree['kubelet/config.yaml'] = 0o644;
  return tree;
}

/** Every file and directory under `dir` with its permission bits. */
function treeModes(dir: string): { files: Record<string, number>; directories: Record<string, number> } {
  const files: Record<string, number> = {};
  const directories: Record<string, number> = {};
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      const mode = fs.statSync(path.join(dir, child)).mode & 0o777;
      if (entry.isDirectory()) {
        directories[child] = mode;
        walk(child);
      } else files[child] = mode;
    }
  };
  walk('');
  return { files, directories };
}

/** The extensions as the openssl command prints them, keyed by name, with `critical` kept. */
function opensslExtensions(pem: string): Record<string, string> {
  const text = runOk('openssl', ['x509', '-noout', '-ext', 'keyUsage,basicConstraints,authorityKeyIdentifier,subjectKeyIdentifier'], { input: pem });
  const out: Record<string, string> = {};
  let current = '';
  for (const line of text.split('\n')) {
    if (/^X509v3 /.test(line)) {
      current = line.replace(/^X509v3 /, '').replace(/:.*$/, '');
      out[current] = line.includes('critical') ? 'critical ' : '';
    } else if (line.trim()) out[current] += line.trim();
  }
  return out;
}

function signatureAlgorithm(pem: string): string {
  const text = runOk('openssl', ['x509', '-noout', '-text'], { input: pem });
  return /Signature Algorithm: (\S+)/.exec(text)![1];
}

function subjectOf(cert: crypto.X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/** kubeadm's subject: O (when present) then CN, in DER order. */
function expectedSubject(commonName: string, organization?: string): string {
  return [organization && `O=${organization}`, `CN=${commonName}`].filter(Boolean).join(', ');
}

/** `openssl verify -x509_strict -purpose <purpose>` of `pem` against `caFile`; the exit code and message. */
function opensslVerify(dir: string, caFile: string, pem: string, purpose: Purpose): string {
  const leafFile = path.join(dir, `verify-${crypto.randomBytes(4).toString('hex')}.pem`);
  fs.writeFileSync(leafFile, pem);
  try {
    const result = run('openssl', ['verify', '-x509_strict', '-purpose', purpose, '-CAfile', caFile, leafFile]);
    return `exit ${result.status}: ${(result.stdout + result.stderr).replace(leafFile, 'leaf').trim()}`;
  } finally {
    fs.rmSync(leafFile);
  }
}

/** The leaf keyUsage kubeadm sets (digitalSignature | keyEncipherment) and ours per key type (docs/constructs.md). */
function expectedLeafKeyUsage(algorithm: KeyAlgorithm): string {
  return algorithm.startsWith('rsa') ? 'critical Digital Signature, Key Encipherment' : 'critical Digital Signature';
}

const SIGNATURE_ALGORITHMS: Partial<Record<KeyAlgorithm, string>> = { 'ecdsa-p256': 'ecdsa-with-SHA256', 'rsa-2048': 'sha256WithRSAEncryption' };
const PRIVATE_KEY_PEM_TYPES: Partial<Record<KeyAlgorithm, string>> = { 'ecdsa-p256': 'EC PRIVATE KEY', 'rsa-2048': 'RSA PRIVATE KEY' };

// P-256 is our default; RSA-2048 is kubeadm's, where even the leaf keyUsage is kubeadm's own.
describe.each(['ecdsa-p256', 'rsa-2048'] as KeyAlgorithm[])('kubeadm parity of the reference cluster, %s keys', (keyAlgorithm) => {
  // Whole seconds, as certificates carry them; issued now so that openssl verify accepts them today.
  const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  let exported: Record<'cp-1' | 'cp-2' | 'worker-1', ReturnType<typeof exportToTemp>>;

  beforeAll(() => {
    const { state } = synthReferenceCluster({ cluster: { ...REFERENCE_CLUSTER, keyAlgorithm }, clock: () => issuedAt });
    exported = { 'cp-1': exportToTemp(state, 'cp-1'), 'cp-2': exportToTemp(state, 'cp-2'), 'worker-1': exportToTemp(state, 'worker-1') };
  }, 60_000);

  afterAll(() => {
    for (const tree of Object.values(exported ?? {})) tree.cleanup();
  });

  const readCertificate = (node: keyof typeof exported, relative: string) => {
    const pem = fs.readFileSync(exported[node].file(relative), 'utf8');
    return { pem, x509: new crypto.X509Certificate(pem) };
  };

  const controlPlaneNodes = [
    { name: 'cp-1', ip: '10.0.0.11', first: true },
    { name: 'cp-2', ip: '10.0.0.12', first: false },
  ] as const;

  describe.each(controlPlaneNodes)('control-plane node $name', ({ name, ip, first }) => {
    test('the CAs: subject, SAN = CN, self-signed, critical CA:TRUE without pathlen, validity 87600h', () => {
      for (const [base, commonName] of Object.entries(CA_COMMON_NAMES)) {
        const { pem, x509 } = readCertificate(name, `pki/${base}.crt`);
        expect({ base, subject: subjectOf(x509), issuer: x509.issuer, san: x509.subjectAltName }).toEqual({ base, subject: `CN=${commonName}`, issuer: `CN=${commonName}`, san: `DNS:${commonName}` });
        expect(x509.ca).toBe(true);
        expect(x509.verify(x509.publicKey)).toBe(true);
        const extensions = opensslExtensions(pem);
        expect(extensions['Basic Constraints']).toBe('critical CA:TRUE');
        // Ours on purpose: kubeadm's CA keyUsage is Digital Signature, Key Encipherment, Certificate Sign.
        expect(extensions['Key Usage']).toBe('critical Digital Signature, Certificate Sign, CRL Sign');
        expect(extensions['Authority Key Identifier']).toBeUndefined();
        expect(new Date(x509.validFrom).getTime()).toBe(issuedAt.getTime() - BACKDATE_MS);
        expect(new Date(x509.validTo).getTime()).toBe(issuedAt.getTime() + CA_VALIDITY_MS);
      }
    });

    test('every pki/ leaf: subject, issuer, SANs in kubeadm order, usages, CA:FALSE, validity 8760h, signature', () => {
      for (const [base, expected] of Object.entries(expectedPkiCertificates(name, ip))) {
        const { pem, x509 } = readCertificate(name, `pki/${base}.crt`);
        const ca = readCertificate(name, `pki/${expected.issuer}.crt`).x509;
        expect({ base, subject: subjectOf(x509), issuer: x509.issuer, san: x509.subjectAltName }).toEqual({
          base,
          subject: expectedSubject(expected.commonName, expected.organization),
          issuer: `CN=${CA_COMMON_NAMES[expected.issuer]}`,
          san: expected.subjectAltName,
        });
        expect(x509.verify(ca.publicKey)).toBe(true);
        expect(x509.ca).toBe(false);
        const text = runOk('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage'], { input: pem });
        expect(text.split('\n')[1].trim().split(', ')).toEqual(expected.extendedKeyUsage);
        const extensions = opensslExtensions(pem);
        expect(extensions['Basic Constraints']).toBe('critical CA:FALSE');
        expect(extensions['Key Usage']).toBe(expectedLeafKeyUsage(keyAlgorithm));
        expect(extensions['Authority Key Identifier']).toBe(opensslExtensions(ca.toString())['Subject Key Identifier']);
        expect(signatureAlgorithm(pem)).toBe(SIGNATURE_ALGORITHMS[keyAlgorithm]);
        expect(new Date(x509.validFrom).getTime()).toBe(issuedAt.getTime() - BACKDATE_MS);
        expect(new Date(x509.validTo).getTime()).toBe(issuedAt.getTime() + LEAF_VALIDITY_MS);
        // One certificate per file, no chain (WriteCertAndKey).
        expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(1);
      }
    });

    test('openssl verify -x509_strict accepts every leaf for its purpose, and refuses a client certificate as a server', () => {
      for (const [base, expected] of Object.entries(expectedPkiCertificates(name, ip))) {
        const { pem } = readCertificate(name, `pki/${base}.crt`);
        for (const purpose of expected.purposes) expect(`${base} ${purpose} ${opensslVerify(exported[name].dir, exported[name].file(`pki/${expected.issuer}.crt`), pem, purpose)}`).toBe(`${base} ${purpose} exit 0: leaf: OK`);
      }
      const client = readCertificate(name, 'pki/apiserver-etcd-client.crt').pem;
      expect(opensslVerify(exported[name].dir, exported[name].file('pki/etcd/ca.crt'), client, 'sslserver')).toMatch(/^exit 2: .*error 26 at 0 depth lookup: unsuitable certificate purpose/s);
    });

    test('the private keys match their certificates and use kubeadm PEM types; sa.pub is the PKIX public key of sa.key', () => {
      for (const base of ['ca', 'front-proxy-ca', 'etcd/ca', ...Object.keys(expectedPkiCertificates(name, ip))]) {
        const keyPem = fs.readFileSync(exported[name].file(`pki/${base}.key`), 'utf8');
        expect(keyPem.startsWith(`-----BEGIN ${PRIVATE_KEY_PEM_TYPES[keyAlgorithm]}-----`)).toBe(true);
        expect(readCertificate(name, `pki/${base}.crt`).x509.checkPrivateKey(crypto.createPrivateKey(keyPem))).toBe(true);
      }
      const saKey = crypto.createPrivateKey(fs.readFileSync(exported[name].file('pki/sa.key')));
      const saPub = fs.readFileSync(exported[name].file('pki/sa.pub'), 'utf8');
      expect(saPub.startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
      expect(crypto.createPublicKey(saKey).export({ type: 'spki', format: 'pem' })).toBe(saPub);
    });

    test('kubeconfigs: kubeadm structure, client subject, server, clientAuth from the cluster CA', () => {
      for (const [file, expected] of Object.entries(expectedKubeconfigs(name, ip, first))) {
        const kubeconfig = parseYaml(fs.readFileSync(exported[name].file(file), 'utf8'));
        const user = expected.commonName;
        expect({ file, ...kubeconfig, clusters: undefined, users: undefined }).toEqual({
          file, apiVersion: 'v1', kind: 'Config', 'current-context': `${user}@kubernetes`, clusters: undefined, users: undefined,
          contexts: [{ name: `${user}@kubernetes`, context: { cluster: 'kubernetes', user } }], preferences: {},
        });
        expect(kubeconfig.clusters).toEqual([{ name: 'kubernetes', cluster: { server: expected.server, 'certificate-authority-data': Buffer.from(readCertificate(name, 'pki/ca.crt').pem).toString('base64') } }]);
        expect(kubeconfig.users.map((u: { name: string }) => u.name)).toEqual([user]);
        const pem = Buffer.from(kubeconfig.users[0].user['client-certificate-data'], 'base64').toString();
        const x509 = new crypto.X509Certificate(pem);
        expect({ file, subject: subjectOf(x509), issuer: x509.issuer }).toEqual({ file, subject: expectedSubject(expected.commonName, expected.organization), issuer: 'CN=kubernetes' });
        expect(x509.checkPrivateKey(crypto.createPrivateKey(Buffer.from(kubeconfig.users[0].user['client-key-data'], 'base64')))).toBe(true);
        expect(new Date(x509.validTo).getTime()).toBe(issuedAt.getTime() + LEAF_VALIDITY_MS);
        expect(opensslVerify(exported[name].dir, exported[name].file('pki/ca.crt'), pem, 'sslclient')).toBe('exit 0: leaf: OK');
      }
    });

    test('the static Pods carry every PKI flag of kubeadm (reference §5), each naming a file of the exported tree', () => {
      const P = '/etc/kubernetes/pki';
      const expected: Record<string, Record<string, string>> = {
        'kube-apiserver': {
          'client-ca-file': `${P}/ca.crt`, 'tls-cert-file': `${P}/apiserver.crt`, 'tls-private-key-file': `${P}/apiserver.key`,
          'kubelet-client-certificate': `${P}/apiserver-kubelet-client.crt`, 'kubelet-client-key': `${P}/apiserver-kubelet-client.key`,
          'service-account-key-file': `${P}/sa.pub`, 'service-account-signing-key-file': `${P}/sa.key`, 'service-account-issuer': 'https://kubernetes.default.svc.cluster.local',
          'requestheader-client-ca-file': `${P}/front-proxy-ca.crt`, 'requestheader-allowed-names': 'front-proxy-client', 'requestheader-username-headers': 'X-Remote-User',
          'requestheader-group-headers': 'X-Remote-Group', 'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
          'proxy-client-cert-file': `${P}/front-proxy-client.crt`, 'proxy-client-key-file': `${P}/front-proxy-client.key`,
          'etcd-servers': 'https://127.0.0.1:2379', 'etcd-cafile': `${P}/etcd/ca.crt`, 'etcd-certfile': `${P}/apiserver-etcd-client.crt`, 'etcd-keyfile': `${P}/apiserver-etcd-client.key`,
          'enable-bootstrap-token-auth': 'true', 'authorization-mode': 'Node,RBAC', 'enable-admission-plugins': 'NodeRestriction',
        },
        'kube-controller-manager': {
          'kubeconfig': '/etc/kubernetes/controller-manager.conf', 'authentication-kubeconfig': '/etc/kubernetes/controller-manager.conf', 'authorization-kubeconfig': '/etc/kubernetes/controller-manager.conf',
          'client-ca-file': `${P}/ca.crt`, 'requestheader-client-ca-file': `${P}/front-proxy-ca.crt`, 'root-ca-file': `${P}/ca.crt`, 'service-account-private-key-file': `${P}/sa.key`,
          'cluster-signing-cert-file': `${P}/ca.crt`, 'cluster-signing-key-file': `${P}/ca.key`, 'use-service-account-credentials': 'true',
          'controllers': '*,bootstrapsigner,tokencleaner', 'cluster-name': 'kubernetes', 'bind-address': '127.0.0.1',
        },
        'kube-scheduler': {
          'kubeconfig': '/etc/kubernetes/scheduler.conf', 'authentication-kubeconfig': '/etc/kubernetes/scheduler.conf', 'authorization-kubeconfig': '/etc/kubernetes/scheduler.conf', 'bind-address': '127.0.0.1',
        },
        'etcd': {
          'cert-file': `${P}/etcd/server.crt`, 'key-file': `${P}/etcd/server.key`, 'trusted-ca-file': `${P}/etcd/ca.crt`, 'client-cert-auth': 'true',
          'peer-cert-file': `${P}/etcd/peer.crt`, 'peer-key-file': `${P}/etcd/peer.key`, 'peer-trusted-ca-file': `${P}/etcd/ca.crt`, 'peer-client-cert-auth': 'true',
          'listen-client-urls': `https://127.0.0.1:2379,https://${ip}:2379`, 'advertise-client-urls': `https://${ip}:2379`, 'listen-peer-urls': `https://${ip}:2380`,
          'initial-advertise-peer-urls': `https://${ip}:2380`, 'listen-metrics-urls': 'http://127.0.0.1:2381',
        },
      };
      for (const [component, flags] of Object.entries(expected)) {
        const pod = parseYaml(fs.readFileSync(exported[name].file(`manifests/${component}.yaml`), 'utf8'));
        expectValidManifests([pod]);
        const container = pod.spec.containers[0];
        const actual = Object.fromEntries(container.command.slice(1).map((arg: string) => /^--([^=]+)=(.*)$/.exec(arg)!.slice(1)));
        expect({ component, ...actual }).toEqual(expect.objectContaining({ component, ...flags }));
        for (const value of Object.values(actual) as string[]) {
          if (value.startsWith('/etc/kubernetes/')) expect(fs.existsSync(exported[name].file(value.slice('/etc/kubernetes/'.length)))).toBe(true);
        }
        // kubeadm mounts only pki/etcd into etcd, so etcd never sees the cluster CA key.
        if (component === 'etcd') expect(pod.spec.volumes.map((v: { hostPath: { path: string } }) => v.hostPath.path).filter((p: string) => p.startsWith('/etc/kubernetes'))).toEqual([`${P}/etcd`]);
      }
    });

    test('the exported tree holds exactly kubeadm\'s files with kubeadm\'s modes', () => {
      const { files, directories } = treeModes(exported[name].dir);
      expect(files).toEqual(expectedControlPlaneTree(first));
      expect(directories).toEqual({ 'pki': 0o755, 'pki/etcd': 0o755, 'manifests': 0o700, 'kubelet': 0o755 });
    });
  });

  test('the CAs, the service-account key and the cluster-wide client certificates are the same on every control-plane node', () => {
    for (const file of ['pki/ca.crt', 'pki/ca.key', 'pki/etcd/ca.key', 'pki/front-proxy-ca.key', 'pki/sa.key', 'pki/apiserver-etcd-client.crt', 'pki/front-proxy-client.crt']) {
      expect(fs.readFileSync(exported['cp-2'].file(file), 'utf8')).toBe(fs.readFileSync(exported['cp-1'].file(file), 'utf8'));
    }
    expect(readCertificate('cp-2', 'pki/apiserver.crt').x509.fingerprint256).not.toBe(readCertificate('cp-1', 'pki/apiserver.crt').x509.fingerprint256);
  });

  test('a worker gets what kubeadm join leaves before TLS bootstrapping: bootstrap-kubelet.conf, the cluster CA certificate, the kubelet config; no private key', () => {
    const { files, directories } = treeModes(exported['worker-1'].dir);
    expect(files).toEqual({ 'bootstrap-kubelet.conf': 0o600, 'pki/ca.crt': 0o644, 'kubelet/config.yaml': 0o644 });
    expect(directories).toEqual({ 'pki': 0o755, 'manifests': 0o700, 'kubelet': 0o755 });
    // Reference §3: user tls-bootstrap-token-user with the token, cluster "kubernetes", the endpoint, the CA.
    const kubeconfig = parseYaml(fs.readFileSync(exported['worker-1'].file('bootstrap-kubelet.conf'), 'utf8'));
    expect(kubeconfig.users).toEqual([{ name: 'tls-bootstrap-token-user', user: { token: expect.stringMatching(/^[a-z0-9]{6}\.[a-z0-9]{16}$/) } }]);
    expect(kubeconfig['current-context']).toBe('tls-bootstrap-token-user@kubernetes');
    expect(kubeconfig.clusters).toEqual([{ name: 'kubernetes', cluster: { server: 'https://api.k8s.example.internal:6443', 'certificate-authority-data': Buffer.from(fs.readFileSync(exported['worker-1'].file('pki/ca.crt'))).toString('base64') } }]);
    // The KubeletConfiguration defaults kubeadm sets (componentconfigs/kubelet.go).
    const kubelet = parseYaml(fs.readFileSync(exported['worker-1'].file('kubelet/config.yaml'), 'utf8'));
    expectValidManifests([kubelet]);
    expect(kubelet).toEqual(expect.objectContaining({
      apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', rotateCertificates: true, authorization: expect.objectContaining({ mode: 'Webhook' }),
      authentication: expect.objectContaining({ x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' }, webhook: expect.objectContaining({ enabled: true }), anonymous: { enabled: false } }),
    }));
    expect(kubelet.serverTLSBootstrap).toBeUndefined();
  });
});
