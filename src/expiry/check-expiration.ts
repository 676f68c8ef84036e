/**
 * `cdk8s-pki check-expiration`: kubeadm's two tables (certificates, then certificate authorities) and a third of
 * bootstrap tokens, from expiry items read out of the state or an exported tree (`sources.ts`). Pure: the clock
 * is an argument.
 */
import { rfc3339Utc } from '../engine/time';
import { getBorderCharacters, table } from 'table';
import { stringify } from 'yaml';
import { formatExpires, residualSeconds, shortHumanDuration } from './format';

export type ExpiryItemKind = 'certificate' | 'certificate-authority' | 'token';

/** One thing that expires, as a source found it. */
export interface ExpiryItem {
  readonly kind: ExpiryItemKind;
  /** What the tables call it: the slot (state), or kubeadm's name (`apiserver`, `etcd-server`, `admin.conf`). */
  readonly name: string;
  /** Where it was read: the slot, or the file relative to the tree. */
  readonly source: string;
  /** Absent when the certificate is missing (a kubeconfig names a file that is not there) or a token's expiry is not recorded. */
  readonly notAfter?: Date;
  /** The issuing CA of a leaf: its slot or tree name when known, else the issuer's common name. */
  readonly caName?: string;
  /** kubeadm's meaning: the CA key is not at hand (not in the state or the tree), so this cannot be renewed from here. */
  readonly externallyManaged?: boolean;
}

/** `expiring`: inside the `--warn` window; `missing` and `unknown` never fail the check. */
export type ExpirationStatus = 'valid' | 'expiring' | 'expired' | 'missing' | 'unknown';

/** One row of the machine output; kubeadm's field names (`kubeadm certs check-expiration -o json`) where it has them. */
export interface ExpirationEntry {
  readonly name: string;
  readonly source: string;
  /** RFC 3339, UTC, whole seconds; null when missing or unknown. */
  readonly expirationDate: string | null;
  /** Seconds left, negative once expired (kubeadm's `residualTime`); null when missing or unknown. */
  readonly residualTime: number | null;
  readonly caName?: string;
  readonly externallyManaged?: boolean;
  readonly missing?: boolean;
  readonly status: ExpirationStatus;
}

/** The machine output of `check-expiration` (`src/expiry/schemas/check-expiration.schema.json`). */
export interface ExpirationReport {
  readonly kind: 'CertificateExpirationInfo';
  readonly apiVersion: 'output.pki.cdk8s.io/v1alpha1';
  readonly checkedAt: string;
  readonly source: { readonly state: string } | { readonly dir: string };
  /** The `--warn` window as given and in seconds; null without `--warn`. */
  readonly warn: { readonly within: string; readonly seconds: number } | null;
  readonly certificates: ExpirationEntry[];
  readonly certificateAuthorities: ExpirationEntry[];
  readonly tokens: ExpirationEntry[];
}


function entryOf(item: ExpiryItem, now: Date, warnSeconds: number | undefined): ExpirationEntry {
  const leaf = item.kind === 'certificate';
  const extra = item.kind === 'token' ? {} : { ...(leaf && item.caName !== undefined ? { caName: item.caName } : {}), externallyManaged: item.externallyManaged === true, missing: item.notAfter === undefined };
  if (!item.notAfter) return { name: item.name, source: item.source, expirationDate: null, residualTime: null, ...extra, status: item.kind === 'token' ? 'unknown' : 'missing' };
  const left = item.notAfter.getTime() - now.getTime();
  const status: ExpirationStatus = left <= 0 ? 'expired' : warnSeconds !== undefined && left < warnSeconds * 1000 ? 'expiring' : 'valid';
  return { name: item.name, source: item.source, expirationDate: rfc3339Utc(item.notAfter), residualTime: residualSeconds(item.notAfter, now), ...extra, status };
}

