/**
 * An input that cannot be turned into a valid certificate, key or state.
 *
 * `field` is the dotted path of the offending input (`sans.ipAddresses[2]`); callers that know
 * where the input came from (a construct path, a file) prefix it with `within()`.
 */
export class SpecError extends Error {
  constructor(readonly field: string, readonly reason: string, readonly where?: string) {
    super(`${where ? `${where}: ` : ''}${field ? `${field}: ` : ''}${reason}`);
    this.name = 'SpecError';
  }

  /** The same error, located at `where` (a construct path or a file name). */
  within(where: string): SpecError {
    return new SpecError(this.field, this.reason, this.where ? `${where}: ${this.where}` : where);
  }

  /** The same error with its field spelled as the caller's input names it (`subject.commonName` → `commonName`). */
  renamed(fields: Readonly<Record<string, string>>): SpecError {
    const prefix = Object.keys(fields)
      .filter((p) => this.field === p || this.field.startsWith(`${p}.`) || this.field.startsWith(`${p}[`))
      .sort((a, b) => b.length - a.length)[0];
    return prefix === undefined ? this : new SpecError(fields[prefix] + this.field.slice(prefix.length), this.reason, this.where);
  }
}

/**
 * Runs `fn`, locating any SpecError it throws at `where` and, with `fields`, renaming engine fields to the
 * names of the props they came from.
 */
export function locateErrors<T>(where: string, fn: () => T, fields: Readonly<Record<string, string>> = {}): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpecError) throw err.renamed(fields).within(where);
    throw err;
  }
}

/** The state cannot be read or written safely; never answered by generating new material. */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}
