/**
 * Content that is written later (a node's files, a Secret's data) and may hold private material: keys and
 * tokens are named by their place in the state, never copied, so a plan can be stored and reviewed safely
 * and rendered only where the material is allowed to go.
 */
import * as crypto from 'node:crypto';
import { parseToken, tokenAuthFileLine } from '../bootstrap/token';
import { privateKeyToTraditionalPem, publicKeyToPem } from '../engine/keys';
import { KubeconfigContent, KubeconfigTarget, renderKubeconfig } from './kubeconfig';
import { KeyReference, PkiState } from '../state/pki-state';

export type PlannedContent =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'private-key'; readonly key: KeyReference }
  /** The public half of `key`, then of each `alsoTrusted` key (a key pair in rotation: sa.pub lists both). */
  | { readonly kind: 'public-key'; readonly key: KeyReference; readonly alsoTrusted?: readonly KeyReference[] }
  | { readonly kind: 'kubeconfig'; readonly kubeconfig: Omit<KubeconfigContent, 'privateKeyPem'>; readonly key: KeyReference }
  /** A bootstrap token kubeconfig; the token is named by its state slot, like a key. */
  | { readonly kind: 'token-kubeconfig'; readonly kubeconfig: KubeconfigTarget; readonly tokenSlot: string }
  /** One line of the legacy --token-auth-file for a token of the state. */
  | { readonly kind: 'token-auth-file'; readonly tokenSlot: string; readonly user: string; readonly uid: string; readonly groups: string[] }
  /** The secret half of a bootstrap token of the state (the Secret's token-secret). */
  | { readonly kind: 'token-secret'; readonly tokenSlot: string };

/** The bytes of `content`, read from the state; a missing key or token is a StateError (synth first). */
export function renderContent(state: PkiState, content: PlannedContent): string {
  const key = (reference: KeyReference) => state.privateKey(reference.slot, reference.generation);
  switch (content.kind) {
    case 'text':
      return content.text;
    case 'private-key':
      return privateKeyToTraditionalPem(key(content.key));
    case 'public-key':
      return [content.key, ...(content.alsoTrusted ?? [])].map((k) => publicKeyToPem(crypto.createPublicKey(key(k)))).join('');
    case 'kubeconfig':
      return renderKubeconfig({ ...content.kubeconfig, privateKeyPem: privateKeyToTraditionalPem(key(content.key)) });
    case 'token-kubeconfig':
      return renderKubeconfig({ ...content.kubeconfig, token: state.secret(content.tokenSlot) });
    case 'token-auth-file':
      return `${tokenAuthFileLine(state.secret(content.tokenSlot), content.user, content.uid, content.groups)}\n`;
    case 'token-secret':
      return parseToken(state.secret(content.tokenSlot)).secret;
  }
}
