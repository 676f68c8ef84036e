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

  /** The same error with `prefix` put in front of its field (`issuer` + `notAfter` → `issuer.notAfter`). */
  under(prefix: string): SpecError {
    const field = !this.field ? prefix : this.field.startsWith('[') ? `${prefix}${this.field}` : `${prefix}.${this.field}`;
    return new SpecError(field, this.reason, this.where);
  }
}

/** Runs `fn`, locating any SpecError it throws at `where`. */
export function locateErrors<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpecError) throw err.within(where);
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
