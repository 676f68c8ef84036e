import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { App, Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { ClusterCA, PkiState, SecretOutput, TlsCertificate, usePkiState } from '../../constructs';
import { RancherIngressTLS, RancherIngressTLSProps, RancherServingCertificate } from '../../constructs/rancher-ingress-tls';
import { privateKeyToPem } from '../../src/engine/keys';
import { Certificate } from '../../src/engine/x509';
import { orderCacerts } from '../../src/rancher';
import { omittedSecrets } from '../../src/secrets/secret-plan';
import { expectValidManifests } from '../support/kubernetes-schema';
import { runOk, tempDir } from '../support/programs';

const HOSTNAME = 'rancher.example.com';
const VERSION = '2.12.1';
const FIXED_CLOCK = () => new Date('2026-01-15T09:00:00Z');

type Document = { kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string>; spec?: any };

/** A chart `test` holding one RancherIngressTLS `rancher`, over a seeded in-memory state and a fixed clock. */
function build(props: (chart: Chart) => Partial<RancherIngressTLSProps> = () => ({})) {
  const app = Testing.app();
  const state = usePkiState(app, PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'rancher-ingress-tls' }));
  const chart = new Chart(app, 'test');
  const rancher = new RancherIngressTLS(chart, 'rancher', { hostname: HOSTNAME, version: VERSION, ...props(chart) });
  return { app, chart, state, rancher };
}

/** Synthesizes like `cdk8s synth`, returning the documents and the values file written beside them. */
function synth(built: ReturnType<typeof build>) {
  const documents = Testing.synth(built.chart) as Document[];
  return { documents, valuesFile: fs.readFileSync(path.join(built.app.outdir, built.rancher.valuesFileName), 'utf8') };
}

/** A private root and an intermediate under it, the intermediate issuing. */
function caHierarchy(chart: Chart): { root: ClusterCA; issuing: ClusterCA } {
  const root = new ClusterCA(chart, 'root-ca', { commonName: 'Example Root CA' });
  return { root, issuing: new ClusterCA(chart, 'issuing-ca', { commonName: 'Example Issuing CA', issuer: root }) };
}

function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----\r?\n/g) ?? [];
}

