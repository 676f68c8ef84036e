// The age v1 file format (https://age-encryption.org/v1, C2SP age) over node:crypto: X25519 and scrypt
// recipients, the header MAC, and the ChaCha20-Poly1305 STREAM payload.
//
// Hand-written rather than the `age-encryption` package because that library is async-only (WebCrypto), while
// the state is read and written synchronously: cdk8s construct constructors cannot await, and PkiState reads its
// store from them. Every primitive here is node:crypto's; only the framing is ours, and the tests hold it to
// the real `age` CLI.
import * as crypto from 'node:crypto';

export type AgeErrorCode =
  /** Not an age v1 file at all (no `age-encryption.org/v1` line). */
  | 'not-age'
  /** An age file, but none of the given identities (or the passphrase) opens it. */
  | 'no-match'
  /** Malformed, or modified since it was written: the header MAC or a payload chunk fails to authenticate. */
  | 'corrupt'
  /** A recipient, identity or option that cannot be used. */
  | 'invalid-key';

export class AgeError extends Error {
  constructor(readonly code: AgeErrorCode, message: string) {
    super(message);
    this.name = 'AgeError';
  }
}

/** Encrypt to X25519 recipients (`age1…`), or with a passphrase (one scrypt stanza, as age requires). */
export type AgeRecipients = readonly string[] | { readonly passphrase: string };
/** Decrypt with X25519 identities (`AGE-SECRET-KEY-1…`), or with a passphrase. */
export type AgeIdentities = readonly string[] | { readonly passphrase: string };

export interface EncryptOptions {
  /** log2 of scrypt's N for a passphrase. @default 18, what the age CLI uses */
  readonly scryptWorkFactor?: number;
}

export const DEFAULT_SCRYPT_WORK_FACTOR = 18;
/** The largest log2(N) a passphrase-encrypted file may ask for (2^22 takes 4 GiB): age's own limit. */
const MAX_SCRYPT_WORK_FACTOR = 22;

const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const SCRYPT_SALT_LABEL = 'age-encryption.org/v1/scrypt';
const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';
const FILE_KEY_BYTES = 16;
const CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const ZERO_NONCE = Buffer.alloc(12);
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';

// --- Bech32 (BIP 173, without its 90-character limit, as age specifies) ---

const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function bech32Polymod(values: number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) checksum ^= BECH32_GENERATOR[i];
  }
  return checksum >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const codes = [...hrp].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/** Regroups bits (8 → 5 pads the tail; 5 → 8 refuses a non-zero or over-long tail, as BIP 173 requires). */
function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let accumulator = 0;
  let bits = 0;
  const out: number[] = [];
  for (const value of data) {
    accumulator = (accumulator << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((accumulator >>> bits) & ((1 << to) - 1));
    }
    accumulator &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((accumulator << (to - bits)) & ((1 << to) - 1));
  } else if (bits >= from || accumulator !== 0) {
    return undefined;
  }
  return out;
}

