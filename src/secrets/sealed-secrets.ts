// Sealed Secrets encryption, byte-compatible with kubeseal (bitnami-labs/sealed-secrets pkg/crypto HybridEncrypt)
// so the controller in the cluster can unseal what synth writes. No cdk8s here.
import * as crypto from 'node:crypto';
import { SpecError } from '../engine/errors';

/** Which names the controller will unseal a value under; part of the RSA-OAEP label, so enforced by the cipher. */
export type SealingScope = 'strict' | 'namespace-wide' | 'cluster-wide';

const SESSION_KEY_BYTES = 32; // AES-256
const GCM_NONCE = Buffer.alloc(12); // each session key encrypts one value, so a fixed nonce is safe (as in kubeseal)

/**
 * The controller's public key from the PEM certificate `kubeseal --fetch-cert` prints. Anything but an X.509
 * certificate with an RSA key is refused: the controller's sealing keys are always RSA and it unseals with RSA-OAEP.
 */
export function readControllerCertificate(pem: string, field: string): crypto.KeyObject {
  let certificate: crypto.X509Certificate;
  try {
    certificate = new crypto.X509Certificate(pem);
  } catch (err) {
    throw new SpecError(field, `is not a PEM X.509 certificate (the output of \`kubeseal --fetch-cert\`): ${(err as Error).message}`);
  }
  const keyType = certificate.publicKey.asymmetricKeyType;
  if (keyType !== 'rsa') {
    throw new SpecError(field, `the certificate's public key is ${keyType}, not RSA: the Sealed Secrets controller seals with RSA-OAEP keys only, so this cannot be its certificate`);
  }
  return certificate.publicKey;
}

/** The RSA-OAEP label of a value sealed for `namespace`/`name` (sealed-secrets' EncryptionLabel). */
export function encryptionLabel(scope: SealingScope, namespace: string, name: string): string {
  switch (scope) {
    case 'strict':
      return `${namespace}/${name}`;
    case 'namespace-wide':
      return namespace;
    case 'cluster-wide':
      return '';
  }
}

/** The annotations that tell the controller which label a SealedSecret's values were sealed with. */
export function scopeAnnotations(scope: SealingScope): Record<string, string> {
  switch (scope) {
    case 'strict':
      return {};
    case 'namespace-wide':
      return { 'sealedsecrets.bitnami.com/namespace-wide': 'true' };
    case 'cluster-wide':
      return { 'sealedsecrets.bitnami.com/cluster-wide': 'true' };
  }
}

/**
 * kubeseal's hybrid encryption: 2-byte big-endian length ‖ RSA-OAEP-SHA256(session key, label) ‖
 * AES-256-GCM(plaintext) ‖ GCM tag. A fresh random session key per call, so two seals of one value differ:
 * callers that want stable manifests cache the ciphertext themselves.
 */
export function hybridEncrypt(publicKey: crypto.KeyObject, label: string, plaintext: Buffer): Buffer {
  const sessionKey = crypto.randomBytes(SESSION_KEY_BYTES);
  const rsaCiphertext = crypto.publicEncrypt(
    { key: publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label, 'utf8') },
    sessionKey,
  );
  const length = Buffer.alloc(2);
  length.writeUInt16BE(rsaCiphertext.length);
  const cipher = crypto.createCipheriv('aes-256-gcm', sessionKey, GCM_NONCE);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([length, rsaCiphertext, sealed, cipher.getAuthTag()]);
}

/** SHA-256 (hex) of the controller key's SubjectPublicKeyInfo: changes exactly when the sealing key does. */
export function controllerFingerprint(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}