function secretData(documents: Document[], name: string, key: string): string {
  const secret = documents.find((doc) => doc.kind === 'Secret' && doc.metadata.name === name);
  if (!secret?.data?.[key]) throw new Error(`no Secret ${name} with ${key} among ${documents.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return Buffer.from(secret.data[key], 'base64').toString('utf8');
}

/** CATTLE_CA_CHECKSUM of a file as the shell computes it: ASCII whitespace trimmed (C locale, so U+FEFF stays), one newline, sha256sum. */
function shellChecksum(file: string): string {
  const script = [
    'export LC_ALL=C',
    'shopt -s extglob',
    's="$(cat "$1"; printf x)"; s="${s%x}"',
    's="${s##+([[:space:]])}"; s="${s%%+([[:space:]])}"',
    'printf "%s\\n" "$s" | sha256sum | cut -d" " -f1',
  ].join('\n');
  return runOk('bash', ['-c', script, 'checksum', file]).trim();
}

/** Quiets and records what synth writes to stderr (warnings). */
function captureStderr(): { text: () => string; restore: () => void } {
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { text: () => spy.mock.calls.map((call) => String(call[0])).join(''), restore: () => spy.mockRestore() };
}

describe('each mode: objects, values and checksum', () => {
  const modes: [string, (chart: Chart) => Partial<RancherIngressTLSProps>][] = [
    ['rancher', () => ({})],
    ['letsEncrypt', () => ({ mode: 'letsEncrypt', email: 'ops@example.com', ingressClass: 'traefik', agentTLSMode: 'system-store' })],
    ['secret, from an intermediate ClusterCA', (chart) => ({ mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(caHierarchy(chart).issuing), agentTLSMode: 'strict' })],
    ['external, with a private CA', (chart) => ({ mode: 'external', cacertsPem: new ClusterCA(chart, 'front-ca', { commonName: 'Front Proxy CA' }).certificatePem })],
  ];

  test.each(modes)('%s: snapshot, stable across runs, valid manifests, values file = Application values', (_mode, props) => {
    const built = build(props);
    const { documents, valuesFile } = synth(built);
    expectValidManifests(documents);
    expect(synth(build(props))).toEqual({ documents, valuesFile });
    const application = documents.find((doc) => doc.kind === 'Application')!;
    expect(parse(valuesFile)).toEqual(application.spec.source.helm.valuesObject);
    expect(parse(valuesFile)).toEqual(built.rancher.values);
    expect({
      documents,
      valuesFile,
      omittedSecrets: omittedSecrets(built.state, 'cattle-system'),
      caChecksum: built.rancher.caChecksum,
      caChecksumReason: built.rancher.caChecksumReason,
    }).toMatchSnapshot();
  });

  test('rancher mode: nothing but the Application; the checksum is unknowable before install, and says so', () => {
    const { rancher } = build();
    expect(rancher.values).toEqual({ hostname: HOSTNAME, ingress: { tls: { source: 'rancher', secretName: 'tls-rancher-ingress' } }, privateCA: false, tls: 'ingress' });
    expect(rancher.caChecksum).toBeUndefined();
    expect(rancher.caChecksumReason).toMatch(/Rancher generates its own CA .* cannot be known at synth; after install: curl .*\/v3\/settings\/cacerts/);
    expect(rancher.ingressTlsSecret).toBeUndefined();
    expect(rancher.caSecret).toBeUndefined();
  });

  test('a public CA (--no-cacerts): the checksum is empty, with the reason', () => {
    const { rancher } = build(() => ({ mode: 'letsEncrypt', email: 'ops@example.com' }));
    expect(rancher.values.privateCA).toBe(false);
    expect(rancher.values.letsEncrypt).toEqual({ email: 'ops@example.com', environment: 'production' });
    expect(rancher.caChecksum).toBe('');
    expect(rancher.caChecksumReason).toMatch(/--no-cacerts/);
    expect(synth(build(() => ({ mode: 'external' }))).valuesFile).toContain('# CATTLE_CA_CHECKSUM: "" (empty)\n');
  });

  test('the checksum is over cacerts.pem as Go trims it: a byte order mark and CRLF line ends stay in', () => {
    const tmp = tempDir();
    try {
      const root = new ClusterCA(new Chart(Testing.app(), 'scratch'), 'root', { state: PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'bom' }) });
      const cacertsPem = `\uFEFF${root.certificatePem.replace(/\n/g, '\r\n')}\n \t\n`;
      const built = build(() => ({ mode: 'external', cacertsPem }));
      const rancher = built.rancher;
      expect(secretData(synth(built).documents, 'tls-ca', 'cacerts.pem')).toBe(cacertsPem);
      expect(rancher.caChecksum).toBe(shellChecksum(tmp.file('cacerts.pem', cacertsPem)));
      // JavaScript's trim() would drop the byte order mark that Go's strings.TrimSpace keeps.
      expect(rancher.caChecksum).not.toBe(shellChecksum(tmp.file('no-bom.pem', cacertsPem.slice(1))));
    } finally {
      tmp.cleanup();
    }
  });
});

describe('secret mode from a root ClusterCA → intermediate ClusterCA → leaf for the hostname', () => {
  let tmp: ReturnType<typeof tempDir>;
  let stderr: ReturnType<typeof captureStderr>;
  let files: { leaf: string; intermediates: string; root: string; cacerts: string; tlsCrt: string };
  let tls: { crt: string; key: string; leaf: string };
  let rancher: RancherIngressTLS;
  let cas: { root: ClusterCA; issuing: ClusterCA };

  beforeAll(() => {
    tmp = tempDir();
    stderr = captureStderr();
    const built = build((chart) => {
      cas = caHierarchy(chart);
      // Plaintext, so that the test reads tls.crt and tls.key from the Secret as the cluster would.
      return { mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(cas.issuing), secretOutput: SecretOutput.plaintext() };
    });
    rancher = built.rancher;
    const { documents } = synth(built);
    const crt = secretData(documents, 'tls-rancher-ingress', 'tls.crt');
    const cacerts = secretData(documents, 'tls-ca', 'cacerts.pem');
    const [leaf, ...intermediates] = pemCertificates(crt);
    tls = { crt, key: secretData(documents, 'tls-rancher-ingress', 'tls.key'), leaf };
    files = {
      leaf: tmp.file('leaf.pem', leaf),
      intermediates: tmp.file('intermediates.pem', intermediates.join('')),
      root: tmp.file('root.pem', pemCertificates(cacerts).at(-1)!),
      cacerts: tmp.file('cacerts.pem', cacerts),
      tlsCrt: tmp.file('tls.crt', crt),
    };
  });

  afterAll(() => {
    stderr.restore();
    tmp.cleanup();
  });

  test('the plaintext Secret is announced on stderr', () => {
    expect(stderr.text()).toContain('test/rancher/ingress-tls: Secret cattle-system/tls-rancher-ingress is written in plaintext');
  });

  test('tls.crt is leaf + intermediate (no root); cacerts.pem is intermediate + root', () => {
    expect(pemCertificates(tls.crt).slice(1)).toEqual([cas.issuing.certificatePem]);
    expect(pemCertificates(fs.readFileSync(files.cacerts, 'utf8'))).toEqual([cas.issuing.certificatePem, cas.root.certificatePem]);
  });

  test('openssl verifies the leaf for the hostname through the served intermediate up to the root', () => {
    const out = runOk('openssl', ['verify', '-purpose', 'sslserver', '-verify_hostname', HOSTNAME, '-untrusted', files.intermediates, '-CAfile', files.root, files.leaf]);
    expect(out.trim()).toBe(`${files.leaf}: OK`);
  });

  test('CATTLE_CA_CHECKSUM equals sha256sum of the trimmed cacerts.pem plus a newline, and heads the values file', () => {
    const expected = shellChecksum(files.cacerts);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
    expect(rancher.caChecksum).toBe(expected);
    expect(rancher.valuesFile).toContain(`# CATTLE_CA_CHECKSUM: ${expected}\n`);
    expect(rancher.values).toMatchObject({ privateCA: true, tls: 'ingress', ingress: { tls: { source: 'secret', secretName: 'tls-rancher-ingress' } } });
  });

  describe('end to end: an HTTPS server for the hostname, reached with curl', () => {
    const execFileAsync = promisify(execFile);

    async function serving<T>(certificatePem: string, use: (port: number) => Promise<T>): Promise<T> {
      const server = https.createServer({ cert: certificatePem, key: tls.key }, (_request, response) => response.end('rancher'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        return await use((server.address() as AddressInfo).port);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }

    /** curl's exit code and output; run asynchronously, since the server answers from this process. */
    async function curl(caFile: string, port: number): Promise<{ exitCode: number; stdout: string; stderr: string }> {
      const args = ['--silent', '--show-error', '--max-time', '20', '--cacert', caFile, '--resolve', `${HOSTNAME}:${port}:127.0.0.1`, `https://${HOSTNAME}:${port}/`];
      try {
        const { stdout, stderr } = await execFileAsync('curl', args);
        return { exitCode: 0, stdout, stderr };
      } catch (err) {
        const failed = err as { code?: unknown; stdout: string; stderr: string };
        if (typeof failed.code !== 'number') throw err; // curl did not run
        return { exitCode: failed.code, stdout: failed.stdout, stderr: failed.stderr };
      }
    }

    test('with tls.crt served, curl --cacert cacerts.pem succeeds', async () => {
      const result = await serving(tls.crt, (port) => curl(files.cacerts, port));
      expect(result).toEqual({ exitCode: 0, stdout: 'rancher', stderr: '' });
    });

    test('with the intermediate dropped from the served chain, a client that trusts the root fails (curl exit 60)', async () => {
      const { rootOnly, withCacerts } = await serving(tls.leaf, async (port) => ({ rootOnly: await curl(files.root, port), withCacerts: await curl(files.cacerts, port) }));
      expect(rootOnly.exitCode).toBe(60);
      expect(rootOnly.stderr).toContain('unable to get local issuer certificate');
      // cacerts.pem holds the intermediate, so curl completes the chain from it: clients given only the root
      // (browsers with the root installed) are the ones that fail, hence synth refuses such a chain (below).
      expect(withCacerts.exitCode).toBe(0);
    });
  });
});

