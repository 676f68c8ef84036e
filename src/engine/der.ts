/**
 * A small DER writer for the fixed shapes the engine emits (TBSCertificate, its extensions, names, CSR info),
 * and a reader of one TLV at a time for the few fields read back from node:crypto's own encodings.
 *
 * Hand-written rather than built with @peculiar/asn1-schema: building and serializing a leaf's TBSCertificate
 * through the schema library took about 4 ms, thirty times the key generation and signature it wraps, while
 * these shapes need nothing but tag, length and value. Parsing certificates made elsewhere stays with the library.
 * Every writer here emits what the library emitted for the same value, byte for byte (test/engine/der.test.ts).
 */

/** Universal tags and the context-specific forms used here. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** A context-specific tag: `[n]` IMPLICIT of a primitive value, or `[n]` constructed (EXPLICIT, or IMPLICIT of a SEQUENCE). */
export const context = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: `tag`, then the definite length of the concatenated `contents`. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const value = contents.length === 1 ? contents[0] : Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(value.length), value]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(TAG.sequence, ...items);
export const set = (...items: Buffer[]): Buffer => tlv(TAG.set, ...items);
export const octetString = (value: Buffer): Buffer => tlv(TAG.octetString, value);
export const boolean = (value: boolean): Buffer => tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
export const nullValue = (): Buffer => Buffer.from([TAG.null, 0x00]);
/** A BIT STRING of whole octets (signatures, public keys). */
export const bitString = (value: Buffer, unusedBits = 0): Buffer => tlv(TAG.bitString, Buffer.from([unusedBits]), value);
/** IA5String and PrintableString take each character's low byte, as the schema library wrote them. */
export const asciiString = (tag: number, value: string): Buffer => tlv(tag, Buffer.from(value, 'latin1'));
export const utf8String = (value: string): Buffer => tlv(TAG.utf8String, Buffer.from(value, 'utf8'));

/** An INTEGER whose content octets are `bytes` as given (serials: the caller keeps them positive and minimal). */
export const integerBytes = (bytes: Buffer): Buffer => tlv(TAG.integer, bytes);

/** A non-negative INTEGER in minimal two's complement. */
export function integer(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return tlv(TAG.integer, Buffer.from(bytes));
}

const oidCache = new Map<string, Buffer>();

/** An OBJECT IDENTIFIER from its dotted form (cached: the engine uses a few dozen). */
export function oid(dotted: string): Buffer {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    const arcs = dotted.split('.').map(Number);
    const octets: number[] = [];
    [arcs[0] * 40 + arcs[1], ...arcs.slice(2)].forEach((arc) => {
      const base128 = [arc & 0x7f];
      for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift(0x80 | (rest & 0x7f));
      octets.push(...base128);
    });
    encoded = tlv(TAG.oid, Buffer.from(octets));
    oidCache.set(dotted, encoded);
  }
  return encoded;
}

const two = (n: number) => String(n).padStart(2, '0');

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, `Z`. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return year > 2049 ? asciiString(TAG.generalizedTime, `${String(year).padStart(4, '0')}${rest}`) : asciiString(TAG.utcTime, `${two(year % 100)}${rest}`);
}

/**
 * A named bit list (keyUsage) as DER wants it: bit 0 is the most significant bit of the first octet, trailing
 * zero bits are dropped and counted as unused.
 */
export function namedBits(flags: number): Buffer {
  // `flags` holds bit n at 1 << n; DER puts bit n at 0x80 >> (n % 8) of octet n / 8. No bit set: no octet.
  if (flags === 0) return bitString(Buffer.alloc(0));
  const highest = Math.floor(Math.log2(flags));
  const octets = Buffer.alloc((highest >> 3) + 1);
  for (let bit = 0; bit <= highest; bit++) if (flags & (1 << bit)) octets[bit >> 3] |= 0x80 >> (bit & 7);
  return bitString(octets, 7 - (highest & 7));
}

/** One TLV read from `der`: its tag, where it begins (`offset`), and where its value starts and ends. */
export interface Tlv {
  readonly tag: number;
  readonly offset: number;
  readonly start: number;
  readonly end: number;
}

/** Reads the TLV at `offset` of DER produced by node:crypto (definite lengths, single-octet tags). */
export function readTlv(der: Buffer, offset = 0): Tlv {
  const first = der[offset + 1];
  if (first === undefined) throw new RangeError('truncated DER');
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[start + i];
    start += first & 0x7f;
  }
  if (start + length > der.length) throw new RangeError('truncated DER');
  return { tag: der[offset], offset, start, end: start + length };
}

/** The whole encoding of `item` (tag and length included). */
export const encoding = (der: Buffer, item: Tlv): Buffer => der.subarray(item.offset, item.end);

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A UTCTime or GeneralizedTime in whole seconds, as RFC 5280 has certificates write them (two-digit years 50–99
 * are 19xx); undefined for any other form, which the caller leaves to the schema library.
 */
export function readTime(der: Buffer, item: Tlv): Date | undefined {
  const match = (item.tag === TAG.utcTime ? UTC_TIME : item.tag === TAG.generalizedTime ? GENERALIZED_TIME : undefined)?.exec(der.toString('latin1', item.start, item.end));
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const fullYear = item.tag === TAG.generalizedTime ? year : year >= 50 ? 1900 + year : 2000 + year;
  const date = new Date(0); // not Date.UTC, which reads years 0–99 as 19xx
  date.setUTCFullYear(fullYear, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date;
}

/** The values of the TLVs directly inside the constructed TLV `outer`. */
export function children(der: Buffer, outer: Tlv): Tlv[] {
  const items: Tlv[] = [];
  for (let offset = outer.start; offset < outer.end; offset = items[items.length - 1].end) items.push(readTlv(der, offset));
  return items;
}
