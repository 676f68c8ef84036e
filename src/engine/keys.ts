import * as crypto from 'node:crypto';
import { SpecError } from './errors';

/** The key types the engine issues; ECDSA P-256 is the default everywhere. */
export const KEY_ALGORITHMS = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'ed25519'] as const;
/** A key algorithm: `ecdsa-p256`, `ecdsa-p384`, `rsa-2048`, `rsa-3072`, `rsa-4096` or `ed25519`. */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
/** The default for every key: ECDSA P-256. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ecdsa-p256';

/** How a key signs: the X.509 AlgorithmIdentifier and the node:crypto digest (null for Ed25519). */
export interface SignatureScheme {
  /** The signature AlgorithmIdentifier's OID. */
  readonly oid: string;
  /** RSA's AlgorithmIdentifier carries an explicit NULL parameter; ECDSA and Ed25519 carry none. */
  readonly nullParameters: boolean;
  /** The digest node:crypto signs with; null for Ed25519, which hashes internally. */
  readonly digest: 'sha256' | 'sha384' | null;
}

const SIGNATURE_SCHEMES: Record<'rsa' | 'p256' | 'p384' | 'ed25519', SignatureScheme> = {
  rsa: { oid: '1.2.840.113549.1.1.11', nullParameters: true, digest: 'sha256' }, // sha256WithRSAEncryption
  p256: { oid: '1.2.840.10045.4.3.2', nullParameters: false, digest: 'sha256' }, // ecdsa-with-SHA256
  p384: { oid: '1.2.840.10045.4.3.3', nullParameters: false, digest: 'sha384' }, // ecdsa-with-SHA384
  ed25519: { oid: '1.3.101.112', nullParameters: false, digest: null },
};

/** True for one of the key algorithm names. */
export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** A new private key from the system CSPRNG. */
export function generateKey(algorithm: KeyAlgorithm): crypto.KeyObject {
  switch (algorithm) {
    case 'ecdsa-p256':
      return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ecdsa-p384':
      return crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return crypto.generateKeyPairSync('rsa', { modulusLength: Number(algorithm.slice(4)), publicExponent: 65537 }).privateKey;
    case 'ed25519':
      return crypto.generateKeyPairSync('ed25519').privateKey;
  }
}

/**
 * Names the algorithm of a private or public key, refusing what the engine will not use
 * (RSA under 2048 bits, other curves, DSA).
 */
