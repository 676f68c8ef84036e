// A real etcd (Go's crypto/tls and crypto/x509) judges what the engine issues, in kubeadm's etcd layout:
// the server and peer certificates carry serverAuth+clientAuth, clients carry clientAuth, one etcd CA signs all.
// Nothing is mocked: etcd and etcdctl must be installed, and the suite fails (it does not skip) without them.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Certificate, ExtendedKeyUsageName, generateKey, issueCertificate, KeyAlgorithm, privateKeyToPem } from '../../src/engine';

const ETCD = 'etcd';
const ETCDCTL = 'etcdctl';
const DAY = 86400;
const YEAR = 365 * DAY;
const STARTUP_DEADLINE_MS = 20_000;
const ETCDCTL_TIMEOUT_MS = 15_000;

/** The default first, then the others a kubeadm cluster may use; each gets its own etcd with an all-<algorithm> PKI. */
const ALGORITHMS: KeyAlgorithm[] = ['ecdsa-p256', 'rsa-2048', 'ecdsa-p384', 'ed25519'];

/** etcd and etcdctl with a clean environment: no ETCD_* / ETCDCTL_* leaking in from the machine running the tests. */
function toolEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_') && !k.startsWith('ETCDCTL_')));
  return { ...env, ETCDCTL_API: '3' };
}

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

/** A port nobody listens on right now, on 127.0.0.1 (the kernel picks it; we close at once and hand it to etcd). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function twoFreePorts(): Promise<[number, number]> {
  for (;;) {
    const a = await freePort();
    const b = await freePort();
    if (a !== b) return [a, b];
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true if `promise` settles within `ms`, false otherwise; never leaves a timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface CtlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

class EtcdUnderTest {
  private stderr = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exit: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      }),
    );
  }

  get endpoint(): string {
    return `https://127.0.0.1:${this.clientPort}`;
  }

  get log(): string {
    return this.stderr;
  }

  /** Writes the PKI into `dir` (keys 0600), starts etcd with TLS on both URLs and waits for a healthy endpoint. */
  static async start(dir: string, pki: EtcdPki): Promise<EtcdUnderTest> {
    const write = (name: string, content: string, mode: number) => fs.writeFileSync(path.join(dir, name), content, { mode });
    const pair = (name: string, k: Keyed) => {
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

    const [clientPort, peerPort] = await twoFreePorts();
    const file = (name: string) => path.join(dir, name);
    const peerUrl = `https://127.0.0.1:${peerPort}`;
    const clientUrl = `https://127.0.0.1:${clientPort}`;
    const args = [
      '--name=t',
      `--data-dir=${file('data')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=t=${peerUrl}`,
      '--initial-cluster-state=new',
      `--cert-file=${file('server.crt')}`,
      `--key-file=${file('server.key')}`,
      `--trusted-ca-file=${file('ca.crt')}`,
      '--client-cert-auth',
      `--peer-cert-file=${file('peer.crt')}`,
      `--peer-key-file=${file('peer.key')}`,
      `--peer-trusted-ca-file=${file('ca.crt')}`,
      '--peer-client-cert-auth',
      '--logger=zap',
      '--log-outputs=stderr',
    ];
    const child = spawn(ETCD, args, { env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`${ETCD} could not start (is etcd installed?): ${err.message}`)));
    });
    await spawned;
    const etcd = new EtcdUnderTest(dir, clientPort, peerPort, child);
    try {
      await etcd.waitHealthy();
    } catch (err) {
      await etcd.stop(); // also when etcdctl itself is missing: never leave an etcd behind
      throw err;
    }
    return etcd;
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + STARTUP_DEADLINE_MS;
    let last: CtlResult | undefined;
    while (Date.now() < deadline) {
      if (this.exited) break;
      last = this.ctl('client', ['endpoint', 'health']);
      if (last.status === 0 && /is healthy/.test(last.stdout + last.stderr)) return;
      await sleep(250);
    }
    const why = this.exited ? `etcd exited (code ${this.exited.code}, signal ${this.exited.signal})` : `etcd was not healthy within ${STARTUP_DEADLINE_MS} ms`;
    throw new Error(`${why}\n--- last etcdctl endpoint health ---\n${last ? last.stdout + last.stderr : '(never ran)'}\n--- etcd output ---\n${this.stderr}`);
  }

  /**
   * Runs etcdctl against this etcd as the client `<identity>.crt/.key`, trusting `caFile` for the server.
   * A refused handshake only shows as a deadline on etcdctl's side, so calls expected to fail pass a short
   * `commandTimeout` and `--debug` (which makes gRPC print the client's own TLS errors).
   */
  ctl(identity: string, args: string[], options: { caFile?: string; commandTimeout?: string; debug?: boolean } = {}): CtlResult {
    const file = (name: string) => path.join(this.dir, name);
    const result = spawnSync(
      ETCDCTL,
      [
        `--endpoints=${this.endpoint}`,
        `--cacert=${file(options.caFile ?? 'ca.crt')}`,
        `--cert=${file(`${identity}.crt`)}`,
        `--key=${file(`${identity}.key`)}`,
        '--dial-timeout=3s',
        `--command-timeout=${options.commandTimeout ?? '5s'}`,
        ...(options.debug ? ['--debug'] : []),
        ...args,
      ],
      { env: toolEnv(), encoding: 'utf8', timeout: ETCDCTL_TIMEOUT_MS },
    );
    if (result.error) throw new Error(`${ETCDCTL} could not run (is etcdctl installed?): ${result.error.message}`);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** A position in etcd's log, to read only what a later call made it write. */
  logMark(): number {
    return this.stderr.length;
  }

  /** etcd's "rejected connection" reasons logged since `mark`, waiting (bounded) until one matches `awaited`. */
  async rejectionsSince(mark: number, awaited: RegExp, timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const rejections = () =>
      this.stderr
        .slice(mark)
        .split('\n')
        .filter((line) => line.includes('"msg":"rejected connection"'))
        .map((line) => (JSON.parse(line) as { error: string }).error);
    while (!rejections().some((reason) => awaited.test(reason)) && Date.now() < deadline) await sleep(50);
    return rejections();
  }

  /** GET `urlPath` on the peer listener over HTTP/1.1 with node's TLS client, presenting `<identity>.crt/.key`. */
  peerGet(identity: string, urlPath: string): Promise<{ status: number; body: string; protocol: string | null }> {
    const read = (name: string) => fs.readFileSync(path.join(this.dir, name));
    return new Promise((resolve, reject) => {
      const request = https.get(
        { host: '127.0.0.1', port: this.peerPort, path: urlPath, ca: read('ca.crt'), cert: read(`${identity}.crt`), key: read(`${identity}.key`), agent: false, timeout: 5000 },
        (response) => {
          const protocol = (response.socket as import('node:tls').TLSSocket).getProtocol();
          let body = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body, protocol }));
        },
      );
      request.on('timeout', () => request.destroy(new Error('peer request timed out')));
      request.on('error', reject);
    });
  }

  /** Stops etcd: SIGTERM, then SIGKILL if it has not exited after 5 s; waits for the exit either way. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    if (!(await settlesWithin(this.exit, 5000))) {
      this.child.kill('SIGKILL');
      await settlesWithin(this.exit, 5000);
    }
    if (!this.exited) throw new Error(`etcd (pid ${this.child.pid}) did not exit after SIGKILL`);
  }
}

/** How etcd logs a handshake the client abandoned before it finished (not an acceptance). */
const CUT_SHORT = /^read tcp [\d.:]+->[\d.:]+: read: connection reset by peer$|^EOF$/;

