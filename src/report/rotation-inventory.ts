/**
 * The rotation records of a state, for `cdk8s-pki list`: per rotating slot its phase, the key generation that
 * signs and the one trusted beside it, and the archived CAs and keys (whose key files stay in the slot). Read
 * with the records' schema check, as every read of the state.
 */
import * as path from 'node:path';
import { rfc3339Utc } from '../engine/time';
import { PkiState, RotationPhase } from '../state/pki-state';
import { CertificateRecord, certificateRecordName, certificatesOf, KeyRecord, keyFileName, keyRecordName, parseRecord } from '../state/records';

/** A CA certificate or bare key a rotation record names. */
export interface RotationMaterial {
  readonly keyGeneration: number;
  /** The key file's name in the state (`<slot>/key-<n>.pem`), kept whatever the phase. */
  readonly keyFile: string;
  /** RFC 3339, of a CA certificate. @default - absent for a bare key */
  readonly notAfter?: string;
}

export interface RotationInventoryEntry {
  readonly slot: string;
  readonly kind: 'certificate-authority' | 'key';
  /** The last rotation's id. */
  readonly id: string;
  /** `rolled-back`: the last rotation was rolled back from trust-both; none is in progress. */
  readonly phase: RotationPhase | 'rolled-back';
  /** The CA certificate or key that signs now. */
  readonly signing: RotationMaterial;
  /** The one trusted beside it (trust-both, issue-from-new). @default - none */
  readonly trustedBeside?: RotationMaterial;
  /** The CAs or keys a drop-old or a rollback set aside, in order. */
  readonly archived: (RotationMaterial & { readonly rotation: string; readonly why: 'dropped' | 'rolled back'; readonly at: string })[];
}

const ROTATION_RECORD = '/rotation.json';

function material(slot: string, record: CertificateRecord | KeyRecord): RotationMaterial {
  const notAfter = 'certificate' in record ? { notAfter: rfc3339Utc(certificatesOf(record).certificate.notAfter) } : {};
  return { keyGeneration: record.keyGeneration, keyFile: keyFileName(slot, record.keyGeneration), ...notAfter };
}

/** Every slot of `state` with a rotation record, by slot. */
export function rotationInventory(state: PkiState): RotationInventoryEntry[] {
  const store = state.store;
  const read = <K extends 'rotation' | 'certificate' | 'key'>(kind: K, name: string) => {
    const data = store.read(name);
    return data && parseRecord(kind, data, store.locate(name));
  };
  return store
    .list()
    .filter((name) => name.endsWith(ROTATION_RECORD))
    .map((name) => {
      const slot = name.slice(0, -ROTATION_RECORD.length);
      const rotation = read('rotation', name)!;
      const signing = rotation.kind === 'certificate' ? read('certificate', certificateRecordName(slot)) : read('key', keyRecordName(slot));
      return {
        slot,
        kind: rotation.kind === 'certificate' ? 'certificate-authority' : 'key',
        id: rotation.id,
        phase: rotation.phase,
        signing: material(slot, signing!),
        ...(rotation.standby ? { trustedBeside: material(slot, rotation.standby) } : {}),
        archived: rotation.archived.map((a) => ({ ...material(slot, a.record), rotation: a.rotation, why: a.why, at: a.at })),
      };
    });
}

/** `list`'s lines: `rotation <slot>: 2027 trust-both; signing #1, trusted beside it #2 …`, then `archived <slot>: #1 …`. */
export function rotationLines(entries: RotationInventoryEntry[]): string[] {
  const until = (m: RotationMaterial) => (m.notAfter ? ` (until ${m.notAfter.slice(0, 10)})` : '');
  const phase = (e: RotationInventoryEntry) => (e.phase === 'rolled-back' ? 'rolled back' : e.phase === 'drop-old' ? 'drop-old (finished)' : e.phase);
  return [
    ...entries.map((e) => `rotation ${e.slot}: ${e.id} ${phase(e)}; signing #${e.signing.keyGeneration}${e.trustedBeside ? `, trusted beside it #${e.trustedBeside.keyGeneration}${until(e.trustedBeside)}` : ''}`),
    ...entries.flatMap((e) => e.archived.map((a) => `archived ${e.slot}: #${a.keyGeneration}${until(a)}, ${a.why} in rotation ${a.rotation} at ${a.at}; ${path.posix.basename(a.keyFile)} kept`)),
  ];
}
