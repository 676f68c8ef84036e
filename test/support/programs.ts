import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a real program (openssl, kubectl, etcdctl …); a missing program fails the test instead of skipping it. */
export function run(program: string, args: string[], options: { input?: string; cwd?: string; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(program, args, { input: options.input, cwd: options.cwd, encoding: 'utf8', timeout: options.timeoutMs ?? 30_000 });
  if (result.error) throw new Error(`${program} could not run: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like run(), but throws with the program's stderr unless it exits 0. */
export function runOk(program: string, args: string[], options: { input?: string; cwd?: string } = {}): string {
  const result = run(program, args, options);
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'cdk8s-pki-test-'): { dir: string; file: (name: string, content?: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: (name, content) => {
      const full = path.join(dir, name);
      if (content !== undefined) {
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content, { mode: 0o600 });
      }
      return full;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every file under dir (dotfiles included) with its bytes (base64), for "nothing changed" assertions. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(dir, full).split(path.sep).join('/')] = fs.readFileSync(full, 'base64');
    }
  };
  walk(dir);
  return out;
}
