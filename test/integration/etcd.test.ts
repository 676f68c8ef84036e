// A real etcd (Go's crypto/tls and crypto/x509) judges what the engine issues, in kubeadm's etcd layout:
// the server and peer certificates carry serverAuth+clientAuth, clients carry clientAuth, one etcd CA signs all.
// Nothing is mocked: etcd and etcdctl must be installed, and the suite fails (it does not skip) without them.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Certificate, ExtendedKeyUsageName, generateKey, issueCertificate, KeyAlgorithm, privateKeyToPem } from '../../src/engine';
import { ctlOutput, EtcdClient, EtcdUnderTest, expectRefusedPut, fromBeforeAll } from '../support/etcd-process';

const DAY = 86400;
const YEAR = 365 * DAY;

/** The default first, then the others a kubeadm cluster may use; each gets its own etcd with an all-<algorithm> PKI. */
const ALGORITHMS: KeyAlgorithm[] = ['ecdsa-p256', 'rsa-2048', 'ecdsa-p384', 'ed25519'];

interface Keyed {
  certificate: Certificate;
  key: crypto.KeyObject;
}

interface EtcdPki {
  ca: Keyed;
  server: Keyed;
  peer: Keyed;
  /** kubeadm's apiserver-etcd-client: clientAuth only, from the etcd CA. */
  client: Keyed;
  /** Same subject and usages as `client`, under a different CA that also calls itself "etcd-ca". */
  foreignClient: Keyed;
  /** From the right CA, but serverAuth only. */
  serverOnlyClient: Keyed;
  /** The other CA, for checking that etcdctl really verifies the server certificate. */
  foreignCa: Keyed;
}

function selfSignedCa(algorithm: KeyAlgorithm, commonName: string, now: Date): Keyed {
  const key = generateKey(algorithm);
  return { key, certificate: issueCertificate({ subject: { commonName }, ca: {}, validitySeconds: 10 * YEAR }, key, { privateKey: key }, now) };
}

function leaf(algorithm: KeyAlgorithm, ca: Keyed, commonName: string, usages: ExtendedKeyUsageName[], now: Date, options: { organizations?: string[]; hostSans?: boolean } = {}): Keyed {
  const key = generateKey(algorithm);
  const certificate = issueCertificate(
    {
      subject: { commonName, organizations: options.organizations },
      sans: options.hostSans ? { dnsNames: ['localhost', commonName], ipAddresses: ['127.0.0.1', '::1'] } : undefined,
      extendedKeyUsage: usages,
      validitySeconds: YEAR,
    },
    key,
    { privateKey: ca.key, certificate: ca.certificate },
    now,
  );
  return { key, certificate };
}

function buildPki(algorithm: KeyAlgorithm): EtcdPki {
  const now = new Date();
  const ca = selfSignedCa(algorithm, 'etcd-ca', now);
  const foreignCa = selfSignedCa(algorithm, 'etcd-ca', now);
  const clientName = 'kube-apiserver-etcd-client';
  return {
    ca,
    foreignCa,
    server: leaf(algorithm, ca, 'cp-1', ['serverAuth', 'clientAuth'], now, { hostSans: true }),
    peer: leaf(algorithm, ca, 'cp-1', ['serverAuth', 'clientAuth'], now, { hostSans: true }),
    client: leaf(algorithm, ca, clientName, ['clientAuth'], now),
    foreignClient: leaf(algorithm, foreignCa, clientName, ['clientAuth'], now),
    serverOnlyClient: leaf(algorithm, ca, clientName, ['serverAuth'], now),
  };
}

type Identity = 'server' | 'peer' | 'client' | 'foreign-client' | 'server-only-client';

