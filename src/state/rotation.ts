/**
 * CA (and bare key) rotation in phases, as the rotation policy decides them. A slot's `certificate.json` (or
 * `key.json`) always holds the one that signs, so the reissue policy keeps, renews and re-issues it as before;
 * `rotation.json` holds the other one while both are trusted, the archive, and every transition. Promoting the
 * new CA is a swap of the two records, and a rollback the swap back, so a rolled-back phase's trust bundles are
 * byte for byte the earlier ones. Key files are never removed: an archived CA's key stays in the slot.
 */
import * as crypto from 'node:crypto';
import { SpecError } from '../engine/errors';
import { KeyAlgorithm, publicKeyToPem } from '../engine/keys';
import { validateCertificateSpec } from '../engine/spec';
import { Certificate } from '../engine/x509';
import { checkKeyAlgorithm, Credential, CredentialRequest, ensureCertificate, issueRecord, orphanMatches, readCertificateRecord, SlotDecision } from './certificates';
import { checkSlot, StateContext } from './context';
import { drawKey, ensureBareKey, keyGenerations, publicKeySha256, readKeyFile, readRotationRecord, StoredKey, unrecordedKey } from './keys';
import { CertificateRecord, certificateRecordName, certificatesOf, KeyRecord, keyRecordName, parseRecord, RotationRecord, rotationRecordName, serializeRecord } from './records';
import { CaRotation, decideRotation, RotationPhase, ShownPhase } from './rotation-policy';

/** What one synth did with a rotating slot, for `plan`, the synth summary and PKI.md. */
export interface RotationDecision {
  /** The CA's (or key's) state slot. */
  readonly slot: string;
  /** A CA, or a bare key pair (the service-account key). */
  readonly kind: 'certificate-authority' | 'key';
  /** The rotation declared, or the one the state last recorded. */
  readonly id: string;
  /** The phase the state recorded. */
  readonly from: ShownPhase;
  /** The phase this synth leaves it in. */
  readonly to: ShownPhase;
  /** `start`: trust-both begins; `advance`: the next phase; `rollback`: one phase back; `keep`: as recorded. */
  readonly action: 'keep' | 'start' | 'advance' | 'rollback';
}

/** A CA as a rotation phase makes it: the one that signs, and every one verifiers trust (the signing one first). */
export interface RotatingCredential {
  readonly signer: Credential;
  readonly trusted: readonly { readonly certificate: Certificate; readonly chain: Certificate[] }[];
  /** The phase in progress, or drop-old once a rotation finished; absent when the slot never rotated or rolled back. */
  readonly phase?: RotationPhase;
}

/** A bare key pair as a rotation phase makes it: the signing key, and every public key verifiers accept (signing first). */
export interface RotatingKey {
  readonly signing: StoredKey;
  readonly verifying: readonly { readonly publicKeyPem: string; readonly generation: number }[];
  readonly phase?: RotationPhase;
}

/** How rotation reads and makes the two kinds of material; the transitions are the same for both. */
interface Material<S> {
  readonly kind: 'certificate' | 'key';
  /** certificate.json or key.json: the signing one's record. */
  readonly recordName: string;
  /** That record as this synth sees it (staged changes included). */
  readCurrent(): CertificateRecord | KeyRecord | undefined;
  /** The signing one, through its normal policy; `keyAlgorithm` is the recorded one while the old one signs. */
  ensureSigner(keyAlgorithm: KeyAlgorithm | undefined): S;
  /** A new key (or the one a killed synth drew for this) and its record, beside the current one. */
  makeIncoming(id: string): CertificateRecord | KeyRecord;
}

type Sides = Pick<RotationRecord, 'outgoing' | 'incoming'>;
const signingSide = (phase: 'trust-both' | 'issue-from-new') => (phase === 'trust-both' ? 'outgoing' : 'incoming');
const standbySide = (phase: 'trust-both' | 'issue-from-new') => (phase === 'trust-both' ? 'incoming' : 'outgoing');
const sameRecord = (a: object | undefined, b: object | undefined) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The rotation decision for `slot` carried out: records staged, with the signer and the standby (trusted, not
 * signing). rotation.json decides which one signs; certificate.json (key.json) that disagrees was left so by a
 * commit killed between the two files, and is completed from rotation.json before anything else.
 */
