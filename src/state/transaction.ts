/**
 * One synth's view of the state: reads are cached and remembered (by hash) so a concurrent change is noticed
 * at commit; writes are staged and land together under the store's lock.
 */
import { StateError } from '../engine/errors';
import { COMMIT_JOURNAL, parseJson } from './records';
import { StateStore } from './store';

/** Something a synth would write to the state, by slot, and why. */
export interface PendingChange {
  /** The state slot. */
  readonly slot: string;
  /** What would change, and why. */
  readonly reasons: string[];
}

interface Staged {
  readonly data: Buffer;
  readonly exclusive: boolean;
}

/** One staging, with what it replaced, so that a savepoint is a position in this log rather than a copy. */
interface Undo {
  readonly name: string;
  readonly staged: Staged | undefined;
  readonly slot: string;
  readonly reasons: string[] | undefined;
  readonly added: boolean;
}

/** What a transaction held at a point, to go back to it (a request that failed half-way). */
export interface Savepoint {
  readonly position: number;
}

export class StateTransaction {
  private readonly staged = new Map<string, Staged>();
  private readonly changes = new Map<string, string[]>();
  /** What each entry held when first read (undefined: absent), to detect a concurrent synth at commit; the cache's own bytes. */
  private readonly observed = new Map<string, Buffer | undefined>();
  private readonly cache = new Map<string, Buffer | undefined>();
  private readonly undo: Undo[] = [];
  private journal?: ReadonlySet<string>;
  /**
   * Every name, stored or staged, and the names by directory: read from the store once, then kept up to date
   * as entries are staged, since every request looks for its slot's key files.
   */
  private index?: { readonly all: Set<string>; readonly byDirectory: Map<string, Set<string>>; sorted?: string[] };

  constructor(readonly store: StateStore) {}

  /**
   * The entry as this synth sees it: staged, else as first read (cached, so one synth sees one state and
   * parses each record once; the same bytes are returned every time, so do not modify them).
   */
  read(name: string): Buffer | undefined {
    const staged = this.staged.get(name);
    if (staged) return staged.data;
    if (this.cache.has(name)) return this.cache.get(name);
    const data = this.store.read(name);
    this.cache.set(name, data);
    if (!this.observed.has(name)) this.observed.set(name, data);
    return data;
  }

  /** Every entry name, stored or staged, sorted. */
  names(): readonly string[] {
    const index = this.indexed();
    index.sorted ??= [...index.all].sort();
    return index.sorted;
  }

  /** Every entry name under `prefix/`, stored or staged, sorted: without listing the whole store when nothing else did. */
  namesUnder(prefix: string): string[] {
    if (this.index) return this.names().filter((name) => name.startsWith(`${prefix}/`));
    return [...new Set([...this.store.list(prefix), ...[...this.staged.keys()].filter((name) => name.startsWith(`${prefix}/`))])].sort();
  }

  /** The base names of the entries directly in `directory` (a slot), stored or staged, unsorted. */
  namesIn(directory: string): ReadonlySet<string> {
    return this.indexed().byDirectory.get(directory) ?? new Set();
  }

  private indexed(): NonNullable<StateTransaction['index']> {
    if (!this.index) {
      this.index = { all: new Set(), byDirectory: new Map() };
      for (const name of [...this.store.list(), ...this.staged.keys()]) this.indexName(name);
    }
    return this.index;
  }

  /** Adds `name` to the index; false when it was there already. */
  private indexName(name: string): boolean {
    const index = this.index!;
    if (index.all.has(name)) return false;
    index.all.add(name);
    index.sorted = undefined;
    const slash = name.lastIndexOf('/');
    const directory = slash < 0 ? '' : name.slice(0, slash);
    let entries = index.byDirectory.get(directory);
    if (!entries) index.byDirectory.set(directory, (entries = new Set()));
    entries.add(name.slice(slash + 1));
    return true;
  }

  private unindexName(name: string): void {
    const index = this.index!;
    index.all.delete(name);
    index.sorted = undefined;
    const slash = name.lastIndexOf('/');
    index.byDirectory.get(slash < 0 ? '' : name.slice(0, slash))?.delete(name.slice(slash + 1));
  }

  stage(slot: string, name: string, data: Buffer, exclusive: boolean, reasons: string[]): void {
    this.indexed();
    const added = this.indexName(name);
    this.undo.push({ name, staged: this.staged.get(name), slot, reasons: this.changes.get(slot), added });
    this.staged.set(name, { data, exclusive });
    this.changes.set(slot, [...new Set([...(this.changes.get(slot) ?? []), ...reasons])]);
  }

  /**
   * True when the commit journal of a commit that did not finish names `name`: a file written by a synth that
   * was killed before it wrote the rest (the key of a record it never wrote), as opposed to one left behind
   * by a deleted record.
   */
  writtenByUnfinishedCommit(name: string): boolean {
    if (!this.journal) {
      const data = this.store.read(COMMIT_JOURNAL);
      const parsed = data && (parseJson(data, this.store.locate(COMMIT_JOURNAL)) as { writes?: unknown });
      const writes = parsed && Array.isArray(parsed.writes) ? parsed.writes.filter((w): w is string => typeof w === 'string') : [];
      this.journal = new Set(writes);
    }
    return this.journal.has(name);
  }

  savepoint(): Savepoint {
    return { position: this.undo.length };
  }

  rollback(savepoint: Savepoint): void {
    while (this.undo.length > savepoint.position) {
      const { name, staged, slot, reasons, added } = this.undo.pop()!;
      if (staged) this.staged.set(name, staged);
      else this.staged.delete(name);
      if (reasons) this.changes.set(slot, reasons);
      else this.changes.delete(slot);
      if (added) this.unindexName(name);
    }
  }

  get isEmpty(): boolean {
    return this.staged.size === 0;
  }

  pendingChanges(): PendingChange[] {
    return [...this.changes.entries()].map(([slot, reasons]) => ({ slot, reasons }));
  }

  /**
   * Writes what was staged, under the lock, after checking that nothing read changed meanwhile. The journal
   * goes first and is removed last; keys go before records, so a record never names a key that is not on disk.
   */
  commit(): void {
    if (this.staged.size === 0) {
      this.store.release?.();
      return;
    }
    this.store.withLock(() => {
      for (const [name, seen] of this.observed) {
        const data = this.store.read(name);
        if (data === undefined ? seen !== undefined : seen === undefined || !data.equals(seen)) {
          throw new StateError(`${this.store.locate(name)} changed while this synth ran (another synth?); nothing was written, run synth again`);
        }
      }
      const ordered = [...this.staged.entries()].sort(([, a], [, b]) => Number(b.exclusive) - Number(a.exclusive));
      this.store.write(COMMIT_JOURNAL, Buffer.from(`${JSON.stringify({ version: 1, writes: ordered.map(([name]) => name) })}\n`), false);
      for (const [name, { data, exclusive }] of ordered) {
        this.store.write(name, data, exclusive);
        this.observed.set(name, data);
        this.cache.set(name, data);
        this.staged.delete(name);
      }
      this.store.remove(COMMIT_JOURNAL);
      this.journal = new Set();
      this.index = undefined;
      this.undo.length = 0;
    });
    this.changes.clear();
  }
}
