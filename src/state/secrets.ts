/** Secret strings in the state (bootstrap tokens): `<slot>/secret.json`, made once, changed only on request. */
import { StateError } from '../engine/errors';
import { checkSlot, StateContext } from './context';
import { parseRecord, SecretRecord, secretRecordName, serializeRecord } from './records';

/** A secret string kept in the state (a bootstrap token): made once, changed only on request. */
export interface StoredSecret {
  readonly value: string;
  readonly generation: number;
  /** When this generation was made (or first given): a TTL counts from here, so synths do not move it. */
  readonly createdAt: Date;
  /** Set when this synth staged a new value: `issue` (none stored), `rotate` (requested, or the given value changed). */
  readonly change?: { readonly action: 'issue' | 'renew' | 'rotate'; readonly reasons: string[] };
}

export function readSecretRecord(ctx: StateContext, slot: string): SecretRecord | undefined {
  const name = secretRecordName(slot);
  const data = ctx.txn.read(name);
  return data && parseRecord('secret', data, ctx.txn.store.locate(name));
}

/**
 * The secret of `slot`: `given` when the user supplies it, else the stored one, else a new one from
 * `generate` (fed by the state's entropy). A new value is made only when none is stored, the given one
 * changed, or a rotation was requested.
 */
export function ensureSecret(ctx: StateContext, slot: string, options: { given?: string; generate: (randomBytes: (count: number) => Buffer) => string }): StoredSecret {
  checkSlot(slot);
  const record = readSecretRecord(ctx, slot);
  const keep = record && !record.rotationRequested && (options.given === undefined ? true : record.given && record.value === options.given);
  if (record && keep) return { value: record.value, generation: record.generation, createdAt: new Date(record.createdAt) };
  const generation = (record?.generation ?? 0) + 1;
  let draw = 0;
  const value = options.given ?? options.generate((count) => ctx.entropy.bytes(`${slot}#${generation}.${draw++}`, count));
  const createdAt = ctx.now();
  const updated: SecretRecord = { version: 1, value, generation, createdAt: createdAt.toISOString(), given: options.given !== undefined, ...(ctx.entropy.seeded ? { seeded: true } : {}) };
  const reason = !record ? 'new secret' : record.rotationRequested ? 'rotation requested' : 'given value changed';
  const name = secretRecordName(slot);
  ctx.txn.stage(slot, name, serializeRecord('secret', updated, ctx.txn.store.locate(name)), false, [reason]);
  return { value, generation, createdAt, change: { action: record ? 'rotate' : 'issue', reasons: [reason] } };
}

/** The stored secret of `slot`, for commands that print or export it; a missing one is a StateError. */
export function storedSecret(ctx: StateContext, slot: string): string {
  const record = readSecretRecord(ctx, slot);
  if (!record) throw new StateError(`no secret "${slot}" in the ${ctx.txn.store.location}; run \`cdk8s synth\` first`);
  return record.value;
}

/** Marks a secret for a new value at the next synth; false when `slot` holds no secret. */
export function requestSecretRotation(ctx: StateContext, slot: string): boolean {
  const record = readSecretRecord(ctx, slot);
  if (!record) return false;
  const name = secretRecordName(slot);
  ctx.txn.stage(slot, name, serializeRecord('secret', { ...record, rotationRequested: true }, ctx.txn.store.locate(name)), false, ['rotation requested']);
  return true;
}

/** Every secret, without its value, for `cdk8s-pki list`. */
export function secretInventory(ctx: StateContext): { slot: string; generation: number; createdAt: Date; rotationRequested: boolean }[] {
  return ctx.txn
    .names()
    .filter((name) => name.endsWith('/secret.json'))
    .map((name) => {
      const record = readSecretRecord(ctx, name.slice(0, -'/secret.json'.length))!;
      return { slot: name.slice(0, -'/secret.json'.length), generation: record.generation, createdAt: new Date(record.createdAt), rotationRequested: record.rotationRequested === true };
    });
}
