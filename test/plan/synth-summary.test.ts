// The summary a synth prints on stderr (a child process, as `cdk8s synth` runs the app), and the export-node
// command it prints, run as printed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runOk } from '../support/programs';
import { userApp } from './support';

const app = userApp();
afterAll(() => app.cleanup());

test('the first synth counts what it issued and names the nodes to export', () => {
  const result = app.synth();
  expect(result.status).toBe(0);
  expect(result.stderr).toBe('cdk8s-pki: issued 19 new (17 certificates, 1 key, 1 token)\ncdk8s-pki: node bundles to export: cdk8s-pki export-node --all --out <dir>\n');
  // The printed command, run as printed: every node, each in its own directory.
  const out = path.join(app.dir, 'all-nodes');
  const exported = app.cli(['export-node', '--all', '--out', out]);
  expect(exported.status).toBe(0);
  expect(fs.readdirSync(out).sort()).toEqual(['cp-1', 'worker-1']);
  expect(runOk('openssl', ['x509', '-noout', '-subject', '-in', path.join(out, 'cp-1/pki/apiserver.crt')])).toContain('CN = kube-apiserver');
  expect(app.cli(['export-node', 'cp-1', '--all', '--out', path.join(app.dir, 'both')]).stderr).toBe('cdk8s-pki: export-node: give either node names or --all, not both\n');
});

test('a synth that changes nothing is quiet', () => {
  const result = app.synth();
  expect([result.status, result.stderr]).toEqual([0, '']);
});

test('after a SAN change: the re-issue with its reason, and an export-node command that writes the new certificate', () => {
  app.configure({ sans: ['10.0.0.10', '10.0.0.5'] });
  const result = app.synth();
  expect(result.status).toBe(0);
  expect(result.stderr).toBe('cdk8s-pki: re-issued demo/pki/cp-1/apiserver: SANs +10.0.0.5\ncdk8s-pki: node bundles to re-export: cdk8s-pki export-node cp-1 --out <dir>\n');
  const command = /cdk8s-pki (export-node .*) --out <dir>/.exec(result.stderr)![1].split(' ');
  const out = path.join(app.dir, 'exported');
  const exported = app.cli([...command, 'worker-1', '--out', out]);
  expect(exported.status).toBe(0);
  expect(exported.stdout).toContain(`cp-1: wrote `);
  expect(runOk('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(out, 'cp-1/pki/apiserver.crt')])).toContain('IP Address:10.0.0.5');
  expect(fs.existsSync(path.join(out, 'worker-1/bootstrap-kubelet.conf'))).toBe(true);
  // One node keeps its layout: the tree itself at --out.
  const single = path.join(app.dir, 'cp-1');
  expect(app.cli(['export-node', 'cp-1', '--out', single]).status).toBe(0);
  expect(fs.existsSync(path.join(single, 'pki/apiserver.crt'))).toBe(true);
});

test('several nodes are written whole or not at all', () => {
  const out = path.join(app.dir, 'partial');
  const result = app.cli(['export-node', 'cp-1', 'nope', '--out', out]);
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/^cdk8s-pki: node: no node "nope" in the state; its nodes are demo\/pki\/cp-1, demo\/pki\/worker-1\n$/);
  expect(fs.existsSync(out)).toBe(false);
});

test('renewed certificates are listed with their new expiry; a frozen synth prints no summary', () => {
  expect(app.cli(['renew', 'demo/web']).status).toBe(0);
  const frozen = app.synth({ CDK8S_PKI_FROZEN: '1' });
  expect(frozen.status).toBe(1);
  expect(frozen.stderr).not.toContain('renewed');
  const result = app.synth();
  const certificate = JSON.parse(fs.readFileSync(path.join(app.stateDir, 'demo/web/certificate.json'), 'utf8')).certificate;
  const notAfter = new Date(runOk('openssl', ['x509', '-noout', '-enddate'], { input: certificate }).trim().replace('notAfter=', '')).toISOString();
  expect(result.stderr).toBe(`cdk8s-pki: renewed demo/web: renewal requested; new certificate until ${notAfter}\n`);
});
