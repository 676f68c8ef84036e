// No time bombs: the unchanged example app, synthesized now and then under faketime at +2 days, +300 days and
// +2 years, keeps synthesizing, renews exactly what is due, and frozen mode fails only where a renewal is due.
// Which slots changed is read from the state's records with node's X509Certificate (not the state's code).
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshotDir, tempDir } from '../support/programs';

const ROOT = path.resolve(__dirname, '../..');
const DAY = 24 * 3600_000;

interface SynthResult {
  readonly status: number | null;
  readonly stderr: string;
}

/** `npm run synth`'s command (cdk8s.yaml's app), run from the project root, `days` ahead of the real clock. */
function synthExample(stateDir: string, outDir: string, options: { days?: number; frozen?: boolean } = {}): SynthResult {
  const env: NodeJS.ProcessEnv = { ...process.env, CDK8S_OUTDIR: outDir, CDK8S_PKI_STATE_DIR: stateDir };
  for (const name of Object.keys(env)) if (name.startsWith('CDK8S_PKI_AGE') || name === 'CDK8S_PKI_FROZEN') delete env[name];
  if (options.frozen) env.CDK8S_PKI_FROZEN = '1';
  const app = [process.execPath, '-r', 'ts-node/register/transpile-only', 'examples/main.ts'];
  const [program, ...args] = options.days ? ['faketime', '-f', `+${options.days}d`, ...app] : app;
  const result = spawnSync(program, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
  if (result.error) throw new Error(`${program} could not run: ${result.error.message}`);
  return { status: result.status, stderr: result.stderr };
}

interface SlotMaterial {
  readonly pem?: string;
  readonly isCA?: boolean;
  readonly notAfter?: Date;
  readonly notBefore?: Date;
  readonly token?: string;
  readonly expiresAt?: string;
}

/** Each certificate and token slot of a state directory, as its record files hold it. */
function material(stateDir: string): Map<string, SlotMaterial> {
  const slots = new Map<string, SlotMaterial>();
  for (const file of Object.keys(snapshotDir(stateDir))) {
    const slot = path.dirname(file);
    const record = () => JSON.parse(fs.readFileSync(path.join(stateDir, file), 'utf8'));
    if (file.endsWith('/certificate.json')) {
      const x509 = new crypto.X509Certificate(record().certificate);
      slots.set(slot, { pem: x509.toString(), isCA: x509.ca, notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) });
    } else if (file.endsWith('/secret.json')) {
      slots.set(slot, { token: record().value, expiresAt: record().expiresAt });
    }
  }
  return slots;
}

/** The slots whose certificate or token differs between two states, sorted. */
function changedSlots(before: Map<string, SlotMaterial>, after: Map<string, SlotMaterial>): string[] {
  return [...after.keys()].filter((slot) => JSON.stringify(before.get(slot)) !== JSON.stringify(after.get(slot))).sort();
}

const TOKEN = 'example/pki/join-token';

