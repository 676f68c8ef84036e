import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { Testing } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { usePkiState } from '../../constructs';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';
import { exportNode } from '../../src/kubeadm/node-bundle';
import { PkiState } from '../../src/state/pki-state';
import schema from '../../src/expiry/schemas/check-expiration.schema.json';
import { run, runOk, tempDir } from '../support/programs';
import { issueCaAndLeaf } from '../support/mini-pki';

const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const DAY = 86_400;
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args]);

/** openssl's notAfter of a PEM certificate: the oracle for every date and residual time below. */
function opensslEndDate(pem: string): { expires: string; epochSeconds: number; rfc3339: string } {
  const line = runOk('openssl', ['x509', '-noout', '-enddate'], { input: pem }).trim(); // notAfter=Dec 11 22:40:00 2026 GMT
  const [, month, day, hour, minute, second, year] = /^notAfter=(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4}) GMT$/.exec(line)!;
  const epochSeconds = Date.parse(`${month} ${day} ${year} ${hour}:${minute}:${second} GMT`) / 1000;
  return { expires: `${month} ${day.padStart(2, '0')}, ${year} ${hour}:${minute} UTC`, epochSeconds, rfc3339: new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z') };
}

/** kubeadm's RESIDUAL TIME for what is left at `nowSeconds`, over the range these certificates fall in (days, then years). */
function residualText(endSeconds: number, nowSeconds: number): string {
  const days = Math.floor((endSeconds - nowSeconds) / DAY);
  return days < 365 ? `${days}d` : `${Math.floor(days / 365)}y`;
}

/** The cells of a table row: kubeadm's columns are three or more spaces apart, and no cell holds three spaces. */
const cells = (line: string) => line.split(/ {3,}/);

