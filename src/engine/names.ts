// The name and address rules every input goes through: Kubernetes object names, DNS SANs, IP addresses, CIDRs and
// URLs. One copy each, so a prop, a spec file and a certificate request refuse the same values with the same words.
import * as net from 'node:net';
import { SpecError } from './errors';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);

/** What Kubernetes answers for a name that is not a DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** Kubernetes' IsDNS1123Label: namespaces, and the labels of a signer name's domain. At most 63 characters. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL_RE.test(value);
}

/** Kubernetes' IsDNS1123Subdomain: object names (a Secret's), IngressClass names. At most 253 characters. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN_RE.test(value);
}

/** Throws a SpecError naming `field` unless `value` is an RFC 1123 subdomain (a Kubernetes object name). */
export function checkDns1123Subdomain(value: string, field: string): void {
  if (!isDns1123Subdomain(value)) throw new SpecError(field, `${JSON.stringify(value)}: ${DNS1123_SUBDOMAIN_MESSAGE} (at most 253 characters)`);
}

/**
 * A host name a certificate can carry as a DNS SAN: a lower-case RFC 1123 subdomain (kubeadm's
 * IsDNS1123Subdomain) with labels of at most 63 characters, optionally behind a `*.` wildcard, whose last label
 * is not a number. A name such as `10.0.0.300` or `1.0x10` is parsed as an IPv4 address by browsers (the WHATWG
 * host parser) and by Go's verifier, so as a DNS SAN it would never match anything.
 */
export function isDnsName(value: string): boolean {
  const name = value.startsWith('*.') ? value.slice(2) : value;
  if (value.length > 253 || !DNS1123_SUBDOMAIN_RE.test(name)) return false;
  const labels = name.split('.');
  return labels.every((label) => label.length <= 63) && !looksLikeIpv4(labels[labels.length - 1]);
}

/** The WHATWG URL host parser's "ends in a number" test: such a host is taken as an IPv4 address. */
function looksLikeIpv4(lastLabel: string): boolean {
  return /^\d+$/.test(lastLabel) || /^0x[0-9a-f]*$/.test(lastLabel);
}

/**
 * An IPv4 or IPv6 literal as a certificate or flag can carry it. A zone ID (`fe80::1%eth0`) is refused: it names
 * an interface of one machine, and an X.509 iPAddress holds the bare 4 or 16 bytes.
 */
export function isIpAddress(value: string): boolean {
  return net.isIP(value) !== 0 && !value.includes('%');
}

/** `address/prefix` with an address `isIpAddress` accepts and a prefix within its family's bits (no leading zeros). */
export function isCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  return extra === undefined && isIpAddress(address) && /^(0|[1-9]\d{0,2})$/.test(prefix ?? '') && Number(prefix) <= (net.isIPv4(address) ? 32 : 128);
}

// ---------------------------------------------------------------------------------------------
// Address bytes and arithmetic: one copy for certificates (iPAddress SANs, name constraints) and CIDR checks.

/** IPv6 in its canonical RFC 5952 text, IPv4 unchanged: the form Go and OpenSSL print. */
export function canonicalIp(ip: string): string {
  if (net.isIP(ip) !== 6) return ip;
  return ipToString(ipToBytes(ip));
}

/** The 4 or 16 bytes of an address (an IPv4-mapped `::ffff:a.b.c.d` stays 16). */
export function ipToBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // Expand an embedded dotted quad (::ffff:1.2.3.4) to two hex groups first.
  const text = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head, tail] = text.split('::');
  const groups = (s?: string) => (s ? s.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(missing).fill('0'), ...groups(tail)];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** The text of 4 or 16 address bytes; IPv6 in RFC 5952 form. */
