import { SpecError, StateError } from './engine/errors';

/**
 * Runs `fn`; an input or state error ends the process with its message alone (construct path, field,
 * reason) rather than a stack trace. Anything else is a bug and keeps its stack.
 */
export function reportErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const expected = err instanceof SpecError || err instanceof StateError || message.startsWith('Validation failed');
    if (!expected) throw err;
    process.stderr.write(`cdk8s-pki: ${message}\n`);
    process.exitCode = 1;
  }
}
