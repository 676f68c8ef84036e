import * as crypto from 'node:crypto';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** Encodes DER as one PEM block, 64 characters a line, ending in a newline (as OpenSSL and Go write it). */
export function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order; text outside blocks is ignored as OpenSSL does. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1], der: Buffer.from(m[2].replace(/\s+/g, ''), 'base64') }));
}

/** Lower-case hex SHA-256 of `data`. */
export function sha256Hex(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// Go's unicode.IsSpace set, so that the trim below matches strings.TrimSpace byte for byte
// (JavaScript's trim() also strips U+FEFF, which Go keeps).
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/**
 * A CA bundle as Rancher serves its cacerts setting at /cacerts: trimmed as Rancher stores it (Go's
 * strings.TrimSpace), followed by exactly one newline. A cacerts.pem of these bytes hashes (sha256sum) to its
 * CATTLE_CA_CHECKSUM.
 */
export function rancherServedCacerts(caPem: string): string {
  return `${caPem.replace(GO_TRIM, '')}\n`;
}

/** Rancher's CATTLE_CA_CHECKSUM of a CA bundle: lowercase hex SHA-256 of the bundle as Rancher serves it. */
export function rancherCaChecksum(caPem: string): string {
  return sha256Hex(rancherServedCacerts(caPem));
}
