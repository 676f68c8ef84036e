import { SpecError, StateError } from './engine/errors';
import { stopProgress } from './progress';

/** What every clean error line starts with. */
const ERROR_PREFIX = 'cdk8s-pki: ';

// Messages our own validations handed to cdk8s, which reports them inside "Validation failed with the following
// errors:"; only those are ours to print cleanly (another library's validation failure keeps its form).
const validationMessages = new Set<string>();

/** Registers `err`'s message as one of ours and returns it, for a construct validation to hand to cdk8s. */
export function validationMessage(err: SpecError | StateError): string {
  validationMessages.add(err.message);
  return err.message;
}

/**
 * The clean lines (`cdk8s-pki: path: field: reason`) for an error of bad input or state, or undefined for
 * anything else: a bug, whose stack is worth more than a tidy line.
 */
export function cleanErrorLines(err: unknown): string[] | undefined {
  if (err instanceof SpecError || err instanceof StateError) return err.message.split('\n').map((line) => ERROR_PREFIX + line);
  const message = err instanceof Error ? err.message : undefined;
  const header = 'Validation failed with the following errors:\n  ';
  if (!message?.startsWith(header)) return undefined;
  // cdk8s writes each validation error as `[construct path] message`, joined with "\n  ".
  const entries = message.slice(header.length).split(/\n {2}(?=\[)/).map((entry) => /^\[([^\]]*)\] ([\s\S]*)$/.exec(entry));
  if (!entries.every((m) => m !== null && validationMessages.has(m[2]))) return undefined;
  return entries.flatMap((m) => {
    const [, path, text] = m!;
    const where = path && !text.startsWith(`${path}: `) ? `${path}: ` : '';
    return text.split('\n').map((line, i) => ERROR_PREFIX + (i === 0 ? where : '') + line);
  });
}

/**
 * Runs `fn`; an input or state error ends the process with its message alone (construct path, field,
 * reason) rather than a stack trace. Anything else is a bug and keeps its stack.
 */
export function reportErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    stopProgress();
    const lines = cleanErrorLines(err);
    if (!lines) throw err;
    process.stderr.write(lines.map((line) => `${line}\n`).join(''));
    process.exitCode = 1;
  }
}

let installed = false;

/**
 * Makes an error of ours that nothing catches (a bad prop in `main.ts` under `cdk8s synth`) print its clean lines
 * and exit 1, instead of Node's dump with a stack trace. Installed once, when the library is loaded; it steps
 * aside when the app has an uncaughtException handler of its own, and anything not ours is rethrown to Node, which
 * prints and exits as it would have without it.
 */
export function installErrorReporter(): void {
  if (installed) return;
  installed = true;
  const handler = (err: unknown): void => {
    if (otherHandlers().length > 0) return; // the app handles uncaught errors itself
    stopProgress();
    const lines = cleanErrorLines(err);
    if (lines) {
      process.stderr.write(lines.map((line) => `${line}\n`).join(''));
      process.exit(1);
    }
    // Not ours: thrown again with no handler left, Node prints it (stack and all) and exits 1, as without us.
    process.removeListener('uncaughtException', handler);
    process.nextTick(() => {
      throw err;
    });
  };
  // Node's domain module (loaded by ts-node, through repl) adds a listener beside any other and drops it with the
  // last one: it handles nothing, so it does not count as the app's.
  const otherHandlers = () => process.listeners('uncaughtException').filter((l) => l !== handler && l.name !== 'domainUncaughtExceptionClear');
  if (otherHandlers().length === 0) process.on('uncaughtException', handler);
}