describe('secret mode from PEM', () => {
  /** Certificates made by a separate app, handed over as PEM as a user would. */
  const pem = (() => {
    const chart = new Chart(Testing.app(), 'fixtures');
    const state = usePkiState(chart, PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'pem-fixtures' }));
    const { issuing } = caHierarchy(chart);
    const otherRoot = new ClusterCA(chart, 'other-root', { commonName: 'Other Root CA' });
    const leaf = (id: string, dnsNames: string[], ca = issuing) => {
      const certificate = new TlsCertificate(chart, id, { ca, commonName: dnsNames[0], dnsNames });
      // The key as a user would bring it: read out of the state that made it.
      return { certificatePem: certificate.certificatePem, fullChainPem: certificate.fullChainPem, privateKeyPem: privateKeyToPem(state.privateKey(certificate.keyReference.slot, certificate.keyReference.generation)) };
    };
    return {
      served: leaf('served', [HOSTNAME]),
      wildcard: leaf('wildcard', ['*.example.com']),
      other: leaf('other', ['other.example.com']),
      foreign: leaf('foreign', [HOSTNAME], otherRoot),
      cacertsPem: issuing.trustBundlePem,
    };
  })();
  const fromPem = (certificate: { fullChainPem: string; privateKeyPem: string }, overrides: Partial<{ certificateChainPem: string; privateKeyPem: string }> = {}) =>
    RancherServingCertificate.fromPem({ certificateChainPem: certificate.fullChainPem, privateKeyPem: certificate.privateKeyPem, ...overrides });

  test('a chain for the hostname with its private CA: tls.crt and tls.key as given, tls-ca from cacertsPem', () => {
    const stderr = captureStderr();
    try {
      const built = build(() => ({ mode: 'secret', certificate: fromPem(pem.served), cacertsPem: pem.cacertsPem, secretOutput: SecretOutput.plaintext() }));
      const { documents } = synth(built);
      expectValidManifests(documents);
      expect(secretData(documents, 'tls-rancher-ingress', 'tls.crt')).toBe(pem.served.fullChainPem);
      expect(secretData(documents, 'tls-rancher-ingress', 'tls.key')).toBe(pem.served.privateKeyPem);
      expect(secretData(documents, 'tls-ca', 'cacerts.pem')).toBe(pem.cacertsPem);
    } finally {
      stderr.restore();
    }
  });

  test('under the default policy, tls-rancher-ingress is left out and recorded with its key as given', () => {
    const built = build(() => ({ mode: 'secret', certificate: fromPem(pem.served), cacertsPem: pem.cacertsPem }));
    expect(synth(built).documents.map((doc) => `${doc.kind}/${doc.metadata.name}`)).toEqual(['Secret/tls-ca', 'Application/rancher']);
    expect(omittedSecrets(built.state, 'cattle-system')).toEqual([
      {
        name: 'tls-rancher-ingress',
        namespace: 'cattle-system',
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': { kind: 'text', text: pem.served.fullChainPem }, 'tls.key': { kind: 'text', text: pem.served.privateKeyPem } },
      },
    ]);
  });

  test('a wildcard covers exactly one label', () => {
    expect(build(() => ({ mode: 'secret', certificate: fromPem(pem.wildcard), cacertsPem: pem.cacertsPem })).rancher.caChecksum).toMatch(/^[0-9a-f]{64}$/);
    expect(() => build(() => ({ hostname: `eu.${HOSTNAME}`, mode: 'secret', certificate: fromPem(pem.wildcard), cacertsPem: pem.cacertsPem }))).toThrow(
      `test/rancher: certificate.certificateChainPem: the certificate "*.example.com" does not cover hostname "eu.rancher.example.com" (its DNS names: *.example.com;`,
    );
  });

  describe('refused at synth, naming the construct and the prop', () => {
    test('a certificate that does not cover the hostname', () => {
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.other), cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.certificateChainPem: the certificate "other.example.com" does not cover hostname "rancher.example.com" (its DNS names: other.example.com; clients ignore the CN)',
      );
    });

    test('a chain that does not verify up to the given CA', () => {
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.foreign), cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.certificateChainPem: does not verify up to cacertsPem: "rancher.example.com" was issued by "Other Root CA", which cacertsPem does not hold',
      );
    });

    test('a chain that misses its intermediate', () => {
      const leafOnly = fromPem(pem.served, { certificateChainPem: pem.served.certificatePem });
      expect(() => build(() => ({ mode: 'secret', certificate: leafOnly, cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.certificateChainPem: misses the intermediate "Example Issuing CA": append it after "rancher.example.com"',
      );
    });

    test('a chain out of order (its first certificate then is not the key\'s), with a gap, or ending in the root', () => {
      const [leaf, intermediate] = pemCertificates(pem.served.fullChainPem);
      const root = pemCertificates(pem.cacertsPem)[1];
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.served, { certificateChainPem: intermediate + leaf }), cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.privateKeyPem: does not match the certificate "Example Issuing CA"',
      );
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.served, { certificateChainPem: leaf + root }), cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.certificateChainPem[1]: "Example Root CA" did not issue "rancher.example.com": give the certificates in order, leaf first',
      );
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.served, { certificateChainPem: leaf + intermediate + root }), cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.certificateChainPem[2]: "Example Root CA" is self-signed: tls.crt holds the leaf then its intermediates, never the root',
      );
    });

    test('a key that does not match the certificate', () => {
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.served, { privateKeyPem: pem.other.privateKeyPem }), cacertsPem: pem.cacertsPem }))).toThrow(
        'test/rancher: certificate.privateKeyPem: does not match the certificate "rancher.example.com"',
      );
    });

    test('a private CA without privateCA/tls-ca', () => {
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.served) }))).toThrow(
        `test/rancher: cacertsPem: is required: "Example Issuing CA" was issued by "Example Root CA", which is not a public root (Node's bundled Mozilla store). ` +
          'Without an uploaded CA the chart runs Rancher with --no-cacerts',
      );
    });

    test('cacertsPem out of order', () => {
      const [intermediate, root] = pemCertificates(pem.cacertsPem);
      expect(() => build(() => ({ mode: 'secret', certificate: fromPem(pem.served), cacertsPem: root + intermediate }))).toThrow(
        'test/rancher: cacertsPem[1]: "Example Issuing CA" did not issue "Example Root CA": give the certificates in order, intermediate then root',
      );
    });
  });
});

