import { Entropy } from '../engine/entropy';
import { SpecError } from '../engine/errors';
import { isStateName } from './records';
import { StateTransaction } from './transaction';

/** What the state's parts (certificates, keys, secrets, documents) share within one synth. */
export interface StateContext {
  readonly txn: StateTransaction;
  readonly entropy: Entropy;
  now(): Date;
}

export function checkSlot(slot: string): void {
  if (!isStateName(slot)) throw new SpecError('slot', `"${slot}" is not a valid state slot (letters, digits, "-_." and "/")`);
}
