/**
 * When a recorded certificate is kept, re-issued, renewed or given a new key: one pure function, called by
 * synth and by anything that plans without synthesizing, so the two cannot disagree.
 */
import stableStringify from 'fast-json-stable-stringify';
import { KeyAlgorithm } from '../engine/keys';
import { sha256Hex } from '../engine/pem';
import { CertificateSpec, DistinguishedName, SubjectAltNames } from '../engine/spec';
import { CertificateRecord, recordNotAfter } from './records';

/** What a certificate is asked to be, with its spec already validated. */
export interface ReissueRequest {
  /** The state slot, for the refusal's advice. */
  readonly slot: string;
  readonly spec: CertificateSpec;
  readonly keyAlgorithm: KeyAlgorithm;
  /** SHA-256 fingerprint of the issuer's certificate, or `self` for a self-signed certificate. */
  readonly issuer: string;
  /** Renew once less than this remains. @default a third of the validity (cert-manager's default) */
  readonly renewBeforeSeconds?: number;
  /** `rotate`: every re-issue gets a new key. @default keep */
  readonly keyPolicy?: 'keep' | 'rotate';
}

/** Why a recorded certificate cannot be kept as it is. */
export type ReissueReason =
  /** One field of the spec changed; `change` says how (`SANs +10.0.0.5`, `validity 8760h → 17520h`). */
  | { readonly kind: 'spec'; readonly field: SpecField; readonly change: string }
  /** The spec changed, but the record (of an older version) holds only its hash. */
  | { readonly kind: 'spec-hash' }
  | { readonly kind: 'renewal-due'; readonly notAfter: Date; readonly renewAt: Date }
  | { readonly kind: 'renewal-requested' }
  | { readonly kind: 'key-rotation-requested' };

export type SpecField = 'subject' | 'sans' | 'keyUsage' | 'extendedKeyUsage' | 'ca' | 'validity' | 'keyAlgorithm' | 'issuer';

/**
 * What to do with a slot. `issue`: nothing recorded. `reissue`: the spec changed. `renew`: the renewal window
 * opened or a renewal was requested, spec unchanged. `rotate`: a key rotation was requested. `newKey` says
 * whether the re-issued certificate gets a new key generation. `refuse`: the request would replace a CA's key
 * unasked; `field` and `reason` make the error.
 */
export type ReissueDecision =
  | { readonly action: 'keep'; readonly renewAt: Date }
  | { readonly action: 'issue' }
  | { readonly action: 'reissue' | 'renew' | 'rotate'; readonly newKey: boolean; readonly reasons: ReissueReason[] }
  | { readonly action: 'refuse'; readonly field: 'keyAlgorithm'; readonly reason: string };

/** The digest stored in a record: the spec, key algorithm and issuer (the formula of every record version). */
export function specHashOf(request: Pick<ReissueRequest, 'spec' | 'keyAlgorithm' | 'issuer'>): string {
  return sha256Hex(stableStringify({ spec: request.spec, keyAlgorithm: request.keyAlgorithm, issuer: request.issuer }));
}

/**
 * The decision for `request` given what `record` holds (undefined: nothing recorded) at `now`.
 *
 * Renewal is due when `now >= notAfter - renewBefore` (the edge itself renews). A key algorithm change, a
 * requested key rotation, or `keyPolicy: rotate` with any other reason gives a new key; for a CA that is
 * refused unless the rotation was requested, because a CA's key is its identity.
 */
export function decideReissue(request: ReissueRequest, record: CertificateRecord | undefined, now: Date): ReissueDecision {
  if (!record) return { action: 'issue' };
  const reasons: ReissueReason[] = [];
  if (record.specHash !== specHashOf(request)) reasons.push(...specReasons(request, record));
  if (record.renewalRequested) reasons.push({ kind: 'renewal-requested' });
  if (record.keyRotationRequested) reasons.push({ kind: 'key-rotation-requested' });
  const notAfter = recordNotAfter(record);
  const renewBefore = request.renewBeforeSeconds ?? Math.floor(request.spec.validitySeconds / 3);
  const renewAt = new Date(notAfter.getTime() - renewBefore * 1000);
  if (now.getTime() >= renewAt.getTime()) reasons.push({ kind: 'renewal-due', notAfter, renewAt });
  if (reasons.length === 0) return { action: 'keep', renewAt };

  const rotationRequested = record.keyRotationRequested === true;
  const newKey = rotationRequested || record.keyAlgorithm !== request.keyAlgorithm || request.keyPolicy === 'rotate';
  if (newKey && request.spec.ca && !rotationRequested) {
    const change = record.keyAlgorithm === request.keyAlgorithm ? 'keyPolicy "rotate"' : `${record.keyAlgorithm} → ${request.keyAlgorithm}`;
    return {
      action: 'refuse',
      field: 'keyAlgorithm',
      reason: `changing the key of CA "${request.spec.subject.commonName}" (${change}) replaces the CA; rotate it in phases instead: declare \`rotation: { id, phase: 'trust-both' }\` (\`caRotation\` in a cluster spec), whose new CA gets the new key`,
    };
  }
  const action = rotationRequested ? 'rotate' : reasons.some((r) => r.kind === 'spec' || r.kind === 'spec-hash') ? 'reissue' : 'renew';
  return { action, newKey, reasons };
}

