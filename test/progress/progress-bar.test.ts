// The progress bar of a long synth: drawn on a terminal (tmux gives the synth a real one; its raw output is
// recorded with pipe-pane), cleared before the synth ends, and absent under CI=true or with stderr piped.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { progressWanted } from '../../src/progress';
import { tempDir } from '../support/programs';

const ROOT = path.resolve(__dirname, '../..');
const APP = ['-r', 'ts-node/register/transpile-only', 'test/progress/long-synth-app.ts'];
const BAR_FRAME = /cdk8s-pki [█░]{30} (\d+)\/(\d+) certificates and keys/g;
const BAR_CHARACTERS = /[█░]/;

/** Variables that would change what the synth does or shows, removed so that each run sets only its own. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: process.env.TERM || 'xterm' };
  for (const name of Object.keys(env)) if (name === 'CI' || name.startsWith('CDK8S_')) delete env[name];
  return env;
}

function tmux(socket: string, args: string[], timeout = 30_000): string {
  const result = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: cleanEnvironment(), timeout });
  if (result.error) throw new Error(`tmux could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`tmux ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Synthesizes the long app in a detached tmux session 120 columns wide; returns every byte the pane received
 * and the screen once the synth exited.
 */
function synthInTmux(dir: string, extraEnv: string): { raw: string; screen: string } {
  const socket = `cdk8s-pki-progress-${process.pid}-${path.basename(dir)}`;
  const script = path.join(dir, 'run.sh');
  fs.writeFileSync(
    script,
    [
      `tmux -L ${socket} wait-for go`,
      `cd ${ROOT}`,
      `env ${extraEnv} CDK8S_OUTDIR=${dir}/dist CDK8S_PKI_STATE_DIR=${dir}/pki ${process.execPath} ${APP.join(' ')}`,
      'echo "exit=$?"',
      `tmux -L ${socket} wait-for -S done`,
      'sleep 600',
      '',
    ].join('\n'),
  );
  try {
    tmux(socket, ['new-session', '-d', '-s', 'synth', '-x', '120', '-y', '30', `sh ${script}`]);
    tmux(socket, ['pipe-pane', '-t', 'synth', '-o', `cat > ${dir}/raw.log`]);
    tmux(socket, ['wait-for', '-S', 'go']);
    tmux(socket, ['wait-for', 'done'], 300_000);
    const screen = tmux(socket, ['capture-pane', '-p', '-t', 'synth']);
    return { raw: fs.readFileSync(path.join(dir, 'raw.log'), 'utf8'), screen: screen.trim() };
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-session', '-t', 'synth']);
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  }
}

/** The synth summary of a first synth that drew `keys` keys (one per certificate, and the service-account key). */
const summary = (keys: number): string[] => [`cdk8s-pki: issued ${keys} new (${keys - 1} certificates, 1 key)`, 'cdk8s-pki: node bundles to export: cdk8s-pki export-node --all --out <dir>'];
const keyCount = (pki: string): number => listFiles(pki).filter((f) => /\/key-\d+\.pem$/.test(f)).length;

const listFiles = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => `/${f}`);

describe('the progress bar of a long synth', () => {
  test('on a terminal: the bar counts up to the announced total, and is cleared before the synth exits', () => {
    const tmp = tempDir('cdk8s-pki-progress-');
    try {
      const { raw, screen } = synthInTmux(tmp.dir, '');
      const frames = [...raw.matchAll(BAR_FRAME)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(frames.length).toBeGreaterThan(1);
      // A first synth draws one key per certificate and the service-account key: the bar ends at that count.
      const keys = keyCount(path.join(tmp.dir, 'pki'));
      expect(keys).toBeGreaterThan(50);
      expect(new Set(frames.map(([, total]) => total))).toEqual(new Set([keys]));
      const done = frames.map(([value]) => value);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      expect(done[done.length - 1]).toBe(keys);
      // Cleared: nothing of the bar is left on the screen, only the summary and the exit line.
      expect(screen.split('\n')).toEqual([...summary(keys), 'exit=0']);
    } finally {
      tmp.cleanup();
    }
  }, 600_000);

  test('under CI=true, on the same terminal: nothing at all', () => {
    const tmp = tempDir('cdk8s-pki-progress-');
    try {
      const { raw, screen } = synthInTmux(tmp.dir, 'CI=true');
      expect(raw).not.toMatch(BAR_CHARACTERS);
      const lines = [...summary(keyCount(path.join(tmp.dir, 'pki'))), 'exit=0'];
      expect(raw).toBe(lines.map((line) => `${line}\r\n`).join(''));
      expect(screen.split('\n')).toEqual(lines);
    } finally {
      tmp.cleanup();
    }
  }, 600_000);

  test('with stderr piped: only the summary on stderr, no carriage return', () => {
    const tmp = tempDir('cdk8s-pki-progress-');
    try {
      const env = { ...cleanEnvironment(), CDK8S_OUTDIR: path.join(tmp.dir, 'dist'), CDK8S_PKI_STATE_DIR: path.join(tmp.dir, 'pki') };
      const result = spawnSync(process.execPath, APP, { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
      expect([result.status, result.stderr]).toEqual([0, summary(keyCount(path.join(tmp.dir, 'pki'))).map((line) => `${line}\n`).join('')]);
      expect(fs.readdirSync(path.join(tmp.dir, 'dist'))).toContain('big.k8s.yaml');
    } finally {
      tmp.cleanup();
    }
  }, 600_000);

  test.each<[string, boolean, { isTTY?: boolean }, Record<string, string>]>([
    ['a terminal', true, { isTTY: true }, {}],
    ['a terminal with CI=false', true, { isTTY: true }, { CI: 'false' }],
    ['a terminal with CI=true', false, { isTTY: true }, { CI: 'true' }],
    ['a terminal with CI=1', false, { isTTY: true }, { CI: '1' }],
    ['a terminal making a plan', false, { isTTY: true }, { CDK8S_PKI_PLAN_FILE: 'plan.json' }],
    ['a pipe', false, {}, {}],
  ])('on %s, a bar is wanted: %s', (_, wanted, stream, env) => {
    expect(progressWanted(stream, env)).toBe(wanted);
  });
});
