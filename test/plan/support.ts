// A small user app (a cdk8s.yaml and a compiled main.js using the built library) in a temporary directory,
// run as `cdk8s synth` runs it, and `cdk8s-pki` run in it.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../support/programs';

const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'lib/src/cli.js'); // built by `npm test` (tsc) before jest runs

/** What main.js reads from app.json: the knobs the tests turn. */
export interface AppConfig {
  readonly sans?: string[];
  readonly webKeyAlgorithm?: string;
  readonly cpIp?: string;
  /** Commit by hand (`pkiStateOf(app).commit()`) instead of `app.synth()`. */
  readonly commitByHand?: boolean;
  /** The cluster spec's `caRotation`. */
  readonly caRotation?: { readonly id: string; readonly phase: string; readonly authorities?: string[] };
  /** web-ca's `rotation`. */
  readonly webCaRotation?: { readonly id: string; readonly phase: string };
}

const MAIN_JS = `
const fs = require('node:fs');
const { App, Chart, Duration } = require(${JSON.stringify(require.resolve('cdk8s', { paths: [ROOT] }))});
const { ClusterCA, ControlPlanePki, TlsCertificate, pkiStateOf } = require(${JSON.stringify(path.join(ROOT, 'lib/constructs/index.js'))});
const config = JSON.parse(fs.readFileSync('app.json', 'utf8'));
const app = new App();
const chart = new Chart(app, 'demo');
new ControlPlanePki(chart, 'pki', {
  cluster: {
    controlPlaneEndpoint: 'api.demo.internal:6443',
    apiServerCertSANs: config.sans ?? ['10.0.0.10'],
    nodes: [{ name: 'cp-1', role: 'control-plane', ip: config.cpIp ?? '10.0.0.11' }, { name: 'worker-1', role: 'worker' }],
    ...(config.caRotation ? { caRotation: config.caRotation } : {}),
  },
  tlsBootstrap: { token: { ttl: Duration.seconds(0) } },
});
const ca = new ClusterCA(chart, 'web-ca', config.webCaRotation ? { rotation: config.webCaRotation } : {});
new TlsCertificate(chart, 'web', { ca, commonName: 'web.demo', dnsNames: ['web.demo'], keyAlgorithm: config.webKeyAlgorithm ?? 'ecdsa-p256' });
if (config.commitByHand) pkiStateOf(app).commit();
else app.synth();
`;

/** The environment of a child: this process's, without jest's or a state variable a developer may have set. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/^(JEST|CDK8S_|CI$)/.test(name)) delete env[name];
  return { ...env, ...extra };
}

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function userApp() {
  const tmp = tempDir('cdk8s-pki-plan-app-');
  const dir = tmp.dir;
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\noutput: dist\n');
  fs.writeFileSync(path.join(dir, 'main.js'), MAIN_JS);
  const configure = (config: AppConfig = {}) => fs.writeFileSync(path.join(dir, 'app.json'), JSON.stringify(config));
  configure();
  const spawn = (program: string, args: string[], env: Record<string, string>): Result => {
    const result = spawnSync(program, args, { cwd: dir, env: childEnv(env), encoding: 'utf8', timeout: 120_000 });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  return {
    dir,
    stateDir: path.join(dir, '.pki'),
    distDir: path.join(dir, 'dist'),
    configure,
    /** The app's command, as `cdk8s synth` runs it (output to dist/). */
    synth: (env: Record<string, string> = {}) => spawn('sh', ['-c', 'node main.js'], env),
    /** `cdk8s-pki <args>` in the app's directory; with `faketime`, under libfaketime at that offset (`+250d`). */
    cli: (args: string[], options: { env?: Record<string, string>; faketime?: string } = {}) =>
      options.faketime ? spawn('faketime', ['-f', options.faketime, process.execPath, CLI, ...args], options.env ?? {}) : spawn(process.execPath, [CLI, ...args], options.env ?? {}),
    cleanup: tmp.cleanup,
  };
}

/**
 * Every entry under `dir` (dotfiles, the lock and journal included) with its type, mode, mtime and content
 * hash, and whether `dir` exists: equal before and after means nothing was created, removed, written or touched.
 */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return { '.': 'absent' };
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      const stat = fs.lstatSync(full);
      const hash = entry.isFile() ? crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex') : 'dir';
      out[path.relative(dir, full)] = `${stat.mode.toString(8)} ${stat.mtimeMs} ${hash}`;
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  out['.'] = `${fs.statSync(dir).mtimeMs}`;
  return out;
}
