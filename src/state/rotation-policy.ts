/**
 * CA rotation as phases, each one synth and one reviewed pull request: which transitions the declared phase may
 * make from the one the state records, and what each phase trusts and signs with. Pure, like the reissue policy,
 * so `plan` and synth cannot disagree. The order is Gardener's, Talos's and kops's: trust the new CA everywhere,
 * then sign with it, then drop the old one (reference: day2-rotation.md).
 */
import { SpecError } from '../engine/errors';

/** The phases of a CA rotation, in order. */
export const ROTATION_PHASES = ['trust-both', 'issue-from-new', 'drop-old'] as const;

/**
 * `trust-both`: a new CA (or key) beside the old one, trusted everywhere; the old one still signs.
 * `issue-from-new`: the new one signs, and everything it signs is re-issued; both are still trusted.
 * `drop-old`: only the new one is trusted; the old one is archived in the state, never deleted.
 */
export type RotationPhase = (typeof ROTATION_PHASES)[number];

/** A rotation as the spec declares it: which one (`id`, e.g. "2027") and the phase it should be in. */
export interface CaRotation {
  /** Names this rotation; a finished one (drop-old) is followed by a new id. */
  readonly id: string;
  /** The phase to be in after this synth: one step from the recorded one (trust-both, issue-from-new, drop-old). */
  readonly phase: RotationPhase;
}

/** What the state records of a slot's rotations: the last one's id and where it stands. */
export interface RecordedRotation {
  readonly id: string;
  /** `rolled-back`: the last rotation was rolled back from trust-both; nothing is in progress. */
  readonly phase: RotationPhase | 'rolled-back';
}

/** A phase as plans show it: `none` is no rotation in progress (never started, finished, or rolled back). */
export type ShownPhase = RotationPhase | 'none';

export type PhaseDecision =
  | { readonly action: 'keep' | 'start' | 'advance' | 'rollback'; readonly from: ShownPhase; readonly to: ShownPhase }
  | { readonly action: 'refuse'; readonly reason: string };

const inProgress = (phase: RecordedRotation['phase'] | undefined): phase is 'trust-both' | 'issue-from-new' => phase === 'trust-both' || phase === 'issue-from-new';

/** The phase after `phase`, and the one a rollback from it returns to. */
const NEXT: Record<'trust-both' | 'issue-from-new', RotationPhase> = { 'trust-both': 'issue-from-new', 'issue-from-new': 'drop-old' };
const PREVIOUS: Record<'trust-both' | 'issue-from-new', ShownPhase> = { 'trust-both': 'none', 'issue-from-new': 'trust-both' };

const shown = (recorded: RecordedRotation | undefined): ShownPhase => (recorded && recorded.phase !== 'rolled-back' && recorded.phase !== 'drop-old' ? recorded.phase : 'none');

/** How the state stands, for a refusal: `rotation "2027" is in phase trust-both`. */
function standing(recorded: RecordedRotation | undefined): string {
  if (!recorded) return 'no rotation was ever started';
  if (recorded.phase === 'rolled-back') return `rotation "${recorded.id}" was rolled back; none is in progress`;
  if (recorded.phase === 'drop-old') return `rotation "${recorded.id}" finished (drop-old); none is in progress`;
  return `rotation "${recorded.id}" is in phase ${recorded.phase}`;
}

/** What may be declared next from an in-progress phase. */
function choices(phase: 'trust-both' | 'issue-from-new'): string {
  const back = PREVIOUS[phase] === 'none' ? 'remove the rotation to roll back' : `${PREVIOUS[phase]} to roll back`;
  return `declare ${NEXT[phase]} next, or ${back}`;
}

/**
 * The transition from what the state records to what the spec declares (undefined: no rotation declared).
 * One phase per synth, forwards or (before drop-old) one back; the same declaration again changes nothing.
 */
export function decideRotation(declared: CaRotation | undefined, recorded: RecordedRotation | undefined): PhaseDecision {
  const from = shown(recorded);
  const keep = (): PhaseDecision => ({ action: 'keep', from, to: from });
  const refuse = (reason: string): PhaseDecision => ({ action: 'refuse', reason });
  const move = (action: 'start' | 'advance' | 'rollback', to: ShownPhase): PhaseDecision => ({ action, from, to });

  if (!declared) {
    if (!inProgress(recorded?.phase)) return keep();
    if (recorded!.phase === 'trust-both') return move('rollback', 'none');
    return refuse(`${standing(recorded)}, and a rollback goes back one phase per synth: declare trust-both first`);
  }
  if (!inProgress(recorded?.phase)) {
    if (recorded?.phase === 'drop-old' && recorded.id === declared.id) {
      if (declared.phase === 'drop-old') return keep();
      return refuse(`rotation "${recorded.id}" finished (drop-old) and its old CA is archived; start another rotation with a new id (got ${declared.phase})`);
    }
    if (declared.phase === 'trust-both') return move('start', 'trust-both');
    return refuse(`${standing(recorded)}; a rotation starts with trust-both (got ${declared.phase})`);
  }
  const phase = recorded!.phase as 'trust-both' | 'issue-from-new';
  if (declared.id !== recorded!.id) return refuse(`${standing(recorded)}; finish it or roll it back before rotation "${declared.id}" (${choices(phase)})`);
  if (declared.phase === phase) return keep();
  if (declared.phase === NEXT[phase]) return move('advance', declared.phase);
  if (declared.phase === PREVIOUS[phase]) return move('rollback', declared.phase);
  return refuse(`${standing(recorded)}, so ${declared.phase} would skip a phase; ${choices(phase)}`);
}

/** A declaration as the spec gives it, checked; `field` is where it sits (`rotation`, `caRotation`). */
export function checkRotation(value: unknown, field: string): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SpecError(field, `must be an object { id, phase } (got ${JSON.stringify(value)})`);
  const { id, phase } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(id)) throw new SpecError(`${field}.id`, `must name the rotation with letters, digits and "._-", e.g. "2027" (got ${JSON.stringify(id)})`);
  if (!ROTATION_PHASES.includes(phase as RotationPhase)) throw new SpecError(`${field}.phase`, `must be one of ${ROTATION_PHASES.join(', ')} (got ${JSON.stringify(phase)})`);
}