const output = (r: CtlResult) => `exit ${r.status}\n${r.stdout}${r.stderr}`;

describe.each(ALGORITHMS)('a real etcd with an all-%s PKI from the engine', (algorithm) => {
  let dir: string | undefined;
  let pki: EtcdPki;
  let etcd: EtcdUnderTest | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-pki-etcd-${algorithm}-`));
    pki = buildPki(algorithm);
    etcd = await EtcdUnderTest.start(dir, pki);
  }, 45_000);

  afterAll(async () => {
    try {
      await etcd?.stop();
    } finally {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  const running = (): EtcdUnderTest => {
    if (!etcd) throw new Error('etcd did not start (see beforeAll)');
    return etcd;
  };

  /**
   * A put etcd must refuse: etcdctl fails, etcd logs `reason` for the handshake, and the key was not written.
   * etcdctl redials until its deadline, so a handshake cut short when it gives up is logged as a reset: that is
   * the only other reason allowed.
   */
  async function expectRefusedPut(identity: string, key: string, reason: RegExp): Promise<void> {
    const mark = running().logMark();
    const ctl = running().ctl(identity, ['put', key, 'x'], { commandTimeout: '1s' });
    expect(ctl.status).not.toBe(0);
    expect(ctl.stdout).not.toContain('OK');
    expect(ctl.stderr).toMatch(/context deadline exceeded|all SubConns are in TransientFailure/);
    const rejections = await running().rejectionsSince(mark, reason);
    expect(rejections.filter((logged) => reason.test(logged)).length).toBeGreaterThan(0);
    for (const logged of rejections) expect(logged).toMatch(new RegExp(`${reason.source}|${CUT_SHORT.source}`));
    expect(output(running().ctl('client', ['get', key, '--print-value-only']))).toBe('exit 0\n');
  }

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
    expect(output(running().ctl('client', ['put', '/cdk8s-pki/probe', value]))).toBe('exit 0\nOK\n');
    expect(output(running().ctl('client', ['get', '/cdk8s-pki/probe', '--print-value-only']))).toBe(`exit 0\n${value}\n`);
  });

  test('a client certificate from another CA with the same names and usages is refused', async () => {
    await expectRefusedPut(
      'foreign-client',
      '/cdk8s-pki/intruder',
      /^tls: failed to verify client certificate: x509: certificate signed by unknown authority \(possibly because of ".*verification (failure|error).*" while trying to verify candidate authority certificate "etcd-ca"\)$/,
    );
  });

  test('a certificate from the etcd CA without clientAuth (serverAuth only) is refused', async () => {
    await expectRefusedPut('server-only-client', '/cdk8s-pki/server-only', /^tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage$/);
  });

  test('etcdctl refuses the server certificate when it trusts another CA (the server side is verified too)', async () => {
    const mark = running().logMark();
    const result = running().ctl('client', ['put', '/cdk8s-pki/wrong-trust', 'x'], { caFile: 'foreign-ca.crt', commandTimeout: '1s', debug: true });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/authentication handshake failed: x509: certificate signed by unknown authority/);
    expect(await running().rejectionsSince(mark, /^remote error: tls: bad certificate$/)).toContain('remote error: tls: bad certificate');
  });

  test('the peer listener takes the peer certificate as a client and refuses the other two', async () => {
    const members = await running().peerGet('peer', '/members');
    expect(members.status).toBe(200);
    expect(members.protocol).toBe('TLSv1.3');
    expect(JSON.parse(members.body)).toEqual([expect.objectContaining({ name: 't', peerURLs: [`https://127.0.0.1:${running().peerPort}`], clientURLs: [running().endpoint] })]);
    await expect(running().peerGet('foreign-client', '/members')).rejects.toThrow(/alert bad certificate/);
    await expect(running().peerGet('server-only-client', '/members')).rejects.toThrow(/alert bad certificate/);
  });
});
