import { Construct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { DEFAULT_KEY_ALGORITHM, KeyAlgorithm } from '../src/engine/keys';
import { CaRotation, KeyReference, PkiState, RotationPhase } from '../src/state/pki-state';
import { checkRotation } from '../src/state/rotation-policy';
import { pkiStateOf, slotOf } from './state';

/** The key algorithm and state slot of the service-account key pair. */
export interface ServiceAccountKeyProps {
  /**
   * The key type. Made once and kept: a different value later is refused, because a new key would
   * invalidate every service-account token already issued.
   * @default - "ecdsa-p256" (kubeadm: RSA-2048, its encryptionAlgorithm default)
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** @default - the app's state */
  readonly state?: PkiState;
  /** Changing it makes a new key. @default - derived from the construct path */
  readonly stateSlot?: string;
  /**
   * Rotate the key pair in phases, as a ClusterCA rotates (`ClusterCAProps.rotation`): `trust-both` adds a new
   * key to sa.pub, `issue-from-new` signs with it, `drop-old` leaves only it in sa.pub (declare drop-old once the
   * tokens the old key signed have expired).
   * @default - no rotation
   */
  readonly rotation?: CaRotation;
}

/**
 * The key pair kube-apiserver signs service-account tokens with (pki/sa.key) and verifies them with
 * (pki/sa.pub); no certificate. The private key stays in the state.
 */
export class ServiceAccountKey extends Construct {
  /** PKIX `PUBLIC KEY` PEM of the signing key. */
  readonly publicKeyPem: string;
  /** Every public key tokens are verified with, the signing one first: what sa.pub holds (one outside a rotation). */
  readonly publicKeysPem: string;
  /** The signing key. */
  readonly keyReference: KeyReference;
  /** Every key tokens are verified with, the signing one first (as `publicKeysPem`). */
  readonly verifyingKeyReferences: KeyReference[];
  /** The rotation phase this synth put the key pair in; undefined when it never rotated (or was rolled back). */
  readonly rotationPhase?: RotationPhase;

  constructor(scope: Construct, id: string, props: ServiceAccountKeyProps = {}) {
    super(scope, id);
    const state = props.state ?? pkiStateOf(this);
    const slot = props.stateSlot ?? slotOf(this);
    const key = locateErrors(this.node.path, () => {
      if (props.keyAlgorithm === 'ed25519') throw new SpecError('keyAlgorithm', 'kube-apiserver reads RSA and ECDSA service-account keys only');
      checkRotation(props.rotation, 'rotation');
      return state.ensureRotatingKey(slot, props.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM, props.rotation);
    });
    this.publicKeyPem = key.verifying[0].publicKeyPem;
    this.publicKeysPem = key.verifying.map((k) => k.publicKeyPem).join('');
    this.keyReference = { slot, generation: key.signing.generation };
    this.verifyingKeyReferences = key.verifying.map((k) => ({ slot, generation: k.generation }));
    this.rotationPhase = key.phase;
  }
}
