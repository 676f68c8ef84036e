import { Duration } from 'cdk8s';
import { SpecError } from '../src/engine/errors';

/**
 * A cdk8s Duration as the whole seconds the engine works in; `field` names the prop in errors. Read in
 * milliseconds, as cdk8s's own `toSeconds()` throws a stack trace for anything that is not whole seconds.
 */
export function durationSeconds(duration: Duration, field: string): number {
  const ms = durationMilliseconds(duration, field);
  if (ms % 1000 !== 0 || ms < 60_000 || !Number.isSafeInteger(ms / 1000)) {
    throw new SpecError(field, `must be a whole number of seconds, at least 60 (got ${describeDuration(ms)})`);
  }
  return ms / 1000;
}

/** A Duration's length in milliseconds; anything but a Duration (from JavaScript or JSON) is refused by name. */
export function durationMilliseconds(duration: Duration, field: string): number {
  // Duck-typed: an app may load its own copy of cdk8s, whose Duration is another class.
  if (typeof (duration as Partial<Duration> | undefined)?.toMilliseconds !== 'function') {
    throw new SpecError(field, `must be a Duration such as Duration.hours(24) (got ${JSON.stringify(duration) ?? String(duration)})`);
  }
  const ms = duration.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || ms < 0) throw new SpecError(field, `must be a finite, non-negative duration (got ${describeDuration(ms)})`);
  return ms;
}

function describeDuration(ms: number): string {
  return Number.isFinite(ms) && ms % 1000 !== 0 ? `${ms} ms` : `${ms / 1000} s`;
}

/**
 * The `renewBefore` prop in seconds, shorter than the validity: a certificate whose renewal window covers its whole
 * lifetime would be re-issued on every synth.
 */
export function renewBeforeWithin(renewBefore: Duration | undefined, validitySeconds: number): number | undefined {
  if (renewBefore === undefined) return undefined;
  const seconds = durationSeconds(renewBefore, 'renewBefore');
  if (seconds >= validitySeconds) throw new SpecError('renewBefore', `must be shorter than the validity (${seconds} s is not under ${validitySeconds} s), or every synth re-issues the certificate`);
  return seconds;
}