describe('refused at synth: agents, props and modes', () => {
  test('agentTLSMode strict with a public CA and no uploaded CA', () => {
    for (const props of [{ mode: 'letsEncrypt', email: 'ops@example.com' }, { mode: 'external' }] as const) {
      expect(() => build(() => ({ ...props, agentTLSMode: 'strict' }))).toThrow(
        'test/rancher: agentTLSMode: strict makes agents trust only the CA of the cacerts setting, which is empty here (no CA uploaded, so the chart passes --no-cacerts)',
      );
    }
  });

  test('agentTLSMode strict is accepted where cacerts is set: Rancher\'s own CA, or an uploaded one', () => {
    expect(build(() => ({ agentTLSMode: 'strict' })).rancher.values.agentTLSMode).toBe('strict');
    const uploadedRoot = new ClusterCA(new Chart(Testing.app(), 'scratch'), 'root', { state: PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'strict' }) }).certificatePem;
    expect(build(() => ({ mode: 'letsEncrypt', email: 'ops@example.com', agentTLSMode: 'strict', cacertsPem: uploadedRoot })).rancher.values.privateCA).toBe(true);
  });

  test('letsEncrypt: email required, environment production or staging only', () => {
    expect(() => build(() => ({ mode: 'letsEncrypt' }))).toThrow('test/rancher: email: is required with mode letsEncrypt');
    expect(() => build(() => ({ mode: 'letsEncrypt', email: 'ops@example.com', environment: 'prod' as 'production' }))).toThrow(
      'test/rancher: environment: must be "production" or "staging" (got "prod"); the chart would silently take any other value for staging',
    );
  });

  test('a prop of another mode, a missing certificate, a CA beside a ClusterCA, no version', () => {
    expect(() => build(() => ({ mode: 'secret', email: 'ops@example.com' }))).toThrow('test/rancher: email: applies to mode letsEncrypt, not to mode "secret"');
    expect(() => build(() => ({ cacertsPem: 'x' }))).toThrow('test/rancher: cacertsPem: applies to mode letsEncrypt or secret or external, not to mode "rancher"');
    expect(() => build(() => ({ mode: 'secret' }))).toThrow('test/rancher: certificate: is required with mode secret');
    expect(() => build((chart) => ({ mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(caHierarchy(chart).issuing), cacertsPem: 'x' }))).toThrow(
      'test/rancher: cacertsPem: comes from the ClusterCA of RancherServingCertificate.fromClusterCa; leave it out',
    );
    expect(() => build(() => ({ version: '' }))).toThrow('test/rancher: version: is required');
    expect(() => build(() => ({ hostname: 'Rancher.example.com' }))).toThrow('test/rancher: hostname: "Rancher.example.com" is not a DNS name');
  });

  test('letsEncrypt staging without an uploaded CA: a warning on stderr with the fix', () => {
    const stderr = captureStderr();
    try {
      build(() => ({ mode: 'letsEncrypt', email: 'ops@example.com', environment: 'staging' }));
      expect(stderr.text()).toContain(
        "cdk8s-pki: warning: test/rancher: environment: Let's Encrypt staging certificates chain to roots no client trusts, and without an uploaded CA the chart runs Rancher with --no-cacerts",
      );
      expect(stderr.text()).toContain('Fix: set cacertsPem to the staging root');
    } finally {
      stderr.restore();
    }
  });

  test('letsEncrypt staging with the staging root uploaded: no warning, privateCA', () => {
    const stderr = captureStderr();
    try {
      const stagingRoot = new ClusterCA(new Chart(Testing.app(), 'scratch'), 'root', { state: PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'staging' }) }).certificatePem;
      const { rancher } = build(() => ({ mode: 'letsEncrypt', email: 'ops@example.com', environment: 'staging', cacertsPem: stagingRoot }));
      expect(stderr.text()).toBe('');
      expect(rancher.values).toMatchObject({ privateCA: true, letsEncrypt: { environment: 'staging' } });
    } finally {
      stderr.restore();
    }
  });
});

