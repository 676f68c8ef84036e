// kubeadm's ways of writing an expiry, so `check-expiration` reads as `kubeadm certs check-expiration` does.
import { SpecError } from '../engine/errors';
import { parseGoDuration } from '../engine/go-duration';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `date` as kubeadm's EXPIRES column writes it: Go's layout `Jan 02, 2006 15:04 MST` in UTC (seconds dropped, not rounded). */
export function formatExpires(date: Date): string {
  return `${MONTHS[date.getUTCMonth()]} ${two(date.getUTCDate())}, ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())} UTC`;
}

/**
 * Whole seconds left before `notAfter` at `now`, as kubeadm's `residualTime`: Go's `int64(d / time.Second)`
 * truncates toward zero, so an expired certificate is negative.
 */
export function residualSeconds(notAfter: Date, now: Date): number {
  return Math.trunc((notAfter.getTime() - now.getTime()) / 1000);
}

/**
 * apimachinery's `duration.ShortHumanDuration` on whole seconds (kubeadm's RESIDUAL TIME): one unit, truncated;
 * `<invalid>` below -1 s (expired), `0s` for -1 s (clock skew tolerated), years of 365 days from 365 days on.
 */
export function shortHumanDuration(seconds: number): string {
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(seconds / 3600 / 24 / 365)}y`;
}

const WITH_DAYS = /^(\d+)d(.*)$/;

/**
 * A warning window in seconds: a Go duration (`720h`, `1h30m`) or days first (`30d`, `1d12h`), which Go's
 * time.ParseDuration lacks and an expiry window needs. Negative windows are refused.
 */
export function parseWarnDuration(value: string, field: string): number {
  const refused = () => new SpecError(field, `"${value}" is not a duration such as "30d", "720h" or "1d12h"`);
  const days = WITH_DAYS.exec(value);
  let seconds: number;
  try {
    seconds = days ? Number(days[1]) * 86_400 + (days[2] === '' ? 0 : parseGoDuration(days[2], field)) : parseGoDuration(value, field);
  } catch (err) {
    if (err instanceof SpecError) throw refused();
    throw err;
  }
  if (seconds < 0 || (days && /^[-+]/.test(days[2]))) throw refused();
  return seconds;
}
