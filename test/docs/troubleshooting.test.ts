import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, RunResult, runOk, tempDir } from '../support/programs';
import { curlHttps, kubectlHealthz, RecordingServer, startRecordingServer } from '../support/tls-server';

// docs/troubleshooting.md quotes what kubectl (Go's crypto/x509), curl and openssl print for a server certificate
// from another CA, one that does not hold the name or address asked for, and one that has expired. Each quoted line
// is checked here against the program itself, run on 127.0.0.1 against certificates openssl makes, so the page
// keeps saying what a user will see.
const PAGE = fs.readFileSync(path.resolve(__dirname, '../../docs/troubleshooting.md'), 'utf8');

/** The page's SANs: kubeadm-like names and addresses of an API server. */
const SANS = 'subjectAltName=DNS:kubernetes,DNS:kubernetes.default,IP:10.96.0.1,IP:10.0.0.11\nextendedKeyUsage=serverAuth\n';

const work = tempDir('cdk8s-pki-troubleshooting-');
const servers: Record<'valid' | 'noIp' | 'expired', RecordingServer | undefined> = { valid: undefined, noIp: undefined, expired: undefined };

/** A self-signed CA `name`.crt/.key in the work directory. */
function makeCa(name: string): string {
  runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-days', '30', '-keyout', work.file(`${name}.key`), '-out', work.file(`${name}.crt`)]);
  return work.file(`${name}.crt`);
}

/** A server certificate `name`.crt/.key from the CA `kubernetes`, with `extensions`, valid `days` (negative: already expired). */
function makeLeaf(name: string, extensions: string, days: number): { cert: string; key: string } {
  runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=kube-apiserver', '-keyout', work.file(`${name}.key`), '-out', work.file(`${name}.csr`)]);
  runOk('openssl', ['x509', '-req', '-in', work.file(`${name}.csr`), '-CA', work.file('kubernetes.crt'), '-CAkey', work.file('kubernetes.key'), '-CAcreateserial', '-days', String(days), '-extfile', work.file(`${name}.cnf`, extensions), '-out', work.file(`${name}.crt`)]);
  return { cert: work.file(`${name}.crt`), key: work.file(`${name}.key`) };
}

/** A kubeconfig trusting `caFile`, with a token user (the server asks for no client certificate). */
function kubeconfig(caFile: string): string {
  const config = { apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority': caFile } }], users: [{ name: 'u', user: { token: 'abcdef.0123456789abcdef' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' };
  return work.file(`kubeconfig-${path.basename(caFile, '.crt')}`, JSON.stringify(config));
}

/** The first line of `text` that starts with `prefix`, or the text itself when none does (so a failing match shows what was printed). */
const lineStarting = (text: string, prefix: string): string => text.split('\n').find((l) => l.startsWith(prefix)) ?? text;

/** The program failed, its line starting like `quoted` is `quoted`, and the page quotes that line. */
function expectQuoted(result: RunResult, quoted: string): void {
  expect(result.status).not.toBe(0);
  expect(lineStarting(result.stdout + result.stderr, quoted.slice(0, 12))).toBe(quoted);
  expect(PAGE).toContain(quoted);
}

const KUBECTL = 'Unable to connect to the server: tls: failed to verify certificate: ';
const verify = (...args: string[]) => run('openssl', ['verify', ...args]);

let ca: string;
let otherCa: string;
const cacheDir = work.file('kubectl-cache');

beforeAll(async () => {
  ca = makeCa('kubernetes');
  otherCa = makeCa('other-ca');
  const read = (leaf: { cert: string; key: string }) => ({ cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) });
  servers.valid = await startRecordingServer(read(makeLeaf('apiserver', SANS, 30)));
  servers.noIp = await startRecordingServer(read(makeLeaf('no-ip', 'subjectAltName=DNS:kubernetes\nextendedKeyUsage=serverAuth\n', 30)));
  servers.expired = await startRecordingServer(read(makeLeaf('expired', SANS, -1)));
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s?.close()));
  work.cleanup();
});

