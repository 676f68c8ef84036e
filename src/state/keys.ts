/**
 * Private keys in the state: `<slot>/key-<generation>.pem` (PKCS#8), created once and never replaced. A bare
 * key (no certificate: the service-account key, a CSR's key) has a record of its own, `<slot>/key.json`, so a
 * deleted or replaced key file is noticed instead of silently regenerated.
 */
import * as crypto from 'node:crypto';
import { SpecError, StateError } from '../engine/errors';
import { KeyAlgorithm, keyAlgorithmOf, privateKeyToPem, spkiDer } from '../engine/keys';
import { sha256Hex } from '../engine/pem';
import type { SlotDecision } from './certificates';
import { checkSlot, StateContext } from './context';
import { checkRecord, keyFileName, keyGenerationOf, KeyRecord, keyRecordName, parseRecord, RotationRecord, rotationRecordName, serializeRecord } from './records';

export interface StoredKey {
  readonly privateKey: crypto.KeyObject;
  readonly generation: number;
}

/** The key generations of `slot` on disk or staged, ascending. */
export function keyGenerations(ctx: StateContext, slot: string): number[] {
  return [...ctx.txn.namesIn(slot)]
    .map((name) => keyGenerationOf(slot, `${slot}/${name}`))
    .filter((g): g is number => g !== undefined)
    .sort((a, b) => a - b);
}

/** The key of `slot` at `generation`; `referrer` is the record that names it, for the message when it is missing. */
export function readKeyFile(ctx: StateContext, slot: string, generation: number, referrer: string): StoredKey {
  const name = keyFileName(slot, generation);
  const file = ctx.txn.store.locate(name);
  const data = ctx.txn.read(name);
  if (!data) throw new StateError(`${file} is missing but ${referrer} refers to it; restore it from a backup (a new key would silently replace the old one)`);
  try {
    return { privateKey: crypto.createPrivateKey(data), generation };
  } catch {
    throw new StateError(`${file} is not a readable private key; restore it from a backup`);
  }
}

/** Draws generation `generation` of `slot` from the state's entropy and stages it. */
export function drawKey(ctx: StateContext, slot: string, algorithm: KeyAlgorithm, generation: number): StoredKey {
  const privateKey = ctx.entropy.key(`${slot}#${generation}`, algorithm);
  ctx.txn.stage(slot, keyFileName(slot, generation), Buffer.from(privateKeyToPem(privateKey)), true, [`new ${algorithm} key`]);
  return { privateKey, generation };
}

/**
 * The newest key file above `recorded` that an unfinished commit wrote (a synth killed between a key and its
 * record), to adopt rather than orphan. A newer key file no commit journal names was not written by a synth:
 * that stops synth rather than being silently used or skipped.
 */
export function unrecordedKey(ctx: StateContext, slot: string, recorded: number, referrer: string): StoredKey | undefined {
  const above = keyGenerations(ctx, slot).filter((g) => g > recorded);
  // Only a slot with newer key files reads its rotation record: the standby CA's key is recorded there.
  const rotating = above.length > 0 ? rotationGenerations(ctx, slot) : [];
  const newer = above.filter((g) => !rotating.includes(g));
  if (newer.length === 0) return undefined;
  const latest = newer[newer.length - 1];
  const name = keyFileName(slot, latest);
  if (!ctx.txn.writtenByUnfinishedCommit(name)) {
    throw new StateError(
      `${ctx.txn.store.locate(name)} has no record (${referrer} ${recorded === 0 ? 'is missing' : `names generation ${recorded}`}); restore the record from a backup, or remove the key file deliberately — synth never guesses which key is meant`,
    );
  }
  return readKeyFile(ctx, slot, latest, referrer);
}

/** The rotation record of `slot`, schema-checked (its embedded records too); undefined when it never rotated. */
export function readRotationRecord(ctx: StateContext, slot: string): RotationRecord | undefined {
  const name = rotationRecordName(slot);
  const data = ctx.txn.read(name);
  if (!data) return undefined;
  const file = ctx.txn.store.locate(name);
  const record = parseRecord('rotation', data, file);
  [record.outgoing, record.incoming, ...record.archived.map((a) => a.record)].forEach((embedded) => embedded && checkRecord(record.kind, embedded, file));
  return record;
}

/** Key generations a rotation record names (both sides of one in progress, the archived ones): recorded, though not in certificate.json or key.json. */
function rotationGenerations(ctx: StateContext, slot: string): number[] {
  const record = readRotationRecord(ctx, slot);
  return record ? [record.outgoing, record.incoming, ...record.archived.map((a) => a.record)].flatMap((r) => (r ? [r.keyGeneration] : [])) : [];
}