describe('the unchanged example app over time (faketime)', () => {
  const tmp = tempDir('cdk8s-pki-time-travel-');
  const dir = (name: string) => path.join(tmp.dir, name);
  let created: Map<string, SlotMaterial>;
  let leaves: string[];
  let cas: string[];

  beforeAll(() => {
    const result = synthExample(dir('state-now'), dir('dist-now'));
    expect(result).toMatchObject({ status: 0 });
    created = material(dir('state-now'));
    leaves = [...created].filter(([, m]) => m.pem && !m.isCA).map(([slot]) => slot).sort();
    cas = [...created].filter(([, m]) => m.isCA).map(([slot]) => slot).sort();
    // The reference cluster's 1-year leaves, its four CAs (kubernetes, etcd, front-proxy, ingress) and the token.
    expect(cas).toEqual(['example/ingress-ca', 'example/pki/ca', 'example/pki/etcd-ca', 'example/pki/front-proxy-ca']);
    expect(leaves.length).toBeGreaterThan(20);
    expect(created.get(TOKEN)?.expiresAt).toBeDefined();
  }, 600_000);

  afterAll(() => tmp.cleanup());

  test('+2 days: nothing is due, frozen CI passes, and synth changes neither the state nor dist/', () => {
    fs.cpSync(dir('state-now'), dir('state-2d'), { recursive: true });
    const state = snapshotDir(dir('state-2d'));
    expect(synthExample(dir('state-2d'), dir('dist-2d-frozen'), { days: 2, frozen: true })).toMatchObject({ status: 0 });
    // Nothing changed, so synth says nothing.
    expect(synthExample(dir('state-2d'), dir('dist-2d'), { days: 2 })).toEqual({ status: 0, stderr: '' });
    expect(snapshotDir(dir('state-2d'))).toEqual(state);
    expect(snapshotDir(dir('dist-2d'))).toEqual(snapshotDir(dir('dist-now')));
    expect(snapshotDir(dir('dist-2d-frozen'))).toEqual(snapshotDir(dir('dist-now')));
  }, 600_000);

  test('+300 days: frozen fails naming every due leaf and the command; synth renews the leaves and the token, no CA; then stable', () => {
    fs.cpSync(dir('state-now'), dir('state-300d'), { recursive: true });
    const state = snapshotDir(dir('state-300d'));
    const frozen = synthExample(dir('state-300d'), dir('dist-300d-frozen'), { days: 300, frozen: true });
    expect(frozen.status).toBe(1);
    expect(snapshotDir(dir('state-300d'))).toEqual(state);
    expectFrozenMessage(frozen.stderr, [...leaves, TOKEN]);

    const synth = synthExample(dir('state-300d'), dir('dist-300d'), { days: 300 });
    expect(synth.status).toBe(0);
    expectRenewalSummary(synth.stderr, [...leaves, TOKEN]);
    const renewed = material(dir('state-300d'));
    expect(changedSlots(created, renewed)).toEqual([...leaves, TOKEN].sort());
    const fakeNow = Date.now() + 300 * DAY;
    for (const slot of leaves) expect(Math.abs(renewed.get(slot)!.notBefore!.getTime() - fakeNow)).toBeLessThan(DAY);
    expect(new Date(renewed.get(TOKEN)!.expiresAt!).getTime()).toBeGreaterThan(fakeNow);

    expectStable(dir('state-300d'), dir('dist-300d'), 300);
  }, 900_000);

  test('+2 years: the leaves renewed at +300 days have expired; synth renews them and the token again, no CA; then stable', () => {
    fs.cpSync(dir('state-300d'), dir('state-2y'), { recursive: true });
    const before = material(dir('state-2y'));
    const fakeNow = Date.now() + 730 * DAY;
    for (const slot of leaves) expect(before.get(slot)!.notAfter!.getTime()).toBeLessThan(fakeNow);

    const state = snapshotDir(dir('state-2y'));
    const frozen = synthExample(dir('state-2y'), dir('dist-2y-frozen'), { days: 730, frozen: true });
    expect(frozen.status).toBe(1);
    expect(snapshotDir(dir('state-2y'))).toEqual(state);
    expectFrozenMessage(frozen.stderr, [...leaves, TOKEN]);

    const synth = synthExample(dir('state-2y'), dir('dist-2y'), { days: 730 });
    expect(synth.status).toBe(0);
    expectRenewalSummary(synth.stderr, [...leaves, TOKEN]);
    const renewed = material(dir('state-2y'));
    expect(changedSlots(before, renewed)).toEqual([...leaves, TOKEN].sort());
    for (const slot of cas) expect(renewed.get(slot)).toEqual(created.get(slot));
    for (const slot of leaves) expect(renewed.get(slot)!.notAfter!.getTime()).toBeGreaterThan(fakeNow);

    expectStable(dir('state-2y'), dir('dist-2y'), 730);
  }, 900_000);

  /** The refusal says renewals came due, names each due slot with its reason and no CA, and ends with the command. */
  function expectFrozenMessage(stderr: string, due: string[]): void {
    const lines = stderr.trimEnd().split('\n').map((line) => line.replace(/^cdk8s-pki: /, ''));
    expect(lines[0]).toMatch(/is frozen, and renewals came due:/);
    for (const slot of due) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {2}- ${slot}: renewal due \\(expires `)));
    for (const slot of cas) expect(stderr).not.toContain(`- ${slot}:`);
    expect(lines[lines.length - 1]).toBe('Run `cdk8s synth` without CDK8S_PKI_FROZEN (it renews what is due), commit the state with dist/, and re-run CI.');
  }

  /** The synth says what it renewed, slot by slot (no CA), and which node bundles to re-export. */
  function expectRenewalSummary(stderr: string, due: string[]): void {
    const renewed = [...stderr.matchAll(/^cdk8s-pki: renewed (\S+): /gm)].map((m) => m[1]);
    expect(renewed.sort()).toEqual([...due].sort());
    expect(stderr).toMatch(/^cdk8s-pki: node bundles to re-export: cdk8s-pki export-node --all --out <dir>$/m);
  }

  /** A second synth at the same fake time changes neither the state nor dist/, and says nothing. */
  function expectStable(stateDir: string, outDir: string, days: number): void {
    const state = snapshotDir(stateDir);
    const again = `${outDir}-again`;
    expect(synthExample(stateDir, again, { days })).toEqual({ status: 0, stderr: '' });
    expect(snapshotDir(stateDir)).toEqual(state);
    expect(snapshotDir(again)).toEqual(snapshotDir(outDir));
  }
});