const byName = (a: ExpirationEntry, b: ExpirationEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The report of `items` at `now`; with `warn`, what expires within it is `expiring`. Each table is sorted by name, as kubeadm's. */
export function expirationReport(items: readonly ExpiryItem[], options: { now: Date; source: ExpirationReport['source']; warn?: { within: string; seconds: number } }): ExpirationReport {
  // To the second, as certificate dates are: each residualTime is then exactly expirationDate − checkedAt.
  const now = new Date(Math.floor(options.now.getTime() / 1000) * 1000);
  const of = (kind: ExpiryItemKind) => items.filter((i) => i.kind === kind).map((i) => entryOf(i, now, options.warn?.seconds)).sort(byName);
  return {
    kind: 'CertificateExpirationInfo',
    apiVersion: 'output.pki.cdk8s.io/v1alpha1',
    checkedAt: rfc3339Utc(now),
    source: options.source,
    warn: options.warn ?? null,
    certificates: of('certificate'),
    certificateAuthorities: of('certificate-authority'),
    tokens: of('token'),
  };
}

/** What fails the check: expired (always) or expiring within `--warn`. */
export function attentionEntries(report: ExpirationReport): ExpirationEntry[] {
  return [...report.certificates, ...report.certificateAuthorities, ...report.tokens].filter((e) => e.status === 'expired' || e.status === 'expiring');
}

/** The exit code: 0 when nothing is expired or expiring within `--warn`, else 2 (1 is left to errors, as every command). */
export function exitCodeOf(report: ExpirationReport): 0 | 2 {
  return attentionEntries(report).length > 0 ? 2 : 0;
}

/** One stderr line per entry that fails the check, saying when it expires (or expired). */
export function attentionLines(report: ExpirationReport): string[] {
  return attentionEntries(report).map((e) => {
    const when = formatExpires(new Date(e.expirationDate!));
    return e.status === 'expired' ? `${e.name} expired on ${when}` : `${e.name} expires within ${report.warn!.within}: ${when} (${shortHumanDuration(e.residualTime!)} left)`;
  });
}

const yesNo = (b: boolean | undefined) => (b ? 'yes' : 'no');

/**
 * Columns as kubeadm's tabwriter lays them out (`tabwriter.NewWriter(out, 10, 4, 3, ' ', 0)`): left-aligned, three
 * spaces between columns, each at least 10 wide with its padding; trailing blanks dropped.
 */
function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length), i === rows[0].length - 1 ? 1 : 7));
  return table(rows, {
    border: getBorderCharacters('void'),
    columns: widths.map((width, i) => ({ width, paddingLeft: 0, paddingRight: i === widths.length - 1 ? 0 : 3 })),
    drawHorizontalLine: () => false,
  })
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .join('\n');
}

const expires = (e: ExpirationEntry) => (e.expirationDate ? formatExpires(new Date(e.expirationDate)) : '<unknown>');
const residual = (e: ExpirationEntry) => (e.residualTime === null ? '<unknown>' : shortHumanDuration(e.residualTime));

/** The text output: kubeadm's two tables (a missing certificate as kubeadm's `!MISSING! <name>` row), then the tokens, if any. */
export function renderTables(report: ExpirationReport): string {
  const missing = (e: ExpirationEntry, width: number) => [`!MISSING! ${e.name}`, ...Array<string>(width - 1).fill('')];
  const certificates = columns([
    ['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED'],
    ...report.certificates.map((e) => (e.missing ? missing(e, 5) : [e.name, expires(e), residual(e), e.caName ?? '', yesNo(e.externallyManaged)])),
  ]);
  const authorities = columns([
    ['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED'],
    ...report.certificateAuthorities.map((e) => (e.missing ? missing(e, 4) : [e.name, expires(e), residual(e), yesNo(e.externallyManaged)])),
  ]);
  const tokens = report.tokens.length === 0 ? [] : [columns([['TOKEN', 'EXPIRES', 'RESIDUAL TIME'], ...report.tokens.map((e) => [e.name, expires(e), residual(e)])])];
  return `${[certificates, authorities, ...tokens].join('\n\n')}\n`;
}

/** The report in `format`. */
export function renderReport(report: ExpirationReport, format: 'table' | 'json' | 'yaml'): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'yaml') return stringify(report);
  return renderTables(report);
}
