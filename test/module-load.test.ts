// What a command or a synth loads: heavy modules (ajv's compiler, node-forge, @noble/curves, the X.509 parser...)
// only where the run uses them. Asserted on require.cache of a real process running the built library, never on
// time. Also: the validators the build compiles ahead say exactly what ajv compiling at run time says.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateCertificateSpec } from '../src/engine/spec';
import { resolveCluster } from '../src/kubeadm/cluster-spec';
import { checkRecord } from '../src/state/records';
import { PkiState } from '../src/state/pki-state';
import { issueCaAndLeaf } from './support/mini-pki';
import { tempDir } from './support/programs';

const LIB = path.resolve(__dirname, '../lib'); // built by `npm test` (npm run build) before jest runs
const CDK8S = require.resolve('cdk8s');

/** Runs `script` in a fresh node, which prints a JSON value of its own; returns it with the packages it loaded. */
function inProcess(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { value: any; packages: string[]; modules: string[] } {
  const epilogue = `process.stdout.write(JSON.stringify({ value: globalThis.result, modules: Object.keys(require.cache) }));`;
  const child = spawnSync(process.execPath, ['-e', `${script}\n${epilogue}`], { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`node exited ${child.status}: ${child.stderr}`);
  const { value, modules } = JSON.parse(child.stdout) as { value: unknown; modules: string[] };
  const packages = [...new Set(modules.filter((m) => m.includes('/node_modules/')).map((m) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)![1]))].sort();
  return { value, packages, modules };
}

/** ajv's compiler; its small runtime helpers (required by the generated validators) do not count. */
const ajvCompilerLoaded = (modules: string[]) => modules.some((m) => /\/node_modules\/ajv\/dist\/(ajv|core)\.js$/.test(m));

test('the build compiled a validator ahead for each schema the engine checks with', () => {
  const dir = path.join(LIB, 'src', 'generated', 'schemas');
  expect(fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.js')).length : 0).toBeGreaterThanOrEqual(8);
});

test('--help loads commander and the CLI, none of the engine: no ajv, X.509, key or YAML libraries', () => {
  const run = inProcess(`
    let help = '';
    const cli = require(${JSON.stringify(path.join(LIB, 'src/cli.js'))}).buildCli().exitOverride().configureOutput({ writeOut: (s) => { help += s; } });
    try { cli.parse(['node', 'cdk8s-pki', '--help']); } catch (err) { if (err.code !== 'commander.helpDisplayed') throw err; }
    globalThis.result = help;`);
  // The same text as the command prints.
  const direct = spawnSync(process.execPath, [path.join(LIB, 'src/cli.js'), '--help'], { encoding: 'utf8' });
  expect(run.value).toBe(direct.stdout);
  expect(run.value).toContain('export-node [options] [node...]');
  expect(run.packages).toEqual(['commander']);
  expect(run.modules.filter((m) => m.startsWith(LIB)).map((m) => path.relative(LIB, m))).not.toContain('src/state/pki-state.js');
});

describe('with a state', () => {
  const tmp = tempDir('cdk8s-pki-load-');
  afterAll(() => tmp.cleanup());
  const stateDir = path.join(tmp.dir, '.pki');

  test('list reads the state without ajv, node-forge, @noble/curves, yaml or cli-progress', () => {
    const state = PkiState.inDirectory(stateDir);
    issueCaAndLeaf(state);
    state.commit();
    const run = inProcess(`
      let listed = '';
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (s) => { listed += s; return true; };
      require(${JSON.stringify(path.join(LIB, 'src/cli.js'))}).buildCli().parse(['node', 'cdk8s-pki', '--state', ${JSON.stringify(stateDir)}, 'list']);
      process.stdout.write = write;
      globalThis.result = listed;`);
    expect(run.value).toMatch(/^cluster\/apiserver\s+kubernetes\s+ecdsa-p256 #1\s/m);
    expect(ajvCompilerLoaded(run.modules)).toBe(false);
    expect(run.packages.filter((p) => ['node-forge', '@noble/curves', 'yaml', 'cli-progress', 'cdk8s', 'cdk8s-plus-28'].includes(p))).toEqual([]);
  });

  test('a synth compiles no schema and loads neither node-forge, @noble/curves (system entropy, ECDSA) nor the CRD imports it makes no object of', () => {
    const app = `
      const { App, Chart } = require(${JSON.stringify(CDK8S)});
      const { ControlPlanePki } = require(${JSON.stringify(path.join(LIB, 'constructs'))});
      const app = new App({ outdir: ${JSON.stringify(path.join(tmp.dir, 'dist'))} });
      new ControlPlanePki(new Chart(app, 'cluster'), 'pki', {
        cluster: { controlPlaneEndpoint: 'api.example.internal:6443', nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker' }] },
        tlsBootstrap: {},
      });
      app.synth();
      globalThis.result = require('fs').readdirSync(${JSON.stringify(path.join(tmp.dir, 'dist'))});`;
    const env = { CDK8S_PKI_STATE_DIR: path.join(tmp.dir, 'synth-state') };
    for (const run of [inProcess(app, { cwd: tmp.dir, env }), inProcess(app, { cwd: tmp.dir, env })]) {
      expect(run.value).toContain('cluster.k8s.yaml');
      expect(ajvCompilerLoaded(run.modules)).toBe(false);
      expect(run.packages.filter((p) => ['node-forge', '@noble/curves', 'cli-progress', 'table', 'commander'].includes(p))).toEqual([]);
      // No cert-manager, trust-manager or Argo CD object in this app.
      expect(run.modules.filter((m) => m.startsWith(path.join(LIB, 'imports')))).toEqual([]);
    }
  });
});

describe('validators compiled ahead', () => {
  // Bad input for each kind of rule the messages word differently (unknown field, format, enum, const, required).
  const cases: [string, string, unknown][] = [
    ['validateCertificateSpec', 'src/engine/spec', { subject: { commonName: ' ', country: 'de', extra: 1 }, sans: { ipAddresses: ['10.0.0.1%eth0', '1.2.3'], dnsNames: ['A.b'] }, validitySeconds: -1, keyUsage: ['nope'] }],
    ['validateCertificateSpec', 'src/engine/spec', { subject: {}, ca: { nameConstraints: { permittedIpRanges: ['10.0.0.1/8'] } } }],
    ['resolveCluster', 'src/kubeadm/cluster-spec', { controlPlaneEndpoint: 5, nodes: [{ name: 'x', role: 'boss', ip: 'nope' }], bogus: true }],
  ];
  const here: Record<string, (input: unknown) => unknown> = { validateCertificateSpec, resolveCluster };
  const message = (fn: () => unknown) => {
    try {
      fn();
      return 'accepted';
    } catch (err) {
      return (err as Error).message;
    }
  };

  test('say what ajv compiling at run time says, and the built engine does not load ajv to say it', () => {
    // This process runs the sources, which have no validators compiled ahead: ajv compiles them, the oracle.
    const expected = [...cases.map(([fn, , input]) => message(() => here[fn](input))), message(() => checkRecord('certificate', { version: 'x', certificate: 3, extra: 'secret' }, 'f.json'))];
    expect(expected.every((m) => m !== 'accepted')).toBe(true);
    const run = inProcess(`
      const attempt = (fn) => { try { fn(); return 'accepted'; } catch (err) { return err.message; } };
      globalThis.result = [
        ...${JSON.stringify(cases)}.map(([fn, file, input]) => attempt(() => require(${JSON.stringify(LIB)} + '/' + file)[fn](input))),
        attempt(() => require(${JSON.stringify(path.join(LIB, 'src/state/records'))}).checkRecord('certificate', { version: 'x', certificate: 3, extra: 'secret' }, 'f.json')),
      ];`);
    expect(run.value).toEqual(expected);
    expect(ajvCompilerLoaded(run.modules)).toBe(false);
  });

  test('a schema changed since the build is compiled at run time, not checked by the stale validator', () => {
    const run = inProcess(`
      const spec = require(${JSON.stringify(path.join(LIB, 'src/engine/spec'))});
      const schema = JSON.parse(JSON.stringify(require(${JSON.stringify(path.join(LIB, 'src/engine/schemas/certificate-spec.schema.json'))})));
      schema.required = [...schema.required, 'ca'];
      const validate = spec.compileSchema(schema);
      globalThis.result = [validate({ subject: { commonName: 'a' }, validitySeconds: 3600 }), validate.errors.map((e) => e.message)];`);
    expect(run.value).toEqual([false, ["must have required property 'ca'"]]);
    expect(ajvCompilerLoaded(run.modules)).toBe(true);
  });
});
