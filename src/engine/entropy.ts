import * as crypto from 'node:crypto';
import { KeyPool, poolable } from './key-pool';
import { generateKey, KeyAlgorithm } from './keys';

/**
 * Where keys, serials and signature nonces come from.
 *
 * Production uses the system CSPRNG. A seeded source derives everything from a seed and a label, so a test
 * that issues the same things under the same clock gets byte-identical keys and certificates on every run
 * (what snapshot tests need); it must never protect a real cluster, and the state says so in its records.
 */
export interface Entropy {
  /** A new private key for `label` (a slot and key generation). */
  key(label: string, algorithm: KeyAlgorithm): crypto.KeyObject;
  /**
   * Up to `count` keys of `algorithm` will be drawn by this synth (ControlPlanePki knows its total): a source may
   * make them ahead. Drawing fewer or more is fine.
   */
  expectKeys?(algorithm: KeyAlgorithm, count: number): void;
  /** The synth drew what it needed: keys announced and not drawn will not be, so none is made ahead any more. */
  settle?(): void;
  /** A positive serial of 126 random bits for the issuance named `label`. */
  serial(label: string): Buffer;
  /** `count` random bytes for the secret named `label` (a bootstrap token, say). */
  bytes(label: string, count: number): Buffer;
  /** RFC 6979 ECDSA nonces instead of random ones. */
  readonly deterministicSignatures: boolean;
  /** Set for seeded sources; recorded with the material they made. */
  readonly seeded: boolean;
}

function positiveSerial(bytes: Buffer): Buffer {
  const serial = Buffer.from(bytes.subarray(0, 16));
  serial[0] = (serial[0] & 0x3f) | 0x40; // positive, and always 16 octets in DER
  return serial;
}

/** RSA keys announced to the system source are made on a second core as well (key-pool.ts). */
const pools = new Map<KeyAlgorithm, KeyPool>();

/** The system CSPRNG and node:crypto's key generation: what every real state uses. */
export const systemEntropy: Entropy = {
  key: (_label, algorithm) => pools.get(algorithm)?.take() ?? generateKey(algorithm),
  expectKeys(algorithm, count) {
    if (!poolable(algorithm) || count <= 0) return;
    if (!pools.has(algorithm)) pools.set(algorithm, new KeyPool(algorithm));
    pools.get(algorithm)!.expect(count);
  },
  settle() {
    for (const pool of pools.values()) pool.stop();
  },
  serial: () => positiveSerial(crypto.randomBytes(16)),
  bytes: (_label, count) => crypto.randomBytes(count),
  deterministicSignatures: false,
  seeded: false,
};

const CURVES = {
  'ecdsa-p256': { crv: 'P-256', ecdh: 'prime256v1', size: 32, order: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551') },
  'ecdsa-p384': {
    crv: 'P-384',
    ecdh: 'secp384r1',
    size: 48,
    order: BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  },
} as const;

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Keys and random bytes derived from `seed`, the same on every run: for snapshot tests only (anyone with the seed has the keys). */
export function seededEntropy(seed: string): Entropy {
  /** HMAC-SHA-256 in counter mode: as many bytes as asked, fixed by seed and label. */
  const stream = (label: string, length: number): Buffer => {
    const blocks: Buffer[] = [];
    for (let i = 0; blocks.length * 32 < length; i++) blocks.push(crypto.createHmac('sha256', seed).update(`${label}\0${i}`).digest());
    return Buffer.concat(blocks).subarray(0, length);
  };
  return {
    key(label, algorithm) {
      if (algorithm === 'ed25519') {
        return crypto.createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, stream(label, 32)]), format: 'der', type: 'pkcs8' });
      }
      if (algorithm === 'ecdsa-p256' || algorithm === 'ecdsa-p384') {
        const curve = CURVES[algorithm];
        const scalar = (BigInt(`0x${stream(label, curve.size + 16).toString('hex')}`) % (curve.order - 1n)) + 1n;
        const d = Buffer.from(scalar.toString(16).padStart(curve.size * 2, '0'), 'hex');
        const ecdh = crypto.createECDH(curve.ecdh);
        ecdh.setPrivateKey(d);
        const point = ecdh.getPublicKey();
        const coordinate = (i: number) => point.subarray(1 + i * curve.size, 1 + (i + 1) * curve.size).toString('base64url');
        return crypto.createPrivateKey({
          key: { kty: 'EC', crv: curve.crv, d: d.toString('base64url'), x: coordinate(0), y: coordinate(1) },
          format: 'jwk',
        });
      }
      // node:crypto cannot take a seed for RSA; node-forge's generator accepts our byte stream as its PRNG (loaded
      // here: only seeded RSA keys need it).
      const forge = require('node-forge') as typeof import('node-forge');
      let offset = 0;
      const prng = { getBytesSync: (n: number) => stream(`${label}#${offset++}`, n).toString('binary') };
      const pair = forge.pki.rsa.generateKeyPair({ bits: Number(algorithm.slice(4)), e: 0x10001, prng, algorithm: 'PRIMEINC' } as any);
      return crypto.createPrivateKey(forge.pki.privateKeyToPem(pair.privateKey));
    },
    serial: (label) => positiveSerial(stream(`serial:${label}`, 16)),
    bytes: (label, count) => stream(`bytes:${label}`, count),
    deterministicSignatures: true,
    seeded: true,
  };
}