function bech32Encode(hrp: string, data: Buffer): string {
  const words = convertBits(data, 8, 5, true)!;
  const polymod = bech32Polymod([...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (polymod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => BECH32_ALPHABET[w]).join('')}`;
}

function bech32Decode(text: string, expectedHrp: string, what: string): Buffer {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) throw new AgeError('invalid-key', `${what} mixes upper and lower case`);
  const lower = text.toLowerCase();
  const separator = lower.lastIndexOf('1');
  const hrp = lower.slice(0, separator);
  if (separator < 0 || hrp !== expectedHrp) throw new AgeError('invalid-key', `${what} does not start with "${expectedHrp}1"`);
  const words = [...lower.slice(separator + 1)].map((c) => BECH32_ALPHABET.indexOf(c));
  if (words.length < 6 || words.includes(-1)) throw new AgeError('invalid-key', `${what} has characters outside the Bech32 alphabet`);
  if (bech32Polymod([...hrpExpand(hrp), ...words]) !== 1) throw new AgeError('invalid-key', `${what} has a bad checksum (mistyped or truncated?)`);
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  if (!bytes) throw new AgeError('invalid-key', `${what} has invalid Bech32 padding`);
  return Buffer.from(bytes);
}

// --- Canonical unpadded base64, as the header uses it ---

function encodeBase64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

function decodeBase64(text: string, what: string): Buffer {
  const data = Buffer.from(text, 'base64');
  // Buffer.from() skips junk and ignores stray bits; age requires rejecting anything non-canonical.
  if (!/^[A-Za-z0-9+/]*$/.test(text) || encodeBase64(data) !== text) throw new AgeError('corrupt', `${what} is not canonical unpadded base64`);
  return data;
}

// --- Primitives ---

const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function x25519PrivateKey(secret: Buffer): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
}

function x25519PublicKey(share: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, share]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: crypto.KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' }).subarray(X25519_SPKI_PREFIX.length);
}

function rawPrivateKey(key: crypto.KeyObject): Buffer {
  return key.export({ type: 'pkcs8', format: 'der' }).subarray(X25519_PKCS8_PREFIX.length);
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, 32));
}

function seal(key: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext, or undefined when the ciphertext does not authenticate under this key and nonce. */
function open(key: Buffer, nonce: Buffer, ciphertext: Buffer): Buffer | undefined {
  if (ciphertext.length < TAG_BYTES) return undefined;
  const decipher = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function scryptWrapKey(passphrase: string, salt: Buffer, workFactor: number): Buffer {
  const N = 2 ** workFactor;
  // node refuses more than 32 MiB unless told; scrypt needs 128·N·r bytes (r = 8), plus a little.
  return crypto.scryptSync(Buffer.from(passphrase, 'utf8'), Buffer.concat([Buffer.from(SCRYPT_SALT_LABEL), salt]), 32, { N, r: 8, p: 1, maxmem: 2 * 128 * N * 8 });
}

// --- Keys ---

export interface X25519Recipient {
  /** The `age1…` string. */
  readonly text: string;
  readonly publicKey: Buffer;
}

export interface X25519Identity {
  /** The `age1…` recipient files must be encrypted to for this identity to open them. */
  readonly recipient: string;
  readonly publicKey: Buffer;
  readonly privateKey: crypto.KeyObject;
}

/** An `age1…` X25519 recipient. */
export function parseRecipient(text: string): X25519Recipient {
  // Never quote the text: a secret key given where a recipient belongs would end up in logs.
  if (/^AGE-SECRET-KEY-1/i.test(text.trim())) throw new AgeError('invalid-key', 'an age recipient was expected but an identity (AGE-SECRET-KEY-1…) was given: give its age1… public key');
  const publicKey = bech32Decode(text.trim(), RECIPIENT_HRP, 'an age recipient');
  if (publicKey.length !== 32) throw new AgeError('invalid-key', `an age recipient is not an X25519 key (${publicKey.length} bytes)`);
  return { text: bech32Encode(RECIPIENT_HRP, publicKey), publicKey };
}

/** An `AGE-SECRET-KEY-1…` X25519 identity, as `age-keygen` writes it. */
export function parseIdentity(text: string): X25519Identity {
  // The key itself never goes into a message.
  const secret = bech32Decode(text.trim(), IDENTITY_HRP, 'age identity');
  if (secret.length !== 32) throw new AgeError('invalid-key', `age identity is not an X25519 key (${secret.length} bytes)`);
  const privateKey = x25519PrivateKey(secret);
  const publicKey = rawPublicKey(crypto.createPublicKey(privateKey));
  return { recipient: bech32Encode(RECIPIENT_HRP, publicKey), publicKey, privateKey };
}

/** A new X25519 identity and its recipient, as `age-keygen` makes them. */
export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  return { identity: bech32Encode(IDENTITY_HRP, rawPrivateKey(privateKey)).toUpperCase(), recipient: bech32Encode(RECIPIENT_HRP, rawPublicKey(publicKey)) };
}

// --- Header ---

interface Stanza {
  readonly args: string[];
  readonly body: Buffer;
}

function formatStanza(stanza: Stanza): string {
  const body = encodeBase64(stanza.body);
  const lines = [];
  // Wrapped at 64 columns; the last line is always shorter than 64, so a body of 48·k bytes ends with an empty line.
  for (let i = 0; i <= body.length; i += 64) lines.push(body.slice(i, i + 64));
  return `-> ${stanza.args.join(' ')}\n${lines.join('\n')}\n`;
}

function headerMac(fileKey: Buffer, headerUpToMac: Buffer): Buffer {
  return crypto.createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(headerUpToMac).digest();
}

interface ParsedHeader {
  readonly stanzas: Stanza[];
  /** The header bytes the MAC covers: everything up to and including `---`. */
  readonly macInput: Buffer;
  readonly mac: Buffer;
  readonly payloadOffset: number;
}

function parseHeader(file: Buffer): ParsedHeader {
  let offset = 0;
  const nextLine = (): string => {
    const end = file.indexOf(0x0a, offset);
    if (end < 0) throw new AgeError('corrupt', 'the age header ends before its MAC line');
    const line = file.subarray(offset, end).toString('latin1');
    offset = end + 1;
    return line;
  };
  const version = nextLine();
  if (version !== VERSION_LINE) {
    if (version.startsWith('age-encryption.org/')) throw new AgeError('corrupt', `unsupported age version "${version}"`);
    throw new AgeError('not-age', 'not an age file: it does not start with "age-encryption.org/v1"');
  }
  const stanzas: Stanza[] = [];
  for (;;) {
    const lineStart = offset;
    const line = nextLine();
    if (line.startsWith('---')) {
      const match = /^--- ([A-Za-z0-9+/]{43})$/.exec(line);
      if (!match) throw new AgeError('corrupt', 'the age header MAC line is malformed');
      if (stanzas.length === 0) throw new AgeError('corrupt', 'the age header has no recipient stanza');
      return { stanzas, macInput: file.subarray(0, lineStart + 3), mac: decodeBase64(match[1], 'the header MAC'), payloadOffset: offset };
    }
    if (!line.startsWith('-> ')) throw new AgeError('corrupt', 'the age header has a line that is neither a stanza nor the MAC');
    const args = line.slice(3).split(' ');
    if (args.some((arg) => !/^[\x21-\x7e]+$/.test(arg))) throw new AgeError('corrupt', 'an age stanza has an empty or non-printable argument');
    let body = '';
    for (;;) {
      const bodyLine = nextLine();
      if (bodyLine.length > 64 || !/^[A-Za-z0-9+/]*$/.test(bodyLine)) throw new AgeError('corrupt', 'an age stanza body line is not base64 of at most 64 columns');
      body += bodyLine;
      if (bodyLine.length < 64) break;
    }
    stanzas.push({ args, body: decodeBase64(body, 'a stanza body') });
  }
}

/** The binary age file inside an ASCII-armored one (RFC 7468 strict PEM); binary input is returned as is. */
function dearmor(input: Buffer): Buffer {
  if (!input.subarray(0, 256).toString('latin1').trimStart().startsWith(ARMOR_BEGIN)) return input;
  const lines = input.toString('latin1').trim().split(/\r?\n/);
  if (lines[0] !== ARMOR_BEGIN) throw new AgeError('corrupt', 'armored age file: malformed first line');
  if (lines[lines.length - 1] !== ARMOR_END) throw new AgeError('corrupt', 'armored age file: missing or malformed end line');
  const bodyLines = lines.slice(1, -1);
  const wellWrapped = bodyLines.length > 0 && bodyLines.every((l, i) => (i < bodyLines.length - 1 ? l.length === 64 : l.length > 0 && l.length <= 64));
  const body = bodyLines.join('');
  const data = Buffer.from(body, 'base64');
  if (!wellWrapped || !/^[A-Za-z0-9+/]*={0,2}$/.test(body) || data.toString('base64') !== body) {
    throw new AgeError('corrupt', 'armored age file: the base64 body is not strict PEM');
  }
  return data;
}

// --- Payload: STREAM over ChaCha20-Poly1305 ---

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6); // the 11-byte big-endian counter; 2^48 chunks is more than any file here
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function encryptPayload(fileKey: Buffer, plaintext: Buffer): Buffer {
  const nonce = crypto.randomBytes(16);
  const key = hkdf(fileKey, nonce, 'payload');
  const chunks: Buffer[] = [nonce];
  // One chunk per 64 KiB; an empty plaintext is a single empty final chunk, a multiple of 64 KiB ends with a full one.
  const count = Math.max(1, Math.ceil(plaintext.length / CHUNK_BYTES));
  for (let i = 0; i < count; i++) {
    chunks.push(seal(key, chunkNonce(i, i === count - 1), plaintext.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)));
  }
  return Buffer.concat(chunks);
}

function decryptPayload(fileKey: Buffer, payload: Buffer): Buffer {
  if (payload.length < 16) throw new AgeError('corrupt', 'the age payload is truncated (no nonce)');
  const key = hkdf(fileKey, payload.subarray(0, 16), 'payload');
  const sealedChunk = CHUNK_BYTES + TAG_BYTES;
  const chunks: Buffer[] = [];
  let offset = 16;
  for (let counter = 0; ; counter++) {
    const last = payload.length - offset <= sealedChunk;
    const sealed = payload.subarray(offset, last ? payload.length : offset + sealedChunk);
    const chunk = open(key, chunkNonce(counter, last), sealed);
    if (!chunk) throw new AgeError('corrupt', `the age payload fails to authenticate at chunk ${counter}: truncated or modified`);
    if (last && chunk.length === 0 && counter > 0) throw new AgeError('corrupt', 'the age payload ends with an empty chunk');
    chunks.push(chunk);
    if (last) return Buffer.concat(chunks);
    offset += sealedChunk;
  }
}

// --- Files ---

function checkWorkFactor(workFactor: number, max: number): void {
  if (!Number.isInteger(workFactor) || workFactor < 1 || workFactor > max) {
    throw new AgeError('invalid-key', `scrypt work factor ${workFactor} is outside 1..${max}`);
  }
}

/** Encrypts `plaintext` into a binary age v1 file. */
export function encrypt(plaintext: Buffer, recipients: AgeRecipients, options: EncryptOptions = {}): Buffer {
  const fileKey = crypto.randomBytes(FILE_KEY_BYTES);
  const stanzas: Stanza[] = [];
  if ('passphrase' in recipients) {
    const workFactor = options.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
    checkWorkFactor(workFactor, MAX_SCRYPT_WORK_FACTOR);
    const salt = crypto.randomBytes(16);
    stanzas.push({ args: ['scrypt', encodeBase64(salt), String(workFactor)], body: seal(scryptWrapKey(recipients.passphrase, salt, workFactor), ZERO_NONCE, fileKey) });
  } else {
    if (recipients.length === 0) throw new AgeError('invalid-key', 'no age recipients to encrypt to');
    for (const recipient of recipients.map(parseRecipient)) {
      const ephemeral = crypto.generateKeyPairSync('x25519');
      const share = rawPublicKey(ephemeral.publicKey);
      const sharedSecret = crypto.diffieHellman({ privateKey: ephemeral.privateKey, publicKey: x25519PublicKey(recipient.publicKey) });
      const wrapKey = hkdf(sharedSecret, Buffer.concat([share, recipient.publicKey]), X25519_INFO);
      stanzas.push({ args: ['X25519', encodeBase64(share)], body: seal(wrapKey, ZERO_NONCE, fileKey) });
    }
  }
  const headerUpToMac = Buffer.from(`${VERSION_LINE}\n${stanzas.map(formatStanza).join('')}---`);
  const header = Buffer.concat([headerUpToMac, Buffer.from(` ${encodeBase64(headerMac(fileKey, headerUpToMac))}\n`)]);
  return Buffer.concat([header, encryptPayload(fileKey, plaintext)]);
}

function unwrapWithIdentities(stanzas: Stanza[], identities: readonly string[]): Buffer | undefined {
  const keys = identities.map(parseIdentity);
  for (const stanza of stanzas) {
    if (stanza.args[0] !== 'X25519') continue; // other recipient types are not ours to open
    if (stanza.args.length !== 2) throw new AgeError('corrupt', 'an X25519 stanza must have exactly one argument');
    const share = decodeBase64(stanza.args[1], 'an X25519 ephemeral share');
    if (share.length !== 32 || stanza.body.length !== FILE_KEY_BYTES + TAG_BYTES) throw new AgeError('corrupt', 'an X25519 stanza has a share or body of the wrong length');
    for (const identity of keys) {
      let sharedSecret: Buffer;
      try {
        sharedSecret = crypto.diffieHellman({ privateKey: identity.privateKey, publicKey: x25519PublicKey(share) });
      } catch {
        throw new AgeError('corrupt', 'an X25519 stanza has a low-order ephemeral share');
      }
      if (sharedSecret.every((b) => b === 0)) throw new AgeError('corrupt', 'an X25519 stanza has a low-order ephemeral share');
      const fileKey = open(hkdf(sharedSecret, Buffer.concat([share, identity.publicKey]), X25519_INFO), ZERO_NONCE, stanza.body);
      if (fileKey) return fileKey;
    }
  }
  return undefined;
}

function unwrapWithPassphrase(stanza: Stanza, passphrase: string, maxWorkFactor: number): Buffer | undefined {
  const [, saltText, workFactorText, ...extra] = stanza.args;
  if (saltText === undefined || workFactorText === undefined || extra.length > 0) throw new AgeError('corrupt', 'an scrypt stanza must have exactly two arguments');
  const salt = decodeBase64(saltText, 'the scrypt salt');
  if (salt.length !== 16 || stanza.body.length !== FILE_KEY_BYTES + TAG_BYTES) throw new AgeError('corrupt', 'an scrypt stanza has a salt or body of the wrong length');
  if (!/^[1-9][0-9]*$/.test(workFactorText)) throw new AgeError('corrupt', `the scrypt work factor "${workFactorText}" is not a decimal number`);
  const workFactor = Number(workFactorText);
  if (workFactor > maxWorkFactor) throw new AgeError('corrupt', `the scrypt work factor ${workFactor} exceeds the limit of ${maxWorkFactor}`);
  return open(scryptWrapKey(passphrase, salt, workFactor), ZERO_NONCE, stanza.body);
}

/** Decrypts an age v1 file (binary or armored). Throws AgeError: `no-match`, `corrupt` or `not-age`. */
export function decrypt(ciphertext: Buffer, identities: AgeIdentities): Buffer {
  const file = dearmor(ciphertext);
  const header = parseHeader(file);
  const scrypt = header.stanzas.filter((s) => s.args[0] === 'scrypt');
  // A passphrase file must have nothing but its scrypt stanza, or anyone could add a recipient to it unnoticed.
  if (scrypt.length > 0 && header.stanzas.length > 1) throw new AgeError('corrupt', 'an scrypt stanza must be the only stanza of an age file');
  let fileKey: Buffer | undefined;
  if ('passphrase' in identities) {
    if (scrypt.length === 0) throw new AgeError('no-match', 'the file is encrypted to age recipients, not with a passphrase');
    fileKey = unwrapWithPassphrase(scrypt[0], identities.passphrase, MAX_SCRYPT_WORK_FACTOR);
    if (!fileKey) throw new AgeError('no-match', 'incorrect passphrase');
  } else {
    if (scrypt.length > 0) throw new AgeError('no-match', 'the file is encrypted with a passphrase, not to age recipients');
    fileKey = unwrapWithIdentities(header.stanzas, identities);
    if (!fileKey) throw new AgeError('no-match', 'no identity matches any of the file\'s recipients');
  }
  if (!crypto.timingSafeEqual(headerMac(fileKey, header.macInput), header.mac)) throw new AgeError('corrupt', 'the age header MAC does not match: the header was modified');
  return decryptPayload(fileKey, file.subarray(header.payloadOffset));
}

/** True when `data` starts like a binary or armored age file. */
export function isAgeFile(data: Buffer): boolean {
  const start = data.subarray(0, 64).toString('latin1').trimStart();
  return start.startsWith(`${VERSION_LINE}\n`) || start.startsWith(ARMOR_BEGIN);
}
