import { Duration } from 'cdk8s';
import { SpecError } from '../src/engine/errors';

/** A cdk8s Duration as the whole seconds the engine works in; `field` names the prop in errors. */
export function durationSeconds(duration: Duration, field: string): number {
  const value = duration.toSeconds();
  if (!Number.isInteger(value) || value < 60) throw new SpecError(field, `must be a whole number of seconds, at least 60 (got ${value})`);
  return value;
}
