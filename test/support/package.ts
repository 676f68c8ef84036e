import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Shared by the suites of test/package/: the library packed as npm publishes it, and the programs a user's app runs.
export const ROOT = path.resolve(__dirname, '../..');
export const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
export const MINUTES = 60_000;

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function sh(program: string, args: string[], cwd: string, env: Record<string, string> = {}): Result {
  // cdk8s-cli asks the registry for a newer version of itself on every command; that is not what is tested.
  const result = spawnSync(program, args, { cwd, encoding: 'utf8', timeout: 4 * MINUTES, env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', ...env } });
  if (result.error) throw new Error(`${program} could not run: ${result.error.message}`);
  return result;
}

export function shOk(program: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  const result = sh(program, args, cwd, env);
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** `npm pack` of the project into `dir`; returns the tarball's path. */
export function pack(dir: string): string {
  // lib/ is built by `npm test`'s tsc before jest runs; --ignore-scripts skips prepack's clean rebuild, which
  // would pull lib/ from under the suites running beside this one.
  const out = shOk('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  return path.join(dir, JSON.parse(out)[0].filename);
}
