import * as crypto from 'node:crypto';
import { Construct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { DEFAULT_KEY_ALGORITHM, KeyAlgorithm, publicKeyToPem } from '../src/engine/keys';
import { KeyReference, PkiState } from '../src/state/pki-state';
import { pkiStateOf, slotOf } from './state';

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
}

/**
 * The key pair kube-apiserver signs service-account tokens with (pki/sa.key) and verifies them with
 * (pki/sa.pub); no certificate. The private key stays in the state.
 */
export class ServiceAccountKey extends Construct {
  /** PKIX `PUBLIC KEY` PEM: what sa.pub holds. */
  readonly publicKeyPem: string;
  readonly keyReference: KeyReference;

  constructor(scope: Construct, id: string, props: ServiceAccountKeyProps = {}) {
    super(scope, id);
    const state = props.state ?? pkiStateOf(this);
    const slot = props.stateSlot ?? slotOf(this);
    const key = locateErrors(this.node.path, () => {
      if (props.keyAlgorithm === 'ed25519') throw new SpecError('keyAlgorithm', 'kube-apiserver reads RSA and ECDSA service-account keys only');
      return state.ensureKey(slot, props.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
    });
    this.publicKeyPem = publicKeyToPem(crypto.createPublicKey(key.privateKey));
    this.keyReference = { slot, generation: key.generation };
  }
}