describe('check-expiration on an exported node tree', () => {
  const tmp = tempDir();
  const stateDir = path.join(tmp.dir, '.pki');
  const tree = path.join(tmp.dir, 'etc-kubernetes');
  const file = (relative: string) => path.join(tree, relative);
  const workerTree = path.join(tmp.dir, 'worker-1');
  afterAll(() => tmp.cleanup());

  beforeAll(() => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inDirectory(stateDir));
    new ExampleCluster(app, 'example', { cluster: REFERENCE_CLUSTER });
    state.commit();
    exportNode(state, 'cp-1', tree);
    exportNode(state, 'worker-1', workerTree);
    // etcd-server re-signed by hand with the node's etcd CA for 10 days from an hour ago (faketime), so 9d 23h are
    // left: the one certificate about to expire, far from a day's boundary.
    const csr = runOk('openssl', ['req', '-new', '-key', file('pki/etcd/server.key'), '-subj', '/CN=cp-1']);
    runOk('faketime', ['-f', '-1h', 'openssl', 'x509', '-req', '-CA', file('pki/etcd/ca.crt'), '-CAkey', file('pki/etcd/ca.key'), '-set_serial', '4242', '-days', '10', '-out', file('pki/etcd/server.crt')], { input: csr });
    // kubelet.conf pointing at its certificate by file, as kubeadm's kubelet-finalize phase leaves it.
    const kubelet = parse(fs.readFileSync(file('kubelet.conf'), 'utf8'));
    const user = kubelet.users[0].user;
    fs.mkdirSync(file('kubelet-pki'));
    fs.writeFileSync(file('kubelet-pki/kubelet-client-current.pem'), Buffer.from(user['client-certificate-data'], 'base64'));
    kubelet.users[0].user = { 'client-certificate': 'kubelet-pki/kubelet-client-current.pem', 'client-key': 'kubelet-pki/kubelet-client-current.pem' };
    fs.writeFileSync(file('kubelet.conf'), stringify(kubelet));
  });

  /** The PEM each row is read from, found here independently of the command: by kubeadm's file names. */
  const pemOf = (name: string): string => {
    if (name === 'kubelet.conf') return fs.readFileSync(file('kubelet-pki/kubelet-client-current.pem'), 'utf8');
    if (name.endsWith('.conf')) return Buffer.from(parse(fs.readFileSync(file(name), 'utf8')).users[0].user['client-certificate-data'], 'base64').toString();
    return fs.readFileSync(file(name.startsWith('etcd-') ? `pki/etcd/${name.slice(5)}.crt` : `pki/${name}.crt`), 'utf8');
  };

  test("kubeadm's two tables, every EXPIRES and RESIDUAL TIME as openssl reads the same files", () => {
    const before = Math.floor(Date.now() / 1000); // the command counts from its clock to the second
    const result = cli('check-expiration', '--dir', tree);
    const after = Date.now() / 1000;
    expect([result.status, result.stderr]).toEqual([0, '']);
    const [leaves, authorities] = result.stdout.trimEnd().split('\n\n').map((t) => t.split('\n'));
    // The headers as kubeadm's tabwriter spaces them for the same certificate names (its output quoted in kubernetes/kubeadm#2866).
    expect(leaves[0]).toBe('CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
    expect(authorities[0]).toBe('CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED');
    const names = leaves.slice(1).map((l) => cells(l)[0]);
    expect(names).toEqual(['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'kubelet.conf', 'scheduler.conf', 'super-admin.conf']);
    expect(authorities.slice(1).map((l) => cells(l)[0])).toEqual(['ca', 'etcd-ca', 'front-proxy-ca']);
    for (const line of [...leaves.slice(1), ...authorities.slice(1)]) {
      const [name, expires, residual] = cells(line);
      const end = opensslEndDate(pemOf(name));
      expect([name, expires]).toEqual([name, end.expires]);
      expect([name, [residualText(end.epochSeconds, before), residualText(end.epochSeconds, after)].includes(residual)]).toEqual([name, true]);
    }
    const row = (name: string) => cells(leaves.find((l) => l.startsWith(`${name} `))!);
    expect(row('etcd-server').slice(2)).toEqual(['9d', 'etcd-ca', 'no']);
    expect(row('admin.conf').slice(3)).toEqual(['ca', 'no']);
    expect(row('front-proxy-client').slice(3)).toEqual(['front-proxy-ca', 'no']);
  });

  test('--warn 30d exits 2 naming the certificate that expires in 10 days; --warn 5d exits 0', () => {
    const warned = cli('check-expiration', '--dir', tree, '--warn', '30d');
    expect(warned.status).toBe(2);
    const { expires } = opensslEndDate(pemOf('etcd-server'));
    expect(warned.stderr).toBe(`cdk8s-pki: etcd-server expires within 30d: ${expires} (9d left)\ncdk8s-pki: renew in the state, then \`cdk8s-pki export-node\` the node again\n`);
    expect(cli('check-expiration', '--dir', tree, '--warn', '720h').status).toBe(2);
    const quiet = cli('check-expiration', '--dir', tree, '--warn', '5d');
    expect([quiet.status, quiet.stderr]).toEqual([0, '']);
  });

  test('--warn that is not a duration is one error line and exit 1', () => {
    const result = cli('check-expiration', '--dir', tree, '--warn', '30days');
    expect([result.status, result.stdout, result.stderr]).toEqual([1, '', 'cdk8s-pki: --warn: "30days" is not a duration such as "30d", "720h" or "1d12h"\n']);
  });

  test('--output json follows the schema and agrees with openssl; yaml is the same document', () => {
    const json = cli('check-expiration', '--dir', tree, '--warn', '30d', '--output', 'json');
    expect(json.status).toBe(2);
    const report = JSON.parse(json.stdout);
    expect(validate(report) || validate.errors).toBe(true);
    expect(report.source).toEqual({ dir: tree });
    expect(report.warn).toEqual({ within: '30d', seconds: 30 * DAY });
    const etcdServer = report.certificates.find((c: { name: string }) => c.name === 'etcd-server');
    const end = opensslEndDate(pemOf('etcd-server')).epochSeconds;
    expect(etcdServer).toEqual({ name: 'etcd-server', source: 'pki/etcd/server.crt', expirationDate: opensslEndDate(pemOf('etcd-server')).rfc3339, residualTime: expect.any(Number), caName: 'etcd-ca', externallyManaged: false, missing: false, status: 'expiring' });
    // residualTime counts from checkedAt, the check's clock to the second.
    expect(etcdServer.residualTime).toBe(end - Date.parse(report.checkedAt) / 1000);
    expect(report.certificates.filter((c: { status: string }) => c.status !== 'valid').map((c: { name: string }) => c.name)).toEqual(['etcd-server']);
    expect(report.certificates.find((c: { name: string }) => c.name === 'kubelet.conf').source).toBe('kubelet-pki/kubelet-client-current.pem');

    const yaml = cli('check-expiration', '--dir', tree, '--warn', '30d', '--output', 'yaml');
    const fromYaml = parse(yaml.stdout);
    expect(validate(fromYaml) || validate.errors).toBe(true);
    const timeless = (r: typeof report) => JSON.parse(JSON.stringify(r, (key, value) => (key === 'checkedAt' || key === 'residualTime' ? undefined : value)));
    expect(timeless(fromYaml)).toEqual(timeless(report));
  });

  test('a corrupt certificate or kubeconfig stops it with one line naming the file, never quoting it', () => {
    const bad = tempDir();
    try {
      bad.file('pki/ca.crt', fs.readFileSync(file('pki/ca.crt'), 'utf8').replace(/^(.{30})./m, '$1!'));
      const result = cli('check-expiration', '--dir', bad.dir);
      expect([result.status, result.stdout, result.stderr]).toEqual([1, '', `cdk8s-pki: ${bad.file('pki/ca.crt')}: does not hold a PEM or DER certificate\n`]);
      fs.rmSync(bad.file('pki'), { recursive: true });
      // The YAML parser's own message would quote the faulty line, here a key.
      bad.file('admin.conf', 'users:\n  - name: admin\n    user:\n      client-certificate-data: x\n      client-key-data: c2VjcmV0LWtleQ: b\n');
      const yaml = cli('check-expiration', '--dir', bad.dir);
      expect([yaml.status, yaml.stdout, yaml.stderr]).toEqual([1, '', `cdk8s-pki: ${bad.file('admin.conf')}: is not YAML (line 5)\n`]);
      bad.file('admin.conf', 'users:\n  - name: admin\n    user:\n      client-certificate-data: c2VjcmV0LWtleQ==\n');
      const data = cli('check-expiration', '--dir', bad.dir);
      expect([data.status, data.stderr]).toEqual([1, `cdk8s-pki: ${bad.file('admin.conf')}: users[0].user.client-certificate-data: does not hold a PEM or DER certificate\n`]);
    } finally {
      bad.cleanup();
    }
  });

  test("a kubeconfig's certificate file that is not there is kubeadm's !MISSING! row, not a failure", () => {
    const other = tempDir();
    try {
      other.file('kubelet.conf', 'users:\n  - name: system:node:cp-1\n    user:\n      client-certificate: /var/lib/kubelet/pki/nonexistent-client-current.pem\n');
      const result = cli('check-expiration', '--dir', other.dir);
      expect([result.status, result.stderr]).toEqual([0, '']);
      expect(result.stdout.split('\n')[1]).toBe('!MISSING! kubelet.conf');
      const report = JSON.parse(cli('check-expiration', '--dir', other.dir, '-o', 'json').stdout);
      expect(validate(report) || validate.errors).toBe(true);
      expect(report.certificates).toEqual([{ name: 'kubelet.conf', source: '/var/lib/kubelet/pki/nonexistent-client-current.pem', expirationDate: null, residualTime: null, externallyManaged: false, missing: true, status: 'missing' }]);
      // A kubeconfig with several client certificates: one row each, by user; no CA in this tree, so the issuer's name.
      const admin = parse(fs.readFileSync(file('admin.conf'), 'utf8')).users[0];
      other.file('two.conf', stringify({ users: [{ ...admin, name: 'first' }, { name: 'token-only', user: { token: 'abcdef.0123456789abcdef' } }, { ...admin, name: 'second' }] }));
      const two = JSON.parse(cli('check-expiration', '--dir', other.dir, '-o', 'json').stdout).certificates.slice(1);
      const end = opensslEndDate(pemOf('admin.conf')).rfc3339;
      expect(two.map((c: { name: string; expirationDate: string; caName: string; externallyManaged: boolean }) => [c.name, c.expirationDate, c.caName, c.externallyManaged])).toEqual([
        ['two.conf/first', end, 'kubernetes', true],
        ['two.conf/second', end, 'kubernetes', true],
      ]);
    } finally {
      other.cleanup();
    }
  });

  test("a worker's tree: its CA without the key is externally managed, as kubeadm says; its token kubeconfig has no row", () => {
    const result = cli('check-expiration', '--dir', workerTree, '-o', 'json');
    expect([result.status, result.stderr]).toEqual([0, '']);
    const report = JSON.parse(result.stdout);
    expect(fs.existsSync(path.join(workerTree, 'bootstrap-kubelet.conf'))).toBe(true);
    expect(report.certificates).toEqual([]);
    expect(report.certificateAuthorities.map((c: { name: string; externallyManaged: boolean }) => [c.name, c.externallyManaged])).toEqual([['ca', true]]);
    expect(report.certificateAuthorities[0].expirationDate).toBe(opensslEndDate(fs.readFileSync(path.join(workerTree, 'pki/ca.crt'), 'utf8')).rfc3339);
  });

  test('a directory that is not a node tree says so', () => {
    const empty = tempDir();
    try {
      const result = cli('check-expiration', '--dir', empty.dir);
      expect([result.status, result.stderr]).toEqual([1, `cdk8s-pki: --dir: ${empty.dir} holds no pki/*.crt, pki/etcd/*.crt or *.conf with a client certificate: not a node's /etc/kubernetes\n`]);
    } finally {
      empty.cleanup();
    }
  });

  test('from the state: every slot that list shows, CAs named by slot, and the join token', () => {
    const list = JSON.parse(runOk(process.execPath, [CLI, '--state', stateDir, 'list', '--output', 'json']));
    const result = cli('--state', stateDir, 'check-expiration', '--output', 'json');
    expect([result.status, result.stderr]).toEqual([0, '']);
    const report = JSON.parse(result.stdout);
    expect(validate(report) || validate.errors).toBe(true);
    const slots = (entries: { slot: string }[]) => entries.map((e) => e.slot).sort();
    expect([...report.certificates, ...report.certificateAuthorities].map((e: { name: string }) => e.name).sort()).toEqual(slots(list.certificates));
    expect(report.certificateAuthorities.map((e: { name: string }) => e.name)).toEqual(slots(list.certificates.filter((c: { isCA: boolean }) => c.isCA)));
    expect(report.tokens.map((e: { name: string }) => e.name)).toEqual(slots(list.tokens));
    const apiserver = report.certificates.find((c: { name: string }) => c.name === 'example/pki/cp-1/apiserver');
    expect([apiserver.caName, apiserver.externallyManaged]).toEqual(['example/pki/ca', false]);
    expect(report.certificates.find((c: { name: string }) => c.name === 'example/pki/apiserver-etcd-client').caName).toBe('example/pki/etcd-ca');
    // The certificate of a slot, as the state's own export wrote it, read by openssl.
    expect(apiserver.expirationDate).toBe(opensslEndDate(fs.readFileSync(file('pki/apiserver.crt'), 'utf8')).rfc3339);
    const table = cli('--state', stateDir, 'check-expiration').stdout.trimEnd().split('\n\n');
    expect(table).toHaveLength(3);
    expect(cells(table[2].split('\n')[0])).toEqual(['TOKEN', 'EXPIRES', 'RESIDUAL TIME']);
  });
});

describe('check-expiration from a state with expired and expiring things', () => {
  const tmp = tempDir();
  const stateDir = path.join(tmp.dir, '.pki');
  afterAll(() => tmp.cleanup());
  const tokenValue = 'abcdef.0123456789abcdef';

  beforeAll(() => {
    // Issued 400 days ago: the one-year leaf has expired, the ten-year CA has not.
    const state = PkiState.inDirectory(stateDir, { clock: () => new Date(Date.now() - 400 * DAY * 1000) });
    issueCaAndLeaf(state);
    state.ensureSecret('cluster/join-token', { given: tokenValue, generate: () => '' });
    state.commit();
  });

  test('an expired certificate is <invalid> and exits 2 without --warn', () => {
    const result = cli('--state', stateDir, 'check-expiration');
    expect(result.status).toBe(2);
    const leaf = result.stdout.split('\n').find((l) => l.startsWith('cluster/apiserver '))!;
    expect(cells(leaf).slice(2)).toEqual(['<invalid>', 'cluster/ca', 'no']);
    expect(result.stderr).toMatch(/^cdk8s-pki: cluster\/apiserver expired on \w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\ncdk8s-pki: renew with `cdk8s synth` \(it renews what is inside its renewal window; `cdk8s-pki renew <slot>` first for one that is not\)\n$/);
    // A token whose record has no expiry is shown, unknown, and does not fail the check.
    expect(result.stdout).toMatch(/^cluster\/join-token {3,}<unknown> {3,}<unknown>$/m);
  });

  test("a token's recorded expiry is checked like a certificate's, and its value is never printed", () => {
    const record = path.join(stateDir, 'cluster/join-token/secret.json');
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + 2 * DAY) * 1000).toISOString().replace('.000Z', 'Z');
    fs.writeFileSync(record, JSON.stringify({ ...JSON.parse(fs.readFileSync(record, 'utf8')), expiresAt }));
    const json = cli('--state', stateDir, 'check-expiration', '--warn', '3d', '-o', 'json');
    expect(json.status).toBe(2);
    const report = JSON.parse(json.stdout);
    expect(validate(report) || validate.errors).toBe(true);
    expect(report.tokens).toEqual([{ name: 'cluster/join-token', source: 'cluster/join-token', expirationDate: expiresAt, residualTime: expect.any(Number), status: 'expiring' }]);
    expect(json.stderr).toContain('cdk8s-pki: cluster/join-token expires within 3d: ');
    const table = cli('--state', stateDir, 'check-expiration', '--warn', '1d');
    expect(table.stdout).toMatch(/^cluster\/join-token {3,}\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC {3,}[12]d$/m);
    for (const output of [json.stdout, json.stderr, table.stdout, table.stderr]) expect(output).not.toContain(tokenValue.slice(7));
  });
});