function rotate<S>(ctx: StateContext, slot: string, declared: CaRotation | undefined, material: Material<S>): { signer: S; standby?: CertificateRecord | KeyRecord; phase?: RotationPhase; decision?: RotationDecision } {
  const rotation = readRotationRecord(ctx, slot);
  const decision = decideRotation(declared, rotation && { id: rotation.id, phase: rotation.phase });
  if (decision.action === 'refuse') throw new SpecError('rotation.phase', decision.reason);
  const stageRecord = (record: CertificateRecord | KeyRecord, reasons: string[]) =>
    ctx.txn.stage(slot, material.recordName, serializeRecord(material.kind, record as never, ctx.txn.store.locate(material.recordName)), false, reasons);
  const progressing = rotation && (rotation.phase === 'trust-both' || rotation.phase === 'issue-from-new') ? rotation.phase : undefined;
  if (progressing) {
    const signing = rotation![signingSide(progressing)]!;
    if (material.readCurrent()?.keyGeneration !== signing.keyGeneration) stageRecord(signing, ['completing a rotation commit that was interrupted']);
  }
  const current = material.readCurrent();
  if (!current && decision.action !== 'keep') throw new SpecError('rotation.phase', `"${slot}" is not in the state yet, so there is nothing to rotate; synthesize it once without a rotation`);
  const id = declared?.id ?? rotation?.id;
  const journal = id === undefined ? undefined : ({ slot, kind: material.kind === 'certificate' ? 'certificate-authority' : 'key', id, from: decision.from, to: decision.to, action: decision.action } as const);

  const at = ctx.now().toISOString();
  const moved = decision.action !== 'keep';
  const reason = moved ? `rotation "${id}": ${decision.from} → ${decision.to}${decision.action === 'rollback' ? ' (rollback)' : ''}` : `rotation "${id}": the signing record renewed`;
  const stageRotation = (phase: RotationRecord['phase'], sides: Sides, archived = rotation?.archived ?? []) => {
    const record: RotationRecord = {
      version: 1,
      kind: material.kind,
      id: id!,
      phase,
      ...sides,
      archived,
      history: [...(rotation?.history ?? []), ...(moved ? [{ rotation: id!, from: decision.from, to: decision.to, at }] : [])],
    };
    const name = rotationRecordName(slot);
    ctx.txn.stage(slot, name, serializeRecord('rotation', record, ctx.txn.store.locate(name)), false, [reason]);
  };
  const archive = (record: CertificateRecord | KeyRecord, why: 'dropped' | 'rolled back') => [...(rotation?.archived ?? []), { rotation: id!, why, at, record }];
  const after = decision.to === 'none' ? undefined : decision.to;

  switch (`${decision.action}:${decision.to}`) {
    case 'keep:trust-both':
    case 'keep:issue-from-new': {
      const phase = progressing!;
      const signer = material.ensureSigner(phase === 'trust-both' ? current!.keyAlgorithm : undefined);
      // A renewal of the signing one in this synth is copied, so that rotation.json never holds a stale one.
      const renewed = material.readCurrent()!;
      if (!sameRecord(renewed, rotation![signingSide(phase)])) stageRotation(phase, { outgoing: rotation!.outgoing, incoming: rotation!.incoming, [signingSide(phase)]: renewed });
      return { signer, standby: rotation![standbySide(phase)], phase, decision: journal };
    }
    case 'keep:none':
      return { signer: material.ensureSigner(undefined), ...(rotation?.phase === 'drop-old' ? { phase: 'drop-old' } : {}), decision: journal };
    case 'start:trust-both': {
      const signer = material.ensureSigner(current!.keyAlgorithm);
      const incoming = material.makeIncoming(id!);
      stageRotation('trust-both', { outgoing: material.readCurrent(), incoming });
      return { signer, standby: incoming, phase: after, decision: journal };
    }
    case 'advance:issue-from-new': {
      stageRecord(rotation!.incoming!, [reason]);
      const signer = material.ensureSigner(undefined);
      stageRotation('issue-from-new', { outgoing: current, incoming: material.readCurrent() });
      return { signer, standby: current, phase: after, decision: journal };
    }
    case 'rollback:trust-both': {
      stageRecord(rotation!.outgoing!, [reason]);
      const signer = material.ensureSigner(rotation!.outgoing!.keyAlgorithm);
      stageRotation('trust-both', { outgoing: material.readCurrent(), incoming: current });
      return { signer, standby: current, phase: after, decision: journal };
    }
    case 'advance:drop-old': {
      const signer = material.ensureSigner(undefined);
      stageRotation('drop-old', {}, archive(rotation!.outgoing!, 'dropped'));
      return { signer, phase: after, decision: journal };
    }
    case 'rollback:none': {
      const signer = material.ensureSigner(undefined);
      stageRotation('rolled-back', {}, archive(rotation!.incoming!, 'rolled back'));
      return { signer, decision: journal };
    }
    default:
      throw new Error(`no rotation step ${decision.action} → ${decision.to}`);
  }
}