/** `<identity>.crt/.key` in `dir`, trusting `caFile` (the etcd CA unless told) for etcd's own certificate. */
function identity(dir: string, name: Identity, caFile: 'ca.crt' | 'foreign-ca.crt' = 'ca.crt'): EtcdClient {
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`), ca: path.join(dir, caFile) };
}

/** Writes the PKI into `dir` (keys 0600) and starts etcd with TLS on both URLs and client certificates required. */
async function startEtcd(dir: string, pki: EtcdPki): Promise<EtcdUnderTest> {
  const write = (name: string, content: string, mode: number) => fs.writeFileSync(path.join(dir, name), content, { mode });
  const pair = (name: Identity, k: Keyed) => {
    write(`${name}.crt`, k.certificate.pem, 0o644);
    write(`${name}.key`, privateKeyToPem(k.key), 0o600);
  };
  write('ca.crt', pki.ca.certificate.pem, 0o644);
  write('foreign-ca.crt', pki.foreignCa.certificate.pem, 0o644);
  pair('server', pki.server);
  pair('peer', pki.peer);
  pair('client', pki.client);
  pair('foreign-client', pki.foreignClient);
  pair('server-only-client', pki.serverOnlyClient);

  const file = (name: string) => path.join(dir, name);
  return EtcdUnderTest.start({
    flags: [
      '--name=t',
      `--data-dir=${file('data')}`,
      '--initial-cluster-state=new',
      `--cert-file=${file('server.crt')}`,
      `--key-file=${file('server.key')}`,
      `--trusted-ca-file=${file('ca.crt')}`,
      '--client-cert-auth',
      `--peer-cert-file=${file('peer.crt')}`,
      `--peer-key-file=${file('peer.key')}`,
      `--peer-trusted-ca-file=${file('ca.crt')}`,
      '--peer-client-cert-auth',
    ],
    healthClient: identity(dir, 'client'),
  });
}

describe.each(ALGORITHMS)('a real etcd with an all-%s PKI from the engine', (algorithm) => {
  let dir: string | undefined;
  let pki: EtcdPki;
  let etcd: EtcdUnderTest | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-pki-etcd-${algorithm}-`));
    pki = buildPki(algorithm);
    etcd = await startEtcd(dir, pki);
  }, 45_000);

  afterAll(async () => {
    try {
      await etcd?.stop();
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  const running = (): EtcdUnderTest => fromBeforeAll(etcd, 'etcd did not start');

  /** `name`'s certificate and key from this suite's directory, trusting `caFile` for etcd's certificate. */
  const clientFiles = (name: Identity, caFile?: 'foreign-ca.crt'): EtcdClient => identity(fromBeforeAll(dir, 'no directory'), name, caFile);

  /** A put etcd must refuse for `reason`, checked as in expectRefusedPut, with the accepted client reading back. */
  const expectRefused = (name: Identity, key: string, reason: RegExp) => expectRefusedPut(running(), clientFiles(name), key, reason, clientFiles('client'));

  test('the certificates are what kubeadm lays out (engine self-check before asking etcd)', () => {
    expect(pki.server.certificate.extendedKeyUsage).toEqual(['serverAuth', 'clientAuth']);
    expect(pki.peer.certificate.extendedKeyUsage).toEqual(['serverAuth', 'clientAuth']);
    expect(pki.client.certificate.extendedKeyUsage).toEqual(['clientAuth']);
    expect(pki.serverOnlyClient.certificate.extendedKeyUsage).toEqual(['serverAuth']);
    expect(pki.client.certificate.isSignedBy(pki.ca.certificate.publicKey)).toBe(true);
    // The impostor names the same issuer and subject; only the signature tells them apart.
    expect(pki.foreignClient.certificate.issuer).toEqual(pki.client.certificate.issuer);
    expect(pki.foreignClient.certificate.subject).toEqual(pki.client.certificate.subject);
    expect(pki.foreignClient.certificate.isSignedBy(pki.ca.certificate.publicKey)).toBe(false);
  });

  test('a clientAuth certificate from the etcd CA can put a key and get it back', () => {
    const value = `issued-by-${algorithm}-${crypto.randomBytes(6).toString('hex')}`;
    expect(ctlOutput(running().ctl(clientFiles('client'), ['put', '/cdk8s-pki/probe', value]))).toBe('exit 0\nOK\n');
    expect(ctlOutput(running().ctl(clientFiles('client'), ['get', '/cdk8s-pki/probe', '--print-value-only']))).toBe(`exit 0\n${value}\n`);
  });

  test('a client certificate from another CA with the same names and usages is refused', async () => {
    await expectRefused(
      'foreign-client',
      '/cdk8s-pki/intruder',
      /^tls: failed to verify client certificate: x509: certificate signed by unknown authority \(possibly because of ".*verification (failure|error).*" while trying to verify candidate authority certificate "etcd-ca"\)$/,
    );
  });

  test('a certificate from the etcd CA without clientAuth (serverAuth only) is refused', async () => {
    await expectRefused('server-only-client', '/cdk8s-pki/server-only', /^tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage$/);
  });

  test('etcdctl refuses the server certificate when it trusts another CA (the server side is verified too)', async () => {
    const mark = running().logMark();
    const result = running().ctl(clientFiles('client', 'foreign-ca.crt'), ['put', '/cdk8s-pki/wrong-trust', 'x'], { commandTimeout: '1s', debug: true });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/authentication handshake failed: x509: certificate signed by unknown authority/);
    expect(await running().rejectionsSince(mark, /^remote error: tls: bad certificate$/)).toContain('remote error: tls: bad certificate');
  });

  test('the peer listener takes the peer certificate as a client and refuses the other two', async () => {
    const members = await running().peerGet(clientFiles('peer'), '/members');
    expect(members.status).toBe(200);
    expect(members.protocol).toBe('TLSv1.3');
    expect(JSON.parse(members.body)).toEqual([expect.objectContaining({ name: 't', peerURLs: [`https://127.0.0.1:${running().peerPort}`], clientURLs: [running().endpoint] })]);
    await expect(running().peerGet(clientFiles('foreign-client'), '/members')).rejects.toThrow(/alert bad certificate/);
    await expect(running().peerGet(clientFiles('server-only-client'), '/members')).rejects.toThrow(/alert bad certificate/);
  });
});
