/**
 * The rotating slots of a state as `cdk8s-pki list` shows them: per slot its phase, the key generation that signs
 * and the one trusted beside it, and the archived CAs and keys (whose key files stay in the slot).
 */
import * as path from 'node:path';
import { rfc3339Utc } from '../engine/time';
import { Certificate } from '../engine/x509';
import { InventoryEntry, PkiState, RotationPhase } from '../state/pki-state';
import { keyFileName } from '../state/records';

/** A CA certificate or bare key a rotation names. */
export interface RotationMaterial {
  readonly keyGeneration: number;
  /** The key file's name in the state (`<slot>/key-<n>.pem`), kept whatever the phase. */
  readonly keyFile: string;
  /** RFC 3339, of a CA certificate. @default - absent for a bare key */
  readonly notAfter?: string;
}

export interface RotationListingEntry {
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

function material(slot: string, keyGeneration: number, certificate?: { readonly notAfter: Date }): RotationMaterial {
  return { keyGeneration, keyFile: keyFileName(slot, keyGeneration), ...(certificate ? { notAfter: rfc3339Utc(certificate.notAfter) } : {}) };
}

/** Every slot of `state` that rotated or is rotating, by slot; `inventory` is the state's, when the caller has read it already. */
export function rotationListing(state: PkiState, inventory?: readonly InventoryEntry[]): RotationListingEntry[] {
  const rotations = state.rotationInventory();
  if (rotations.length === 0) return [];
  const certificates = new Map((inventory ?? state.inventory()).map((e) => [e.slot, e]));
  const keys = new Map(state.keyInventory().map((e) => [e.slot, e]));
  return rotations.map((e) => {
    const signing: RotationMaterial =
      e.kind === 'certificate-authority' ? material(e.slot, certificates.get(e.slot)!.keyGeneration, certificates.get(e.slot)) : material(e.slot, keys.get(e.slot)!.keyGeneration);
    const of = (m: { readonly keyGeneration: number; readonly certificate?: Certificate }) => material(e.slot, m.keyGeneration, m.certificate);
    return {
      slot: e.slot,
      kind: e.kind,
      id: e.id,
      phase: e.phase,
      signing,
      ...(e.standby ? { trustedBeside: of(e.standby) } : {}),
      archived: e.archived.map((a) => ({ ...of(a), rotation: a.rotation, why: a.why, at: rfc3339Utc(a.at) })),
    };
  });
}

/** `list`'s lines: `rotation <slot>: 2027 trust-both; signing #1, trusted beside it #2 …`, then `archived <slot>: #1 …`. */
export function rotationLines(entries: RotationListingEntry[]): string[] {
  const until = (m: RotationMaterial) => (m.notAfter ? ` (until ${m.notAfter.slice(0, 10)})` : '');
  const phase = (e: RotationListingEntry) => (e.phase === 'rolled-back' ? 'rolled back' : e.phase === 'drop-old' ? 'drop-old (finished)' : e.phase);
  return [
    ...entries.map((e) => `rotation ${e.slot}: ${e.id} ${phase(e)}; signing #${e.signing.keyGeneration}${e.trustedBeside ? `, trusted beside it #${e.trustedBeside.keyGeneration}${until(e.trustedBeside)}` : ''}`),
    ...entries.flatMap((e) => e.archived.map((a) => `archived ${e.slot}: #${a.keyGeneration}${until(a)}, ${a.why} in rotation ${a.rotation} at ${a.at}; ${path.posix.basename(a.keyFile)} kept`)),
  ];
}