describe('the hostname, recorded in the state', () => {
  test('a change is refused unless allowHostnameChange; the values file lands beside the manifests', () => {
    const tmp = tempDir();
    try {
      const dist = path.join(tmp.dir, 'dist');
      const synthApp = (hostname: string, allowHostnameChange?: boolean) => {
        const app = new App({ outdir: dist });
        usePkiState(app, PkiState.inDirectory(path.join(tmp.dir, '.pki')));
        const rancher = new RancherIngressTLS(new Chart(app, 'cluster'), 'rancher', { hostname, version: VERSION, allowHostnameChange });
        app.synth();
        return rancher;
      };
      const first = synthApp(HOSTNAME);
      expect(fs.readdirSync(dist).sort()).toEqual(['PKI.md', 'cluster-rancher-values.yaml', 'cluster.k8s.yaml']);
      expect(fs.readFileSync(path.join(dist, 'cluster-rancher-values.yaml'), 'utf8')).toBe(first.valuesFile);

      expect(() => synthApp('rancher2.example.com')).toThrow(
        'cluster/rancher: hostname: changed from "rancher.example.com" to "rancher2.example.com", but Rancher\'s hostname cannot change after install',
      );
      synthApp('rancher2.example.com', true);
      expect(synthApp('rancher2.example.com').values.hostname).toBe('rancher2.example.com');
      expect(() => synthApp(HOSTNAME)).toThrow('hostname: changed from "rancher2.example.com" to "rancher.example.com"');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('cacerts during a CA rotation: several CAs, in a stable order', () => {
  // Made by openssl, so that the certificates do not come from the code under test: two roots with one subject
  // (what a rotation makes: the same CA, a new key), and two intermediates of one subject under a third root.
  const made = (() => {
    const tmp = tempDir();
    const ca = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
    const root = (name: string, subject: string) => {
      runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tmp.file(`${name}.key`), '-out', tmp.file(`${name}.crt`), '-subj', subject, '-days', '3650', ...ca]);
      return fs.readFileSync(tmp.file(`${name}.crt`), 'utf8');
    };
    const signed = (name: string, subject: string, issuer: string, extensions: string, sans = '') => {
      runOk('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tmp.file(`${name}.key`), '-out', tmp.file(`${name}.csr`), '-subj', subject]);
      tmp.file(`${name}.ext`, `${extensions}\n${sans}\n`);
      runOk('openssl', ['x509', '-req', '-in', tmp.file(`${name}.csr`), '-CA', tmp.file(`${issuer}.crt`), '-CAkey', tmp.file(`${issuer}.key`), '-out', tmp.file(`${name}.crt`), '-days', '365', '-extfile', tmp.file(`${name}.ext`)]);
      return { certificatePem: fs.readFileSync(tmp.file(`${name}.crt`), 'utf8'), privateKeyPem: fs.readFileSync(tmp.file(`${name}.key`), 'utf8') };
    };
    const intermediate = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
    const result = {
      oldRoot: root('old-root', '/CN=Rotated Ingress CA'),
      newRoot: root('new-root', '/CN=Rotated Ingress CA'),
      top: root('top', '/CN=Top Root CA'),
      oldIssuing: signed('old-issuing', '/CN=Rotated Issuing CA', 'top', intermediate).certificatePem,
      newIssuing: signed('new-issuing', '/CN=Rotated Issuing CA', 'top', intermediate).certificatePem,
      served: signed('served', `/CN=${HOSTNAME}`, 'old-root', 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth', `subjectAltName=DNS:${HOSTNAME}`),
    };
    tmp.cleanup();
    return result;
  })();
  const fingerprints = (pem: string) => pemCertificates(pem).map((c) => new X509Certificate(c).fingerprint256);
  const certificates = (...pems: string[]) => pems.map((pem) => Certificate.fromPem(pem));

  test('orderCacerts puts the given CAs first in the given order, each followed by its issuers, each certificate once', () => {
    expect(fingerprints(orderCacerts(made.newRoot + made.oldRoot, certificates(made.oldRoot, made.newRoot)))).toEqual(fingerprints(made.oldRoot + made.newRoot));
    // The bundle of a rotating intermediate, signer first and its root not repeated: [new, top, old] → [old, top, new].
    expect(fingerprints(orderCacerts(made.newIssuing + made.top + made.oldIssuing, certificates(made.oldIssuing, made.newIssuing)))).toEqual(
      fingerprints(made.oldIssuing + made.top + made.newIssuing),
    );
  });

  test('orderCacerts returns the bundle itself, byte for byte, when the order is already the one asked', () => {
    const bundle = made.oldRoot + made.newRoot;
    expect(orderCacerts(bundle, certificates(made.oldRoot, made.newRoot))).toBe(bundle);
    expect(orderCacerts(made.oldRoot, certificates(made.oldRoot))).toBe(made.oldRoot);
  });

  test('cacertsPem may hold two roots of one name, or two intermediates and their root; the checksum is over the bytes as given', () => {
    for (const [cacertsPem, reversed] of [
      [made.oldRoot + made.newRoot, made.newRoot + made.oldRoot],
      [made.oldIssuing + made.top + made.newIssuing, made.newIssuing + made.top + made.oldIssuing],
    ]) {
      const tmp = tempDir();
      const checksum = build(() => ({ mode: 'external', cacertsPem })).rancher.caChecksum;
      expect(checksum).toBe(shellChecksum(tmp.file('cacerts.pem', cacertsPem)));
      // The same CAs in the other order are another checksum: what agents pin is the bytes.
      expect(build(() => ({ mode: 'external', cacertsPem: reversed })).rancher.caChecksum).not.toBe(checksum);
      tmp.cleanup();
    }
  });

  test('a certificate of the old CA is accepted with both CAs in cacertsPem, in either order, and refused without its CA', () => {
    const certificate = RancherServingCertificate.fromPem({ certificateChainPem: made.served.certificatePem, privateKeyPem: made.served.privateKeyPem });
    for (const cacertsPem of [made.oldRoot + made.newRoot, made.newRoot + made.oldRoot]) {
      expect(build(() => ({ mode: 'secret', certificate, cacertsPem })).rancher.caChecksum).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(() => build(() => ({ mode: 'secret', certificate, cacertsPem: made.newRoot }))).toThrow('does not verify up to cacertsPem');
  });

  test('two intermediates with no root between them are still refused', () => {
    expect(() => build(() => ({ mode: 'external', cacertsPem: made.oldIssuing + made.newIssuing }))).toThrow(
      'test/rancher: cacertsPem[1]: "Rotated Issuing CA" did not issue "Rotated Issuing CA": give the certificates in order, intermediate then root',
    );
  });
});
