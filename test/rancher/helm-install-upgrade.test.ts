// An app written before RancherIngressTLS had `install`, run by frozen CI after the upgrade: the state and the
// output as the library before the prop wrote them (fixtures/helm-install-before-install-prop.json, written by
// commit 7ddaa55 for this very app) must synthesize unchanged, byte for byte.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { RancherIngressTLS } from '../../constructs';
import { snapshotDir, tempDir } from '../support/programs';

const BEFORE: { state: Record<string, string>; output: Record<string, string> } = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures/helm-install-before-install-prop.json'), 'utf8'),
);

const tmp = tempDir('cdk8s-pki-helm-upgrade-');
afterAll(() => tmp.cleanup());

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
  }
}

const base64 = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([name, text]) => [name, Buffer.from(text).toString('base64')]));

test('the app of before, default props, synthesizes under CDK8S_PKI_FROZEN with the state and the output it had', () => {
  const stateDir = path.join(tmp.dir, '.pki');
  const outdir = path.join(tmp.dir, 'dist');
  writeFiles(stateDir, BEFORE.state);
  const saved = { dir: process.env.CDK8S_PKI_STATE_DIR, frozen: process.env.CDK8S_PKI_FROZEN };
  // As frozen CI runs `cdk8s synth`: the state from the environment, no state bound by the app.
  process.env.CDK8S_PKI_STATE_DIR = stateDir;
  process.env.CDK8S_PKI_FROZEN = '1';
  try {
    const app = new App({ outdir });
    const chart = new Chart(app, 'test');
    new RancherIngressTLS(chart, 'rancher', { hostname: 'rancher.example.com', version: '2.12.1' });
    app.synth();
  } finally {
    for (const [name, value] of [['CDK8S_PKI_STATE_DIR', saved.dir], ['CDK8S_PKI_FROZEN', saved.frozen]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  expect(snapshotDir(stateDir)).toEqual(base64(BEFORE.state));
  expect(snapshotDir(outdir)).toEqual(base64(BEFORE.output));
});
