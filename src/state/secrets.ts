/** Secret strings in the state (bootstrap tokens): `<slot>/secret.json`, made once, changed on request or when due. */
import { StateError } from '../engine/errors';
import { checkSlot, StateContext } from './context';
import { parseRecord, SecretRecord, secretRecordName, serializeRecord } from './records';

/** What a call did to a secret slot when it staged a new value: issued it, renewed it (window), or rotated it (asked). */
/** `reissue`: the value is kept and only its recorded expiration changes (the ttl changed). */
export interface SecretChange {
  readonly action: 'issue' | 'reissue' | 'renew' | 'rotate';
  readonly reasons: string[];
}

/** A secret string kept in the state (a bootstrap token): made once, changed only on request or when due. */
export interface StoredSecret {
  readonly value: string;
  readonly generation: number;
  /** When this generation was made (or first given): a TTL counts from here, so synths do not move it. */
  readonly createdAt: Date;
  /** When the value stops being accepted (recorded in the state); undefined: never. */
  readonly expiresAt?: Date;
  /** Set when this call staged a new value, and why. */
  readonly change?: SecretChange;
}

/**
 * How long a value lasts: `ttlSeconds` from when it was made, renewed (a new value, the next generation) once
 * less than `renewBeforeSeconds` remains; or a `fixed` expiration, never renewed (the user chose the date).
 */
export type SecretExpiry = { readonly ttlSeconds: number; readonly renewBeforeSeconds: number } | { readonly fixed: Date };

export interface SecretRequest {
  /** The user's own value: kept as given, so never renewed. */
  readonly given?: string;
  readonly generate: (randomBytes: (count: number) => Buffer) => string;
  /** @default - never expires */
  readonly expiry?: SecretExpiry;
}

export function readSecretRecord(ctx: StateContext, slot: string): SecretRecord | undefined {
  const name = secretRecordName(slot);
  const data = ctx.txn.read(name);
  return data && parseRecord('secret', data, ctx.txn.store.locate(name));
}

function expirationOf(expiry: SecretExpiry | undefined, createdAt: Date): Date | undefined {
  if (!expiry) return undefined;
  return 'fixed' in expiry ? expiry.fixed : new Date(createdAt.getTime() + expiry.ttlSeconds * 1000);
}

/** The reason a generated value with a TTL is due for renewal at `now` (the window's edge included), if it is. */
function renewalDue(record: SecretRecord, expiry: SecretExpiry | undefined, now: Date): string | undefined {
  if (record.given || !expiry || 'fixed' in expiry) return undefined;
  const expiresAt = expirationOf(expiry, new Date(record.createdAt))!;
  if (now.getTime() < expiresAt.getTime() - expiry.renewBeforeSeconds * 1000) return undefined;
  return `renewal due (expires ${expiresAt.toISOString()})`; // as a certificate's renewal reason reads
}

/**
 * The secret of `slot`: `given` when the user supplies it, else the stored one, else a new one from
 * `generate` (fed by the state's entropy). A new value is made only when none is stored, the given one
 * changed, a rotation was requested, or the renewal window of `expiry` opened. The expiration is recorded,
 * so commands read it without the app; a changed expiration alone restages the record, keeping the value.
 */
export function ensureSecret(ctx: StateContext, slot: string, options: SecretRequest): StoredSecret {
  checkSlot(slot);
  const record = readSecretRecord(ctx, slot);
  const name = secretRecordName(slot);
  const file = ctx.txn.store.locate(name);
  const renewal = record && renewalDue(record, options.expiry, ctx.now());
  const keep = record && !record.rotationRequested && !renewal && (options.given === undefined ? true : record.given && record.value === options.given);
  if (record && keep) {
    const createdAt = new Date(record.createdAt);
    const expiresAt = expirationOf(options.expiry, createdAt);
    const recorded = expiresAt?.toISOString();
    if (record.expiresAt !== recorded) {
      const { expiresAt: _previous, ...unchanged } = record;
      const reason = `expiration ${record.expiresAt ?? 'unrecorded'} → ${recorded ?? 'never'}`;
      ctx.txn.stage(slot, name, serializeRecord('secret', { ...unchanged, ...(recorded ? { expiresAt: recorded } : {}) }, file), false, [reason]);
      return { value: record.value, generation: record.generation, createdAt, expiresAt, change: { action: 'reissue', reasons: [reason] } };
    }
    return { value: record.value, generation: record.generation, createdAt, expiresAt };
  }
  const generation = (record?.generation ?? 0) + 1;
  let draw = 0;
  const value = options.given ?? options.generate((count) => ctx.entropy.bytes(`${slot}#${generation}.${draw++}`, count));
  const createdAt = ctx.now();
  const expiresAt = expirationOf(options.expiry, createdAt);
  const updated: SecretRecord = {
    version: 1,
    value,
    generation,
    createdAt: createdAt.toISOString(),
    ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
    given: options.given !== undefined,
    ...(ctx.entropy.seeded ? { seeded: true } : {}),
  };
  const change: SecretChange = !record
    ? { action: 'issue', reasons: ['new secret'] }
    : record.rotationRequested
      ? { action: 'rotate', reasons: ['rotation requested'] }
      : renewal
        ? { action: 'renew', reasons: [renewal] }
        : { action: 'rotate', reasons: ['given value changed'] };
  ctx.txn.stage(slot, name, serializeRecord('secret', updated, file), false, change.reasons);
  return { value, generation, createdAt, expiresAt, change };
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

/** A secret of the state without its value, for `cdk8s-pki list` and the expiration checks. */
export interface SecretInventoryEntry {
  readonly slot: string;
  readonly generation: number;
  readonly createdAt: Date;
  /** Undefined: never expires, or recorded before expirations were. */
  readonly expiresAt?: Date;
  readonly rotationRequested: boolean;
}

/** Every secret, without its value. */
export function secretInventory(ctx: StateContext): SecretInventoryEntry[] {
  return ctx.txn
    .names()
    .filter((name) => name.endsWith('/secret.json'))
    .map((name) => {
      const record = readSecretRecord(ctx, name.slice(0, -'/secret.json'.length))!;
      return {
        slot: name.slice(0, -'/secret.json'.length),
        generation: record.generation,
        createdAt: new Date(record.createdAt),
        ...(record.expiresAt ? { expiresAt: new Date(record.expiresAt) } : {}),
        rotationRequested: record.rotationRequested === true,
      };
    });
}
