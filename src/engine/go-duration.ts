// Go time.Duration strings, as kubeadm's config (certificateValidityPeriod) and cert-manager (spec.duration) write them.
import { SpecError } from '../engine/errors';

const UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const GO_DURATION = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_TERM = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Whole seconds as Go's Duration.String() prints them (`2160h0m0s`, `5m0s`, `30s`), which is how cert-manager and
 * `kubectl get` show them back; writing the same form keeps a GitOps diff quiet.
 */
export function formatGoDuration(seconds: number, field: string): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new SpecError(field, `must be a whole, non-negative number of seconds (got ${seconds})`);
  // Go's time.Duration is an int64 of nanoseconds: a longer one does not parse.
  if (seconds > 9_223_372_036) throw new SpecError(field, `must be at most 2562047h47m16s, the longest Go duration (got ${seconds} s)`);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

/** A Go duration string (`2160h`, `1h30m`, `90m0s`) in seconds, as time.ParseDuration reads it. */
export function parseGoDuration(value: string, field: string): number {
  if (value === '0') return 0;
  if (!GO_DURATION.test(value)) throw new SpecError(field, `"${value}" is not a Go duration such as "2160h", "90m" or "1h30m0s"`);
  const sign = value.startsWith('-') ? -1 : 1;
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(GO_DURATION_TERM)) seconds += Number(amount) * UNIT_SECONDS[unit];
  return sign * seconds;
}