/** A slot's rotations as the state records them, for `cdk8s-pki list` and reports. */
export interface RotationInventoryEntry {
  readonly slot: string;
  readonly kind: 'certificate-authority' | 'key';
  /** The last rotation's id. */
  readonly id: string;
  readonly phase: RotationPhase | 'rolled-back';
  /** While one is in progress: the CA (or key) trusted beside the signing one, and which side it is. */
  readonly standby?: { readonly role: 'incoming' | 'outgoing'; readonly keyGeneration: number; readonly certificate?: Certificate };
  /** CAs (or keys) archived by drop-old or a rollback; their key files stay in the slot. */
  readonly archived: readonly { readonly rotation: string; readonly why: 'dropped' | 'rolled back'; readonly at: Date; readonly keyGeneration: number; readonly certificate?: Certificate }[];
}

/** Every slot with a rotation record. */
export function rotationInventory(ctx: StateContext): RotationInventoryEntry[] {
  return ctx.txn
    .names()
    .filter((name) => name.endsWith('/rotation.json'))
    .map((name) => {
      const slot = name.slice(0, -'/rotation.json'.length);
      const record = readRotationRecord(ctx, slot)!;
      const certificate = (r: CertificateRecord | KeyRecord) => (record.kind === 'certificate' ? { certificate: certificatesOf(r as CertificateRecord).certificate } : {});
      const progressing = record.phase === 'trust-both' || record.phase === 'issue-from-new' ? record.phase : undefined;
      const standby = progressing && record[standbySide(progressing)];
      return {
        slot,
        kind: record.kind === 'certificate' ? 'certificate-authority' : 'key',
        id: record.id,
        phase: record.phase,
        ...(standby ? { standby: { role: standbySide(progressing!), keyGeneration: standby.keyGeneration, ...certificate(standby) } } : {}),
        archived: record.archived.map((a) => ({ rotation: a.rotation, why: a.why, at: new Date(a.at), keyGeneration: a.record.keyGeneration, ...certificate(a.record) })),
      };
    });
}

/** The key for a new CA or key generation: one a killed synth drew for it (commit journal), else a new one. */
function incomingKey(ctx: StateContext, slot: string, recordedGeneration: number, keyAlgorithm: KeyAlgorithm, referrer: string): StoredKey {
  const orphan = unrecordedKey(ctx, slot, recordedGeneration, referrer);
  return orphan && orphanMatches(orphan, keyAlgorithm) ? orphan : drawKey(ctx, slot, keyAlgorithm, (keyGenerations(ctx, slot).pop() ?? 0) + 1);
}

/**
 * The CA of `request` in the phase `declared` asks for (undefined: no rotation, or a rollback from trust-both).
 * The incoming CA has the same spec and subject as the one it replaces, and a new key of `request.keyAlgorithm`.
 */