describe('docs/troubleshooting.md quotes what the programs print', () => {
  test('x509: certificate signed by unknown authority: kubectl, curl and openssl verify with another CA', async () => {
    expectQuoted(await kubectlHealthz(kubeconfig(otherCa), servers.valid!.port, cacheDir), `${KUBECTL}x509: certificate signed by unknown authority`);
    const curl = await curlHttps({ cacert: otherCa }, 'kubernetes', servers.valid!.port, '/healthz');
    expect(curl.status).toBe(60);
    expectQuoted(curl, 'curl: (60) SSL certificate problem: unable to get local issuer certificate');
    expectQuoted(verify('-CAfile', otherCa, work.file('apiserver.crt')), 'error 20 at 0 depth lookup: unable to get local issuer certificate');
  });

  test('x509: certificate is valid for …, not …: a DNS name and an address the certificate does not hold', async () => {
    const port = servers.valid!.port;
    expectQuoted(await kubectlHealthz(kubeconfig(ca), port, cacheDir, 'api.k8s.example.internal'), `${KUBECTL}x509: certificate is valid for kubernetes, kubernetes.default, not api.k8s.example.internal`);
    expectQuoted(await kubectlHealthz(kubeconfig(ca), port, cacheDir, '127.0.0.1'), `${KUBECTL}x509: certificate is valid for 10.96.0.1, 10.0.0.11, not 127.0.0.1`);

    // The page quotes this one without kubectl's prefix, inside its prose.
    const noIpSans = "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs";
    const noIp = await kubectlHealthz(kubeconfig(ca), servers.noIp!.port, cacheDir, '127.0.0.1');
    expect(lineStarting(noIp.stderr, KUBECTL)).toBe(`${KUBECTL}${noIpSans}`);
    expect(PAGE).toContain(noIpSans);

    const curl = await curlHttps({ cacert: ca }, 'api.k8s.example.internal', port, '/healthz');
    expect(curl.status).toBe(60);
    expectQuoted(curl, "curl: (60) SSL: no alternative certificate subject name matches target host name 'api.k8s.example.internal'");
    expectQuoted(verify('-CAfile', ca, '-verify_hostname', 'api.k8s.example.internal', work.file('apiserver.crt')), 'error 62 at 0 depth lookup: hostname mismatch');
    expectQuoted(verify('-CAfile', ca, '-verify_ip', '10.0.0.10', work.file('apiserver.crt')), 'error 64 at 0 depth lookup: IP address mismatch');
  });

  test('the certificate that verifies is accepted by the same programs (the failures above are the names and the CA)', async () => {
    const kubectl = await kubectlHealthz(kubeconfig(ca), servers.valid!.port, cacheDir, 'kubernetes');
    expect({ status: kubectl.status, stdout: kubectl.stdout }).toEqual({ status: 0, stdout: 'ok' });
    const curl = await curlHttps({ cacert: ca }, 'kubernetes', servers.valid!.port, '/healthz');
    expect({ status: curl.status, stdout: curl.stdout }).toEqual({ status: 0, stdout: 'ok' });
    expect(verify('-CAfile', ca, '-verify_hostname', 'kubernetes', work.file('apiserver.crt')).status).toBe(0);
  });

  test('x509: certificate has expired or is not yet valid: kubectl and openssl verify on an expired certificate', async () => {
    // The times differ on every run: the page's example line has the shape kubectl prints.
    const kubectl = await kubectlHealthz(kubeconfig(ca), servers.expired!.port, cacheDir, 'kubernetes');
    const shape = /^Unable to connect to the server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ is after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
    expect(lineStarting(kubectl.stderr, KUBECTL)).toMatch(shape);
    expect(PAGE.split('\n').filter((l) => shape.test(l))).toHaveLength(1);
    expectQuoted(verify('-CAfile', ca, work.file('expired.crt')), 'error 10 at 0 depth lookup: certificate has expired');
  });
});
