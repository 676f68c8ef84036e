// The oracle of the rotation tests: the phase table of a CA rotation, written out here by hand (not read from
// the engine's phaseTrust), and what a phase's files must hold according to it.
import { X509Certificate } from 'node:crypto';

/** The old CA (or service-account key) and the new one of a rotation. */
export type Generation = 'old' | 'new';

/** Which CA signs, and which CAs every bundle holds (signing CA first), after each step; the same for sa.key / sa.pub. */
export const PHASE_TABLE = {
  start: { signs: 'old', trusted: ['old'] },
  'trust-both': { signs: 'old', trusted: ['old', 'new'] },
  'issue-from-new': { signs: 'new', trusted: ['new', 'old'] },
  'drop-old': { signs: 'new', trusted: ['new'] },
  'rollback-to-trust-both': { signs: 'old', trusted: ['old', 'new'] },
  'rollback-to-start': { signs: 'old', trusted: ['old'] },
} as const satisfies Record<string, { signs: Generation; trusted: readonly Generation[] }>;

export type TableStep = keyof typeof PHASE_TABLE;

/** The table's verdict: whatever `signedBy` signed in one step is trusted after step `trustedIn`. */
export const tableTrusts = (signedBy: Generation, trustedIn: TableStep): boolean => (PHASE_TABLE[trustedIn].trusted as readonly Generation[]).includes(signedBy);

/**
 * The old and new CA of one authority in one rotation, from its bundles: the old one is the only certificate of
 * the start bundle, the new one the other certificate of the trust-both bundle.
 */
export function oldAndNew(startBundle: readonly X509Certificate[], trustBothBundle: readonly X509Certificate[]): Record<Generation, X509Certificate> {
  if (startBundle.length !== 1) throw new Error(`the start bundle holds ${startBundle.length} certificates, not 1`);
  const [old] = startBundle;
  const others = trustBothBundle.filter((c) => !c.raw.equals(old.raw));
  if (others.length !== 1) throw new Error(`the trust-both bundle holds ${others.length} certificates besides the old CA, not 1`);
  return { old, new: others[0] };
}