/** A reason as one line of a plan or of the frozen-mode failure. */
export function describeReason(reason: ReissueReason): string {
  switch (reason.kind) {
    case 'spec':
      return reason.change;
    case 'spec-hash':
      return 'spec changed';
    case 'renewal-due':
      return `renewal due (expires ${reason.notAfter.toISOString()})`;
    case 'renewal-requested':
      return 'renewal requested';
    case 'key-rotation-requested':
      return 'key rotation requested';
  }
}

function specReasons(request: ReissueRequest, record: CertificateRecord): ReissueReason[] {
  const changes: ReissueReason[] = [];
  const add = (field: SpecField, change: string | undefined) => change && changes.push({ kind: 'spec', field, change });
  add('keyAlgorithm', record.keyAlgorithm !== request.keyAlgorithm ? `key algorithm ${record.keyAlgorithm} → ${request.keyAlgorithm}` : undefined);
  if (record.spec === undefined || record.issuer === undefined) return [...changes, { kind: 'spec-hash' }];
  const before = record.spec as CertificateSpec;
  const after = request.spec;
  add('subject', subjectChange(before.subject, after.subject));
  add('sans', setChange('SANs', sanList(before.sans), sanList(after.sans)));
  add('keyUsage', setChange('key usages', before.keyUsage, after.keyUsage));
  add('extendedKeyUsage', setChange('usages', before.extendedKeyUsage, after.extendedKeyUsage));
  add('ca', caChange(before, after));
  add('validity', before.validitySeconds !== after.validitySeconds ? `validity ${duration(before.validitySeconds)} → ${duration(after.validitySeconds)}` : undefined);
  add('issuer', record.issuer !== request.issuer ? 'issuer changed' : undefined);
  // A difference the fields above do not name (a field added by a later version) is still a change.
  return changes.length > 0 ? changes : [{ kind: 'spec-hash' }];
}

const SUBJECT_ATTRIBUTES: [keyof DistinguishedName, string][] = [
  ['commonName', 'CN'],
  ['organizations', 'O'],
  ['organizationalUnits', 'OU'],
  ['country', 'C'],
  ['province', 'ST'],
  ['locality', 'L'],
];

function subjectChange(before: DistinguishedName, after: DistinguishedName): string | undefined {
  const parts = SUBJECT_ATTRIBUTES.map(([key, label]) => {
    const a = before[key];
    const b = after[key];
    if (Array.isArray(a) || Array.isArray(b)) return setChange(label, a as string[] | undefined, b as string[] | undefined);
    return a === b ? undefined : `${label} ${a === undefined ? '(none)' : JSON.stringify(a)} → ${b === undefined ? '(none)' : JSON.stringify(b)}`;
  }).filter((p): p is string => p !== undefined);
  return parts.length ? `subject ${parts.join(', ')}` : undefined;
}

function sanList(sans: SubjectAltNames | undefined): string[] {
  return [...(sans?.dnsNames ?? []), ...(sans?.ipAddresses ?? []), ...(sans?.uris ?? []), ...(sans?.emails ?? [])];
}

/** `label +added -removed`; `label reordered` when only the order differs (it shows in the certificate). */
function setChange(label: string, before: readonly string[] | undefined, after: readonly string[] | undefined): string | undefined {
  if (stableStringify(before ?? null) === stableStringify(after ?? null)) return undefined;
  const a = before ?? [];
  const b = after ?? [];
  const added = b.filter((x) => !a.includes(x)).map((x) => `+${x}`);
  const removed = a.filter((x) => !b.includes(x)).map((x) => `-${x}`);
  if (added.length + removed.length > 0) return `${label} ${[...added, ...removed].join(' ')}`;
  if (before === undefined || after === undefined) return `${label} ${before === undefined ? 'default' : a.join(', ')} → ${after === undefined ? 'default' : b.join(', ')}`;
  return `${label} reordered`;
}

function caChange(before: CertificateSpec, after: CertificateSpec): string | undefined {
  if (!before.ca !== !after.ca) return after.ca ? 'became a CA' : 'no longer a CA';
  if (!before.ca || !after.ca) return undefined;
  const parts: string[] = [];
  if (before.ca.pathLength !== after.ca.pathLength) parts.push(`CA pathLength ${before.ca.pathLength ?? 'unlimited'} → ${after.ca.pathLength ?? 'unlimited'}`);
  if (stableStringify(before.ca.nameConstraints ?? null) !== stableStringify(after.ca.nameConstraints ?? null)) parts.push('CA name constraints changed');
  return parts.length ? parts.join(', ') : undefined;
}

/** Seconds as a Go duration the way specs are usually written (`8760h`), else in seconds. */
function duration(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${seconds}s`;
}