export function ipToString(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  // RFC 5952: compress the longest run (first on a tie) of two or more zero groups.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j > i ? j : i + 1;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** A CIDR's network address, prefix length and size, and whether the address as written had host bits set. */
export function parseCidr(cidr: string): {
  /** The address bytes with the host bits cleared (4 or 16 bytes). */
  network: Buffer;
  /** The prefix length. */
  prefix: number;
  /** How many addresses the range holds. */
  size: bigint;
  /** Whether the written address had host bits set (`10.0.0.1/8`). */
  hostBitsSet: boolean;
} {
  if (!isCidr(cidr)) throw new RangeError(`not a CIDR: ${JSON.stringify(cidr)}`);
  const [address, prefixText] = cidr.split('/');
  const bytes = ipToBytes(address);
  const prefix = Number(prefixText);
  const network = Buffer.from(bytes.map((b, i) => b & (0xff << (8 - Math.max(0, Math.min(8, prefix - i * 8))))));
  return { network, prefix, size: 1n << BigInt(bytes.length * 8 - prefix), hostBitsSet: !network.equals(bytes) };
}

/** Why a CIDR is not written as its network address (`10.0.0.1/8` → "… write 10.0.0.0/8"), or undefined if it is. */
export function hostBitsReason(cidr: string): string | undefined {
  if (!isCidr(cidr)) return undefined;
  const { network, prefix, hostBitsSet } = parseCidr(cidr);
  return hostBitsSet ? `${JSON.stringify(cidr)} has host bits set: write its network address, ${ipToString(network)}/${prefix}` : undefined;
}

/** The `index`-th address of a CIDR (Kubernetes' utilnet.GetIndexedIP); a RangeError past its end. */
export function indexedIp(cidr: string, index: number): string {
  const { network, size } = parseCidr(cidr);
  if (BigInt(index) >= size) throw new RangeError(`${cidr} has no address at index ${index}`);
  const value = network.reduce((v, byte) => (v << 8n) | BigInt(byte), 0n) + BigInt(index);
  return ipToString(Buffer.from(network.map((_, i) => Number((value >> BigInt(8 * (network.length - 1 - i))) & 0xffn))));
}

/**
 * An absolute URI a certificate can carry as a URI SAN: ASCII only (an IA5String, RFC 5280 §4.2.1.6), a scheme,
 * and something the WHATWG URL parser accepts.
 */
export function isAbsoluteUri(value: string): boolean {
  return /^[\x21-\x7e]*$/.test(value) && /^[a-z][a-z0-9+.-]*:./i.test(value) && URL.canParse(value);
}

/**
 * `https://host[:port]` and, with `path`, a path after it: the form of an API server URL (no path) or an ACME
 * directory. The host must be an IP literal or a DNS name `isDnsName` accepts; no user info, query or fragment.
 */
export function isHttpsUrl(value: string, options: { path?: boolean } = {}): boolean {
  const match = /^https:\/\/(\[[^\]]*\]|[^:/?#@[\]]*)(?::([^/?#]*))?(\/[^?#]*)?$/.exec(value);
  if (!match || !URL.canParse(value)) return false;
  const [, written, port, path] = match;
  const host = written.startsWith('[') ? written.slice(1, -1) : written;
  if (port !== undefined && !isPort(port)) return false;
  if (path !== undefined && path !== '/' && !options.path) return false;
  return written.startsWith('[') ? net.isIPv6(host) && isIpAddress(host) : net.isIPv4(host) || isDnsName(host);
}

/** Throws a SpecError naming `field` unless `value` is what isHttpsUrl accepts. */
export function checkHttpsUrl(value: unknown, field: string, options: { path?: boolean } = {}): void {
  if (typeof value !== 'string' || !isHttpsUrl(value, options)) {
    const form = options.path ? 'https://host[:port][/path] URL (no query or fragment)' : 'https://host[:port] URL without a path';
    throw new SpecError(field, `${JSON.stringify(value)} is not an ${form}; the host is an IP address or a lower-case DNS name, the port 1-65535`);
  }
}

/** A TCP port as written: 1–65535, decimal, no sign or leading zero (`06443` reads as octal in some parsers). */
export function isPort(text: string): boolean {
  return /^[1-9]\d{0,4}$/.test(text) && Number(text) <= 65535;
}

/** The first C0 or C1 control character (or DEL) of `value`, which no certificate subject should hold; -1 if none. */
export function controlCharacterIndex(value: string): number {
  return value.search(/[\u0000-\u001f\u007f-\u009f]/);
}
