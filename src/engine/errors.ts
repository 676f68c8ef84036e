/**
 * An input that cannot be turned into a valid certificate, key or state.
 *
 * `field` is the dotted path of the offending input (`sans.ipAddresses[2]`); callers that know
 * where the input came from (a construct path, a file) prefix it with `within()`. One error can carry the
 * others found in the same input (`SpecError.all`), so a spec file reports every mistake at once; the message
 * then has one `where: field: reason` line per error.
 */
export class SpecError extends Error {
  constructor(
    /** The dotted path of the offending input (`sans.ipAddresses[2]`). */
    readonly field: string,
    /** What is wrong with it, and what is allowed. */
    readonly reason: string,
    /** Where the input came from: a construct path, or a file and line. @default - not known */
    readonly where?: string,
    /** The other errors found in the same input. */
    readonly others: readonly SpecError[] = [],
  ) {
    super([lineOf(field, reason, where), ...others.map((e) => e.message)].join('\n'));
    this.name = 'SpecError';
  }

  /** One error holding all of `errors` (at least one), in their order. */
  static all(errors: readonly SpecError[]): SpecError {
    const flat = errors.flatMap((e) => e.each);
    return new SpecError(flat[0].field, flat[0].reason, flat[0].where, flat.slice(1));
  }

  /** Throws `SpecError.all(errors)` unless there are none. */
  static throwIfAny(errors: readonly SpecError[]): void {
    if (errors.length > 0) throw SpecError.all(errors);
  }

  /** This error and the others it carries, each on its own. */
  get each(): SpecError[] {
    return [new SpecError(this.field, this.reason, this.where), ...this.others];
  }

  /** The same error, located at `where` (a construct path or a file name). */
  within(where: string): SpecError {
    return this.map((e) => new SpecError(e.field, e.reason, e.where ? `${where}: ${e.where}` : where));
  }

  /** The same error with its field spelled as the caller's input names it (`subject.commonName` → `commonName`). */
  renamed(fields: Readonly<Record<string, string>>): SpecError {
    return this.map((e) => {
      const prefix = Object.keys(fields)
        .filter((p) => e.field === p || e.field.startsWith(`${p}.`) || e.field.startsWith(`${p}[`))
        .sort((a, b) => b.length - a.length)[0];
      return prefix === undefined ? e : new SpecError(fields[prefix] + e.field.slice(prefix.length), e.reason, e.where);
    });
  }

  /**
   * The same error about `field` instead, for input the caller derived rather than took from a prop (kubeadm's SANs):
   * the reason keeps the derived field's value and says where it came from.
   */
  about(field: string, origin: string): SpecError {
    return this.map((e) => new SpecError(field, `${origin}: ${e.reason}`, e.where));
  }

  private map(fn: (e: SpecError) => SpecError): SpecError {
    return SpecError.all(this.each.map(fn));
  }
}

function lineOf(field: string, reason: string, where?: string): string {
  return `${where ? `${where}: ` : ''}${field ? `${field}: ` : ''}${reason}`;
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
