/**
 * A CA or service-account key rotation in words, for `plan`, the synth summary, `list` and PKI.md: the
 * transition a synth makes, what a phase does, and what the next one will do. One table, so every place that
 * names a phase says the same thing.
 */
import { RotationDecision, RotationPhase } from '../state/pki-state';

/** What `PkiState.rotations()` says of a slot, as far as these words need it. */
export type RotationTransition = Pick<RotationDecision, 'kind' | 'id' | 'from' | 'to' | 'action'>;

type Kind = RotationTransition['kind'];

/** What each phase does, once it is synthesized (the phase table of docs/rotation.md). */
const PHASE_EFFECT: Record<RotationPhase, Record<Kind, string>> = {
  'trust-both': {
    'certificate-authority': 'a new CA (new key) beside the old one; every bundle trusts both; the old CA still signs, nothing is re-issued',
    key: 'a new key beside the old one; sa.pub lists both; the old key still signs tokens',
  },
  'issue-from-new': {
    'certificate-authority': 'the new CA signs: every leaf it signs is re-issued by it; bundles still trust both',
    key: 'the new key signs tokens; sa.pub still lists the old key, so its tokens verify',
  },
  'drop-old': {
    'certificate-authority': 'the old CA leaves every bundle: what it signed is no longer trusted; its key is archived, never deleted',
    key: 'sa.pub lists the new key only: tokens signed by the old key stop verifying; its key file is kept',
  },
};

/** What a rollback to `to` does (from the phase after it). */
const ROLLBACK_EFFECT: Record<'trust-both' | 'none', Record<Kind, string>> = {
  'trust-both': {
    'certificate-authority': 'the old CA signs again: the leaves are re-issued by it; bundles as in trust-both',
    key: 'the old key signs tokens again; sa.pub as in trust-both',
  },
  none: {
    'certificate-authority': 'the new CA is archived (its key kept); bundles as before the rotation',
    key: 'the new key is archived (its file kept); sa.pub as before the rotation',
  },
};

const NEXT: Record<RotationPhase, RotationPhase | undefined> = { 'trust-both': 'issue-from-new', 'issue-from-new': 'drop-old', 'drop-old': undefined };

/** `rotation 2027: trust-both → issue-from-new`, `rotation 2027 rolled back: issue-from-new → trust-both`. */
export function describeTransition(t: RotationTransition): string {
  if (t.action === 'keep') return t.to === 'none' ? `rotation ${t.id}: none in progress` : `rotation ${t.id}: ${t.to}`;
  return `rotation ${t.id}${t.action === 'rollback' ? ' rolled back' : ''}: ${t.from} → ${t.to}`;
}

/** What the synth of `t` does, or undefined when it keeps the phase. */
export function transitionEffect(t: RotationTransition): string | undefined {
  if (t.action === 'keep') return undefined;
  if (t.action === 'rollback') return ROLLBACK_EFFECT[t.to === 'trust-both' ? 'trust-both' : 'none'][t.kind];
  return t.to === 'none' ? undefined : PHASE_EFFECT[t.to][t.kind];
}

/** What `phase` did when it was synthesized. */
export function phaseEffect(kind: Kind, phase: RotationPhase): string {
  return PHASE_EFFECT[phase][kind];
}

/** The phase to declare next and what it will do; after drop-old, that the rotation is finished. */
export function nextPhase(kind: Kind, phase: RotationPhase): string {
  const next = NEXT[phase];
  return next ? `${next}: ${PHASE_EFFECT[next][kind]}` : 'none: the rotation is finished (remove the declaration, or keep it: nothing changes)';
}
