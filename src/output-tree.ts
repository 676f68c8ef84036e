/**
 * A directory tree written in one piece (export-node, export-secrets): built beside its target and renamed
 * into place, so a failure leaves the target as it was and nothing of an earlier export survives beside the
 * new one.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecError } from './engine/errors';

export interface TreeFile {
  /** Relative to the tree's root. */
  readonly path: string;
  readonly mode: number;
  readonly data: Buffer | string;
}

export interface Tree {
  readonly files: readonly TreeFile[];
  /** Directories with a mode of their own (created even when empty). */
  readonly directories?: readonly { readonly path: string; readonly mode: number }[];
  /** The root's mode. */
  readonly mode: number;
  /**
   * Names the command in a marker file at the root, so that its next run may replace the whole tree (a
   * Secret left by a rotated token must not stay to be re-applied). Without it the target must be empty.
   */
  readonly replaceable?: string;
}

/** The marker of a replaceable tree; kubectl apply -f DIR reads only .yaml, .yml and .json files. */
export const TREE_MARKER = '.cdk8s-pki-export';

/**
 * Writes `tree` at `outDir`, which must not exist, be empty, or (for a replaceable tree) be an earlier tree of
 * the same command, replaced whole. `option` names the command-line option in errors.
 */
export function writeTree(outDir: string, tree: Tree, option = '--out'): void {
  const target = path.resolve(outDir);
  const replace = fs.existsSync(target) && !isEmptyDirectory(target);
  if (replace && !(tree.replaceable && isTreeOf(target, tree.replaceable))) {
    const allowed = tree.replaceable ? `, nor an earlier ${tree.replaceable} (which is replaced whole)` : '; the tree is written whole and never merged into one';
    throw new SpecError(option, `${outDir} exists and is not an empty directory${allowed}`);
  }
  const suffix = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const staging = `${target}.partial-${suffix}`;
  try {
    fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
    const files = tree.replaceable ? [...tree.files, { path: TREE_MARKER, mode: 0o600, data: `${tree.replaceable}\n` }] : tree.files;
    for (const file of files) {
      const full = path.join(staging, file.path);
      fs.mkdirSync(path.dirname(full), { recursive: true, mode: 0o755 });
      fs.writeFileSync(full, file.data, { mode: file.mode, flag: 'wx' });
      fs.chmodSync(full, file.mode); // the umask must neither loosen nor tighten the modes asked for
    }
    for (const directory of tree.directories ?? []) {
      const full = path.join(staging, directory.path);
      fs.mkdirSync(full, { recursive: true });
      fs.chmodSync(full, directory.mode);
    }
    fs.chmodSync(staging, tree.mode);
    if (!replace) {
      // rename(2) replaces an empty directory atomically.
      fs.renameSync(staging, target);
      return;
    }
    // A non-empty directory cannot be renamed over: move the old tree aside, then put it back on failure.
    const old = `${target}.old-${suffix}`;
    fs.renameSync(target, old);
    try {
      fs.renameSync(staging, target);
    } catch (err) {
      fs.renameSync(old, target);
      throw err;
    }
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

function isEmptyDirectory(dir: string): boolean {
  return fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length === 0;
}

function isTreeOf(dir: string, command: string): boolean {
  const marker = path.join(dir, TREE_MARKER);
  return fs.statSync(dir).isDirectory() && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === `${command}\n`;
}