export function ensureRotatingCertificate(
  ctx: StateContext,
  request: CredentialRequest,
  declared: CaRotation | undefined,
  cached: Credential | undefined,
): { rotating: RotatingCredential; decisions: SlotDecision[]; rotation?: RotationDecision } {
  checkSlot(request.slot);
  checkKeyAlgorithm(request.keyAlgorithm);
  const slot = request.slot;
  const decisions: SlotDecision[] = [];
  const recordFile = ctx.txn.store.locate(certificateRecordName(slot));
  const result = rotate(ctx, slot, declared, {
    kind: 'certificate',
    recordName: certificateRecordName(slot),
    readCurrent: () => readCertificateRecord(ctx, slot),
    ensureSigner: (keyAlgorithm) => {
      const ensured = ensureCertificate(ctx, { ...request, keyAlgorithm: keyAlgorithm ?? request.keyAlgorithm }, cached);
      decisions.push(ensured.decision);
      return ensured.credential;
    },
    makeIncoming: (id) => {
      const spec = validateCertificateSpec(request.spec);
      const key = incomingKey(ctx, slot, readCertificateRecord(ctx, slot)!.keyGeneration, request.keyAlgorithm, recordFile);
      const issuer = request.issuer?.certificate.fingerprintSha256 ?? 'self';
      const policyRequest = { slot, spec, keyAlgorithm: request.keyAlgorithm, issuer, renewBeforeSeconds: request.renewBeforeSeconds, keyPolicy: request.keyPolicy };
      return issueRecord(ctx, policyRequest, key, request.issuer, [`rotation "${id}": new CA (key generation ${key.generation})`]).record;
    },
  });
  const signer = result.signer;
  const standby = result.standby && certificatesOf(result.standby as CertificateRecord);
  const trusted = [{ certificate: signer.certificate, chain: signer.chain }, ...(standby ? [standby] : [])];
  return { rotating: { signer, trusted, ...(result.phase ? { phase: result.phase } : {}) }, decisions, rotation: result.decision };
}

/** The bare key pair of `slot` in the phase `declared` asks for; the incoming key is of `keyAlgorithm`. */
export function ensureRotatingKey(ctx: StateContext, slot: string, keyAlgorithm: KeyAlgorithm, declared: CaRotation | undefined): { rotating: RotatingKey; decisions: SlotDecision[]; rotation?: RotationDecision } {
  checkSlot(slot);
  const decisions: SlotDecision[] = [];
  const recordName = keyRecordName(slot);
  const recordFile = ctx.txn.store.locate(recordName);
  const readCurrent = () => {
    const data = ctx.txn.read(recordName);
    return data && parseRecord('key', data, recordFile);
  };
  const result = rotate(ctx, slot, declared, {
    kind: 'key',
    recordName,
    readCurrent,
    ensureSigner: (recorded) => {
      const ensured = ensureBareKey(ctx, slot, recorded ?? keyAlgorithm);
      decisions.push(ensured.decision);
      return ensured.key;
    },
    makeIncoming: () => {
      const key = incomingKey(ctx, slot, readCurrent()!.keyGeneration, keyAlgorithm, recordFile);
      ctx.progress.step();
      return { version: 1, keyAlgorithm, keyGeneration: key.generation, publicKeySha256: publicKeySha256(key.privateKey), createdAt: ctx.now().toISOString(), ...(ctx.entropy.seeded ? { seeded: true } : {}) };
    },
  });
  const publicPem = (key: crypto.KeyObject) => publicKeyToPem(crypto.createPublicKey(key));
  const verifying = [{ publicKeyPem: publicPem(result.signer.privateKey), generation: result.signer.generation }];
  if (result.standby) {
    const standby = readKeyFile(ctx, slot, result.standby.keyGeneration, ctx.txn.store.locate(rotationRecordName(slot)));
    verifying.push({ publicKeyPem: publicPem(standby.privateKey), generation: standby.generation });
  }
  return { rotating: { signing: result.signer, verifying, ...(result.phase ? { phase: result.phase } : {}) }, decisions, rotation: result.decision };
}
