/**
 * `cdk8s-pki state migrate`: a whole state copied from one backend to another (a directory, a PostgreSQL
 * database), then read back through a fresh store of the target and compared entry by entry.
 */
import { StateError } from '../engine/errors';
import { sha256Hex } from '../engine/pem';
import { isKeyFileName } from './records';
import { StateStore } from './store';

export interface MigrationResult {
  /** Every entry copied, sorted. */
  readonly names: readonly string[];
}

/**
 * Copies every entry of `from` into `to`, which must hold none, under the target's lock (a PostgreSQL target
 * gets them in one transaction; a directory, file by file). Then `reopen()` gives a fresh store of the target,
 * which must list the same names and give every entry back with the same SHA-256, or the migration fails naming
 * the first that differs. The source is only read.
 */
export function migrateState(from: StateStore, to: StateStore, reopen: () => StateStore): MigrationResult {
  const names = from.list();
  if (names.length === 0) throw new StateError(`the ${from.location} is empty: nothing to migrate`);
  const entries = names.map((name) => ({ name, data: from.read(name)! }));
  to.withLock(() => {
    const present = to.list();
    if (present.length > 0) throw new StateError(`the ${to.location} already holds ${present.length} entries (${present[0]}, …): migrate into an empty state`);
    for (const { name, data } of entries) to.write(name, data, isKeyFileName(name));
  });
  const copy = reopen();
  const copied = copy.list();
  const missing = names.filter((name) => !copied.includes(name));
  const extra = copied.filter((name) => !names.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new StateError(`the ${copy.location} does not list what was copied (missing: ${missing.join(', ') || 'none'}; extra: ${extra.join(', ') || 'none'})`);
  }
  for (const { name, data } of entries) {
    const back = copy.read(name);
    if (!back || sha256Hex(back) !== sha256Hex(data)) throw new StateError(`${copy.locate(name)} does not read back as it was copied; the copy is not to be used`);
  }
  return { names };
}
