import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, runOk, tempDir } from '../support/programs';
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
    const kubectl = await kubectlHealthz(kubeconfig(otherCa), servers.valid!.port, cacheDir);
    const kubectlLine = 'Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority';
    expect(kubectl.status).not.toBe(0);
    expect(lineStarting(kubectl.stderr, 'Unable to connect')).toBe(kubectlLine);
    expect(PAGE).toContain(kubectlLine);

    const curl = await curlHttps({ cacert: otherCa }, 'kubernetes', servers.valid!.port, '/healthz');
    const curlLine = 'curl: (60) SSL certificate problem: unable to get local issuer certificate';
    expect(curl.status).toBe(60);
    expect(lineStarting(curl.stderr, 'curl:')).toBe(curlLine);
    expect(PAGE).toContain(curlLine);

    const verify = run('openssl', ['verify', '-CAfile', otherCa, work.file('apiserver.crt')]);
    const verifyLine = 'error 20 at 0 depth lookup: unable to get local issuer certificate';
    expect(verify.status).not.toBe(0);
    expect(lineStarting(verify.stdout + verify.stderr, 'error 20')).toBe(verifyLine);
    expect(PAGE).toContain(verifyLine);
  });

  test('x509: certificate is valid for …, not …: a DNS name and an address the certificate does not hold', async () => {
    const byName = await kubectlHealthz(kubeconfig(ca), servers.valid!.port, cacheDir, 'api.k8s.example.internal');
    const byNameLine = 'Unable to connect to the server: tls: failed to verify certificate: x509: certificate is valid for kubernetes, kubernetes.default, not api.k8s.example.internal';
    expect(lineStarting(byName.stderr, 'Unable to connect')).toBe(byNameLine);
    expect(PAGE).toContain(byNameLine);

    const byAddress = await kubectlHealthz(kubeconfig(ca), servers.valid!.port, cacheDir, '127.0.0.1');
    const byAddressLine = 'Unable to connect to the server: tls: failed to verify certificate: x509: certificate is valid for 10.96.0.1, 10.0.0.11, not 127.0.0.1';
    expect(lineStarting(byAddress.stderr, 'Unable to connect')).toBe(byAddressLine);
    expect(PAGE).toContain(byAddressLine);

    const noIpSans = await kubectlHealthz(kubeconfig(ca), servers.noIp!.port, cacheDir, '127.0.0.1');
    const noIpSansMessage = "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs";
    expect(lineStarting(noIpSans.stderr, 'Unable to connect')).toBe(`Unable to connect to the server: tls: failed to verify certificate: ${noIpSansMessage}`);
    expect(PAGE).toContain(noIpSansMessage);

    const curl = await curlHttps({ cacert: ca }, 'api.k8s.example.internal', servers.valid!.port, '/healthz');
    const curlLine = "curl: (60) SSL: no alternative certificate subject name matches target host name 'api.k8s.example.internal'";
    expect(curl.status).toBe(60);
    expect(lineStarting(curl.stderr, 'curl:')).toBe(curlLine);
    expect(PAGE).toContain(curlLine);

    const hostname = run('openssl', ['verify', '-CAfile', ca, '-verify_hostname', 'api.k8s.example.internal', work.file('apiserver.crt')]);
    const address = run('openssl', ['verify', '-CAfile', ca, '-verify_ip', '10.0.0.10', work.file('apiserver.crt')]);
    const hostnameLine = 'error 62 at 0 depth lookup: hostname mismatch';
    const addressLine = 'error 64 at 0 depth lookup: IP address mismatch';
    expect(lineStarting(hostname.stdout + hostname.stderr, 'error')).toBe(hostnameLine);
    expect(lineStarting(address.stdout + address.stderr, 'error')).toBe(addressLine);
    expect(PAGE).toContain(hostnameLine);
    expect(PAGE).toContain(addressLine);
  });

  test('the certificate that verifies is accepted by the same programs (the failures above are the names and the CA)', async () => {
    const kubectl = await kubectlHealthz(kubeconfig(ca), servers.valid!.port, cacheDir, 'kubernetes');
    expect({ status: kubectl.status, stdout: kubectl.stdout }).toEqual({ status: 0, stdout: 'ok' });
    const curl = await curlHttps({ cacert: ca }, 'kubernetes', servers.valid!.port, '/healthz');
    expect({ status: curl.status, stdout: curl.stdout }).toEqual({ status: 0, stdout: 'ok' });
  });

  test('x509: certificate has expired or is not yet valid: kubectl and openssl verify on an expired certificate', async () => {
    const kubectl = await kubectlHealthz(kubeconfig(ca), servers.expired!.port, cacheDir, 'kubernetes');
    const shape = /^Unable to connect to the server: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ is after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
    expect(lineStarting(kubectl.stderr, 'Unable to connect')).toMatch(shape);
    expect(PAGE.split('\n').filter((l) => shape.test(l))).toHaveLength(1);

    const verify = run('openssl', ['verify', '-CAfile', ca, work.file('expired.crt')]);
    const verifyLine = 'error 10 at 0 depth lookup: certificate has expired';
    expect(lineStarting(verify.stdout + verify.stderr, 'error 10')).toBe(verifyLine);
    expect(PAGE).toContain(verifyLine);
  });
});
