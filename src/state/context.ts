import { Entropy } from '../engine/entropy';
import { Progress } from '../progress';
import { SpecError } from '../engine/errors';
import { isStateName } from './records';
import { StateTransaction } from './transaction';

/** What the state's parts (certificates, keys, secrets, documents) share within one synth. */
export interface StateContext {
  readonly txn: StateTransaction;
  readonly entropy: Entropy;
  /** Told of each slow step (a certificate issued, a bare key drawn), for the progress bar. */
  readonly progress: Progress;
  now(): Date;
}

export function checkSlot(slot: string): void {
  if (!isStateName(slot)) throw new SpecError('slot', `"${slot}" is not a valid state slot (letters, digits, "-_." and "/")`);
}