export function keyAlgorithmOf(key: crypto.KeyObject, field = 'key'): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
      if (details.namedCurve === 'secp384r1') return 'ecdsa-p384';
      throw new SpecError(field, `ECDSA curve ${details.namedCurve} is not supported (use P-256 or P-384)`);
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048) throw new SpecError(field, `RSA keys of ${bits} bits are refused: 2048 bits is the minimum`);
      if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`;
      throw new SpecError(field, `RSA keys of ${bits} bits are not supported (use 2048, 3072 or 4096)`);
    }
    case 'ed25519':
      return 'ed25519';
    default:
      throw new SpecError(field, `key type ${key.asymmetricKeyType} is not supported`);
  }
}

/** How a key of `algorithm` signs: SHA-256 for P-256 and RSA, SHA-384 for P-384, none for Ed25519. */
export function signatureSchemeFor(algorithm: KeyAlgorithm): SignatureScheme {
  if (algorithm.startsWith('rsa-')) return SIGNATURE_SCHEMES.rsa;
  if (algorithm === 'ecdsa-p384') return SIGNATURE_SCHEMES.p384;
  if (algorithm === 'ed25519') return SIGNATURE_SCHEMES.ed25519;
  return SIGNATURE_SCHEMES.p256;
}

/**
 * Signs `data` as X.509 and PKCS#10 expect: DER ECDSA signatures, PKCS#1 v1.5 for RSA, pure Ed25519.
 *
 * `deterministic` makes ECDSA use RFC 6979 nonces (through @noble/curves, since OpenSSL 3.0 has no
 * deterministic ECDSA); RSA PKCS#1 v1.5 and Ed25519 are deterministic already. Seeded test states ask for
 * it, so that snapshots are byte-stable, and so do CSRs kept in manifests (their bytes must not churn);
 * certificates of real states are signed with node:crypto.
 */
export function sign(data: Buffer, privateKey: crypto.KeyObject, deterministic = false): Buffer {
  const algorithm = keyAlgorithmOf(privateKey);
  const scheme = signatureSchemeFor(algorithm);
  if (deterministic && algorithm.startsWith('ecdsa-')) {
    // @noble/curves is loaded here, the one place that needs it.
    const curve = algorithm === 'ecdsa-p384' ? (require('@noble/curves/p384') as typeof import('@noble/curves/p384')).p384 : (require('@noble/curves/p256') as typeof import('@noble/curves/p256')).p256;
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const digest = crypto.createHash(scheme.digest!).update(data).digest();
    return Buffer.from(curve.sign(digest, d, { lowS: false }).toDERRawBytes());
  }
  return crypto.sign(scheme.digest, data, privateKey);
}

/** Signature algorithms accepted on certificates and CSRs made elsewhere: SHA-2 and Ed25519 only, no SHA-1 or MD5. */
const ACCEPTED_SIGNATURES: Record<string, { name: string; digest: string | null }> = {
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', digest: 'sha512' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', digest: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', digest: null },
};

const REFUSED_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
};

/** Throws unless `oid` is a signature algorithm the engine accepts (SHA-1 and MD5 are refused by name). */
export function checkSignatureAlgorithm(oid: string, field: string): void {
  if (ACCEPTED_SIGNATURES[oid]) return;
  const refused = REFUSED_SIGNATURES[oid];
  throw new SpecError(field, refused ? `is signed with ${refused}, which is refused: re-issue it with SHA-256 or better` : `uses signature algorithm ${oid}, which is not supported`);
}

/** Verifies a signature made by `sign` or by any X.509 signer with an accepted scheme. */
export function verify(data: Buffer, signature: Buffer, publicKey: crypto.KeyObject, schemeOid: string): boolean {
  const scheme = ACCEPTED_SIGNATURES[schemeOid];
  if (!scheme) return false;
  return crypto.verify(scheme.digest, data, publicKey, signature);
}

/** PKCS#8 PEM: one format for every key type, the one node:crypto and OpenSSL read without hints. */
export function privateKeyToPem(key: crypto.KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The PEM kubeadm writes (keyutil.MarshalPrivateKeyToPEM): PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 for Ed25519. */
export function privateKeyToTraditionalPem(key: crypto.KeyObject): string {
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : key.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs8';
  return key.export({ type, format: 'pem' } as crypto.KeyExportOptions<'pem'>).toString();
}

/** Reads a private key in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM, refusing unsupported types. */
export function privateKeyFromPem(pem: string, field = 'privateKeyPem'): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new SpecError(field, `not a readable PEM private key (${(err as Error).message})`);
  }
  keyAlgorithmOf(key, field);
  return key;
}

// A KeyObject is immutable, so what is derived from one is kept with it: a CA's key signs every leaf.
const publicKeys = new WeakMap<crypto.KeyObject, crypto.KeyObject>();
const spkis = new WeakMap<crypto.KeyObject, Buffer>();

/** The public half of a key (the key itself when it is public), cached per key. */
export function publicKeyOf(key: crypto.KeyObject): crypto.KeyObject {
  if (key.type === 'public') return key;
  let publicKey = publicKeys.get(key);
  if (!publicKey) publicKeys.set(key, (publicKey = crypto.createPublicKey(key)));
  return publicKey;
}

/** DER SubjectPublicKeyInfo of a key (a shared buffer: callers must not write to it). */
export function spkiDer(key: crypto.KeyObject): Buffer {
  let spki = spkis.get(key);
  if (!spki) {
    // Not from the JWK export, though that is faster for EC keys: Node 20 can deadlock exporting a JWK when a
    // garbage collection inside the export finalizes the job that generated the key.
    spki = publicKeyOf(key).export({ type: 'spki', format: 'der' });
    spkis.set(key, spki);
    if (key.type === 'private') spkis.set(publicKeyOf(key), spki);
  }
  return spki;
}

/** PKIX `PUBLIC KEY` PEM, the form of kubeadm's sa.pub. */
export function publicKeyToPem(key: crypto.KeyObject): string {
  return publicKeyOf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** True when the two keys share one public key (a certificate and the key offered with it). */
export function samePublicKey(a: crypto.KeyObject, b: crypto.KeyObject): boolean {
  return spkiDer(a).equals(spkiDer(b));
}
