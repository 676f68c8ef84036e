import { CaRotation, decideRotation, RecordedRotation } from '../../src/state/rotation-policy';

const declare = (phase: CaRotation['phase'], id = '2027'): CaRotation => ({ id, phase });
const recorded = (phase: RecordedRotation['phase'], id = '2027'): RecordedRotation => ({ id, phase });

describe('the rotation policy', () => {
  // Written out by hand from the phase order (none → trust-both → issue-from-new → drop-old, one back before drop-old).
  test.each([
    ['nothing recorded, nothing declared', undefined, undefined, 'keep', 'none', 'none'],
    ['nothing recorded, trust-both', undefined, declare('trust-both'), 'start', 'none', 'trust-both'],
    ['trust-both again', recorded('trust-both'), declare('trust-both'), 'keep', 'trust-both', 'trust-both'],
    ['trust-both → issue-from-new', recorded('trust-both'), declare('issue-from-new'), 'advance', 'trust-both', 'issue-from-new'],
    ['issue-from-new → drop-old', recorded('issue-from-new'), declare('drop-old'), 'advance', 'issue-from-new', 'drop-old'],
    ['issue-from-new → trust-both is a rollback', recorded('issue-from-new'), declare('trust-both'), 'rollback', 'issue-from-new', 'trust-both'],
    ['trust-both → undeclared is a rollback', recorded('trust-both'), undefined, 'rollback', 'trust-both', 'none'],
    ['finished, still declared', recorded('drop-old'), declare('drop-old'), 'keep', 'none', 'none'],
    ['finished, declaration removed', recorded('drop-old'), undefined, 'keep', 'none', 'none'],
    ['finished, a new rotation', recorded('drop-old'), declare('trust-both', '2028'), 'start', 'none', 'trust-both'],
    ['rolled back, tried again with the same id', recorded('rolled-back'), declare('trust-both'), 'start', 'none', 'trust-both'],
  ] as const)('%s', (_name, state, spec, action, from, to) => {
    expect(decideRotation(spec, state)).toEqual({ action, from, to });
  });

  test.each([
    ['a rotation that starts anywhere but trust-both', undefined, declare('issue-from-new'), 'no rotation was ever started; a rotation starts with trust-both (got issue-from-new)'],
    ['drop-old straight away', undefined, declare('drop-old'), 'no rotation was ever started; a rotation starts with trust-both (got drop-old)'],
    ['a skipped phase', recorded('trust-both'), declare('drop-old'), 'rotation "2027" is in phase trust-both, so drop-old would skip a phase; declare issue-from-new next, or remove the rotation to roll back'],
    ['two phases back', recorded('issue-from-new'), undefined, 'rotation "2027" is in phase issue-from-new, and a rollback goes back one phase per synth: declare trust-both first'],
    ['back from drop-old', recorded('drop-old'), declare('issue-from-new'), 'rotation "2027" finished (drop-old) and its old CA is archived; start another rotation with a new id (got issue-from-new)'],
    ['a finished rotation started again', recorded('drop-old'), declare('trust-both'), 'rotation "2027" finished (drop-old) and its old CA is archived; start another rotation with a new id (got trust-both)'],
    ['another id mid-rotation', recorded('issue-from-new'), declare('drop-old', '2028'), 'rotation "2027" is in phase issue-from-new; finish it or roll it back before rotation "2028" (declare drop-old next, or trust-both to roll back)'],
  ] as const)('refused: %s', (_name, state, spec, reason) => {
    expect(decideRotation(spec, state)).toEqual({ action: 'refuse', reason });
  });
});