export const publicKeySha256 = (key: crypto.KeyObject) => sha256Hex(spkiDer(key));

/**
 * The bare key pair of `slot`, generated once. A different algorithm is refused, because replacing the key
 * invalidates everything it signed; a requested rotation gives the next generation (the old file is kept).
 * With what was done, for the plan.
 */
export function ensureBareKey(ctx: StateContext, slot: string, keyAlgorithm: KeyAlgorithm): { key: StoredKey; decision: SlotDecision } {
  checkSlot(slot);
  const recordName = keyRecordName(slot);
  const recordFile = ctx.txn.store.locate(recordName);
  const data = ctx.txn.read(recordName);
  const record = data && parseRecord('key', data, recordFile);
  let key: StoredKey;
  let reason: string | undefined;
  let action: SlotDecision['action'] = 'keep';
  if (record && !record.rotationRequested) {
    key = readKeyFile(ctx, slot, record.keyGeneration, recordFile);
    if (publicKeySha256(key.privateKey) !== record.publicKeySha256) {
      throw new StateError(`${ctx.txn.store.locate(keyFileName(slot, key.generation))} is not the key ${recordFile} records (replaced?); restore it from a backup`);
    }
    // No rotation was asked for: a newer key file that no killed commit wrote stops synth here.
    unrecordedKey(ctx, slot, record.keyGeneration, recordFile);
  } else {
    const adopted = record ? unrecordedKey(ctx, slot, record.keyGeneration, recordFile) : latestUnrecorded(ctx, slot);
    key = adopted ?? drawKey(ctx, slot, keyAlgorithm, (keyGenerations(ctx, slot).pop() ?? 0) + 1);
    ctx.progress.step();
    reason = record ? 'key rotation requested' : adopted ? 'record of an existing key' : 'new key';
    action = record ? 'rotate' : 'issue';
  }
  const stored = keyAlgorithmOf(key.privateKey);
  if (stored !== keyAlgorithm) {
    throw new SpecError('keyAlgorithm', `the key in ${ctx.txn.store.locate(keyFileName(slot, key.generation))} is ${stored}; replacing it with ${keyAlgorithm} would invalidate everything it signed, so it is kept: set keyAlgorithm to ${stored}`);
  }
  if (reason) {
    const updated: KeyRecord = {
      version: 1,
      keyAlgorithm: stored,
      keyGeneration: key.generation,
      publicKeySha256: publicKeySha256(key.privateKey),
      createdAt: ctx.now().toISOString(),
      ...(ctx.entropy.seeded ? { seeded: true } : {}),
    };
    ctx.txn.stage(slot, recordName, serializeRecord('key', updated, recordFile), false, [reason]);
  }
  return { key, decision: { slot, kind: 'key', action, reasons: reason ? [reason] : [] } };
}

/**
 * With no record: the newest key file, whether a killed synth wrote it or a version that kept no record of
 * bare keys did. Either way it is the key in use, so it is recorded as it is.
 */
function latestUnrecorded(ctx: StateContext, slot: string): StoredKey | undefined {
  const latest = keyGenerations(ctx, slot).pop();
  return latest === undefined ? undefined : readKeyFile(ctx, slot, latest, 'nothing (no key.json yet)');
}

/** Marks a bare key for rotation at the next synth; false when `slot` holds no bare key. */
export function requestBareKeyRotation(ctx: StateContext, slot: string): boolean {
  const recordName = keyRecordName(slot);
  const recordFile = ctx.txn.store.locate(recordName);
  const data = ctx.txn.read(recordName);
  if (!data) return false;
  const record = parseRecord('key', data, recordFile);
  ctx.txn.stage(slot, recordName, serializeRecord('key', { ...record, rotationRequested: true }, recordFile), false, ['key rotation requested']);
  return true;
}

/** Every bare key, for `cdk8s-pki list`. */
export function bareKeyInventory(ctx: StateContext): { slot: string; keyAlgorithm: KeyAlgorithm; keyGeneration: number; createdAt: Date; rotationRequested: boolean }[] {
  return ctx.txn
    .names()
    .filter((name) => name.endsWith('/key.json'))
    .map((name) => {
      const slot = name.slice(0, -'/key.json'.length);
      const record = parseRecord('key', ctx.txn.read(name)!, ctx.txn.store.locate(name));
      return { slot, keyAlgorithm: record.keyAlgorithm, keyGeneration: record.keyGeneration, createdAt: new Date(record.createdAt), rotationRequested: record.rotationRequested === true };
    });
}
