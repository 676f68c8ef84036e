// bench/openssl-baseline.sh is the baseline of the cold-synth targets only while it makes the set the example app
// makes: the same number of keys, and certificates with the same subjects, issuers, SANs, usages, CA flags,
// validity and key types. Both sides are read with node's X509Certificate; the chains are checked by openssl.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE_APP = path.join(ROOT, 'lib/bench/example-app.js'); // built by `npm test` (tsc) before jest runs
const BASELINE = path.join(ROOT, 'bench/openssl-baseline.sh');

const DAY_MS = 86_400_000;

/** What both sides must agree on, one string per certificate. */
function identity(pem: string): string {
  const x509 = new crypto.X509Certificate(pem);
  const days = Math.round((Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / DAY_MS);
  const key = x509.publicKey.asymmetricKeyType === 'ec' ? `ec ${x509.publicKey.asymmetricKeyDetails?.namedCurve}` : `${x509.publicKey.asymmetricKeyType} ${x509.publicKey.asymmetricKeyDetails?.modulusLength}`;
  return [x509.subject.replace(/\n/g, ', '), `issuer ${x509.issuer.replace(/\n/g, ', ')}`, `ca ${x509.ca}`, `san ${x509.subjectAltName ?? '-'}`, `eku ${(x509.keyUsage ?? []).join(',')}`, `${days} days`, key].join(' | ');
}

const filesUnder = (dir: string, match: RegExp): string[] =>
  fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => match.test(path.basename(f))).map((f) => path.join(dir, f));

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'openssl-baseline-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe.each(['ecdsa-p256', 'rsa-2048'])('bench/openssl-baseline.sh %s', (algorithm) => {
  test('makes the keys and certificates a synth of the example app makes', () => {
    const app = path.join(scratch, `app-${algorithm}`);
    fs.mkdirSync(app);
    fs.symlinkSync(path.join(ROOT, 'examples'), path.join(app, 'examples'));
    execFileSync(process.execPath, [EXAMPLE_APP], { cwd: app, env: { ...process.env, BENCH_KEY_ALGORITHM: algorithm, CDK8S_PKI_STATE_DIR: 'state' }, stdio: 'pipe' });
    const appCertificates = filesUnder(path.join(app, 'state'), /^certificate\.json$/).map((f) => identity(JSON.parse(fs.readFileSync(f, 'utf8')).certificate));
    const appKeys = filesUnder(path.join(app, 'state'), /^key-\d+\.pem$/);

    const out = path.join(scratch, `openssl-${algorithm}`);
    fs.mkdirSync(out);
    execFileSync('bash', [BASELINE, algorithm, out], { stdio: 'pipe' });
    const crts = filesUnder(out, /\.crt$/);
    const keys = filesUnder(out, /\.key$/);

    expect(appCertificates).toHaveLength(31);
    expect(appKeys).toHaveLength(32);
    expect(keys).toHaveLength(appKeys.length);
    expect(crts.map((f) => identity(fs.readFileSync(f, 'utf8'))).sort()).toEqual(appCertificates.sort());
    // Each leaf verifies against its CA, as openssl sees it.
    const parsed = crts.map((file) => ({ file, x509: new crypto.X509Certificate(fs.readFileSync(file)) }));
    const caFile = new Map(parsed.filter(({ x509 }) => x509.ca).map(({ file, x509 }) => [x509.subject, file]));
    for (const { file, x509 } of parsed.filter((c) => !c.x509.ca)) {
      expect(execFileSync('openssl', ['verify', '-CAfile', caFile.get(x509.issuer)!, file], { encoding: 'utf8' })).toBe(`${file}: OK\n`);
    }
  }, 300_000);
});
