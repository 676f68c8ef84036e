// Property-based tests for the X.509 engine and the PKI state (fast-check).
//
// Valid-input arbitraries generate only values the engine's own rules accept (no heavy filtering), so every
// failure of a round-trip property is a disagreement between what was asked and what was issued.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  BACKDATE_SECONDS,
  canonicalIp,
  Certificate,
  CertificateSpec,
  ExtendedKeyUsageName,
  generateKey,
  issueCertificate,
  KEY_USAGES,
  KeyAlgorithm,
  KeyUsageName,
  NameConstraintsSpec,
  SpecError,
  validateCertificateSpec,
} from '../../src/engine';
import { Issuer, PkiState } from '../../src/state/pki-state';
import { snapshotDir } from '../support/programs';

const DAY = 86400;
/** The last instant an X.509 Time (GeneralizedTime, four-digit year) can hold. */
const MAX_X509_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);
const ROOT_ISSUED_AT = new Date('2025-01-01T00:00:00Z');
const seconds = (ms: number) => Math.floor(ms / 1000);

// ---------------------------------------------------------------------------------------------
// Fixtures: made once, outside every property loop (RSA key generation is the slow part).

interface Root {
  readonly name: string;
  readonly key: crypto.KeyObject;
  readonly certificate: Certificate;
}

function makeRoot(name: string, algorithm: KeyAlgorithm): Root {
  const key = generateKey(algorithm);
  // Valid until the last second X.509 can express, so any leaf validity the engine can encode fits under it.
  const validitySeconds = seconds(MAX_X509_TIME) - seconds(ROOT_ISSUED_AT.getTime());
  const certificate = issueCertificate(
    { subject: { commonName: `property root ${name}`, organizations: ['cdk8s-pki'], country: 'DE' }, ca: {}, validitySeconds },
    key,
    { privateKey: key },
    ROOT_ISSUED_AT,
  );
  return { name, key, certificate };
}

const ROOTS: Root[] = [makeRoot('p256', 'ecdsa-p256'), makeRoot('ed25519', 'ed25519'), makeRoot('rsa', 'rsa-2048')];
const OTHER_KEY = generateKey('ecdsa-p256');

interface SubjectKey {
  readonly algorithm: KeyAlgorithm;
  readonly key: crypto.KeyObject;
}
const SUBJECT_KEYS: SubjectKey[] = [
  ...Array.from({ length: 3 }, () => ({ algorithm: 'ecdsa-p256' as const, key: generateKey('ecdsa-p256') })),
  ...Array.from({ length: 3 }, () => ({ algorithm: 'ed25519' as const, key: generateKey('ed25519') })),
  { algorithm: 'ecdsa-p384', key: generateKey('ecdsa-p384') },
  { algorithm: 'rsa-2048', key: generateKey('rsa-2048') },
];
const RSA_1024 = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;

// ---------------------------------------------------------------------------------------------
// Independent oracles (no engine code): IP text and CIDR normalisation through the WHATWG URL host parser,
// whose IPv6 serializer is RFC 5952 (lower-case, no leading zeros, first longest run of ≥2 zero groups as ::).

function whatwgIpv6(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function ipBytes(ip: string): number[] {
  if (net.isIPv4(ip)) return ip.split('.').map(Number);
  const [head, tail] = whatwgIpv6(ip).split('::');
  const groups = (s?: string) => (s ? s.split(':') : []);
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

function bytesToIp(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  return whatwgIpv6(groups.join(':'));
}

/** `10.1.2.3/08` → `10.0.0.0/8`: host bits cleared, address canonical, prefix a plain number. */
function normalizeCidr(cidr: string): string {
  const [address, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  const masked = ipBytes(address).map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
  return `${bytesToIp(masked)}/${prefix}`;
}

// ---------------------------------------------------------------------------------------------
// Normalisation of a spec to what the certificate must say (IPv6 canonical, defaults applied,
// empty arrays ≡ absent, key usages in bit order, name constraints with all lists empty ≡ absent).

const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const nonEmpty = <T>(xs?: readonly T[]): T[] | undefined => (xs && xs.length ? [...xs] : undefined);

function defaultKeyUsage(spec: CertificateSpec, algorithm: KeyAlgorithm): KeyUsageName[] {
  if (spec.ca) return ['digitalSignature', 'keyCertSign', 'cRLSign'];
  return algorithm.startsWith('rsa-') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

function normalizeNameConstraints(nc?: NameConstraintsSpec): NameConstraintsSpec | undefined {
  if (!nc) return undefined;
  const out = drop({
    permittedDnsDomains: nonEmpty(nc.permittedDnsDomains),
    excludedDnsDomains: nonEmpty(nc.excludedDnsDomains),
    permittedIpRanges: nonEmpty(nc.permittedIpRanges?.map(normalizeCidr)),
    excludedIpRanges: nonEmpty(nc.excludedIpRanges?.map(normalizeCidr)),
  });
  return Object.keys(out).length ? out : undefined;
}

function normalize(spec: CertificateSpec, algorithm: KeyAlgorithm): CertificateSpec {
  const s = spec.subject;
  return drop({
    subject: drop({
      commonName: s.commonName,
      organizations: nonEmpty(s.organizations),
      organizationalUnits: nonEmpty(s.organizationalUnits),
      country: s.country,
      province: s.province,
      locality: s.locality,
    }),
    sans: drop({
      dnsNames: nonEmpty(spec.sans?.dnsNames),
      ipAddresses: nonEmpty(spec.sans?.ipAddresses?.map(canonicalIp)),
      uris: nonEmpty(spec.sans?.uris),
      emails: nonEmpty(spec.sans?.emails),
    }),
    keyUsage: [...(spec.keyUsage ?? defaultKeyUsage(spec, algorithm))].sort((a, b) => KEY_USAGES.indexOf(a) - KEY_USAGES.indexOf(b)),
    extendedKeyUsage: nonEmpty(spec.extendedKeyUsage),
    ca: spec.ca && drop({ pathLength: spec.ca.pathLength, nameConstraints: normalizeNameConstraints(spec.ca.nameConstraints) }),
    validitySeconds: spec.validitySeconds,
  });
}

/** The error `fn` throws (failing the property if it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a SpecError, but nothing was thrown');
}

function expectSpecError(fn: () => unknown, field: string): void {
  const err = thrown(fn);
  if (!(err instanceof SpecError)) throw new Error(`expected a SpecError on ${field}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  expect(err.field).toBe(field);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries for valid values

/** Well-formed Unicode (any code point but lone surrogates), or plain ASCII; control characters (C0, DEL, C1) become "x". */
const text = (minLength: number, maxLength: number) =>
  fc.oneof(fc.string({ unit: 'binary', minLength, maxLength }), fc.string({ minLength, maxLength })).map((s) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, 'x'));
const nonSpaceChar = text(1, 1).filter((c) => /\S/u.test(c));
/** A subject value: not blank, up to `maxLength` code points. */
const subjectText = (maxLength: number) => fc.tuple(text(0, Math.floor((maxLength - 1) / 2)), nonSpaceChar, text(0, Math.floor((maxLength - 1) / 2))).map(([a, b, c]) => a + b + c);
const commonName = subjectText(64);

const subject = fc.record(
  {
    commonName,
    organizations: fc.array(subjectText(64), { maxLength: 3 }),
    organizationalUnits: fc.array(subjectText(64), { maxLength: 2 }),
    country: fc.stringMatching(/^[A-Z]{2}$/),
    province: subjectText(128),
    locality: subjectText(128),
  },
  { requiredKeys: ['commonName'] },
);

const dnsLabel = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9][-a-z0-9]{61}[a-z0-9]$/) }, // exactly 63
);
/** A host a browser takes as a domain: the WHATWG host parser neither refuses it nor reads it as an IPv4 address. */
function isWhatwgDomain(name: string): boolean {
  return URL.canParse(`http://${name}/`) && net.isIP(new URL(`http://${name}/`).hostname) === 0;
}
const dnsDomain = fc
  .array(dnsLabel, { minLength: 1, maxLength: 5 })
  .map((labels) => labels.join('.'))
  .filter((name) => name.length <= 251 && isWhatwgDomain(name)); // leaves room for "*."
const dnsName = fc.tuple(fc.boolean(), dnsDomain).map(([wildcard, name]) => (wildcard ? `*.${name}` : name));

/** IPv6 written every way node accepts: leading zeros, upper case, any zero run compressed (not only the longest). */
const spelledIpv6 = fc
  .record({
    groups: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) }), {
      minLength: 8,
      maxLength: 8,
    }),
    pad: fc.boolean(),
    upper: fc.boolean(),
    compress: fc.nat(),
  })
  .map(({ groups, pad, upper, compress }) => {
    let hex = groups.map((g) => g.toString(16).padStart(pad ? 4 : 1, '0'));
    if (upper) hex = hex.map((g) => g.toUpperCase());
    const runs: [number, number][] = [];
    for (let i = 0; i < 8; i++) {
      if (groups[i] !== 0) continue;
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      for (let end = i + 1; end <= j; end++) runs.push([i, end]);
    }
    if (runs.length === 0 || compress % 3 === 0) return hex.join(':');
    const [start, end] = runs[compress % runs.length];
    return `${hex.slice(0, start).join(':')}::${hex.slice(end).join(':')}`;
  });
const ipv6 = fc.oneof(fc.ipV6(), spelledIpv6);
const ipAddress = fc.oneof(fc.ipV4(), ipv6);

const uri = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(dnsDomain, fc.array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { maxLength: 4 })).map(([d, p]) => `spiffe://${d}/${p.join('/')}`),
  fc.stringMatching(/^urn:[a-z]{1,8}:[a-z0-9.:-]{1,20}$/),
);

const sans = fc.record(
  {
    dnsNames: fc.array(dnsName, { maxLength: 4 }),
    ipAddresses: fc.array(ipAddress, { maxLength: 4 }),
    uris: fc.array(uri, { maxLength: 2 }),
    emails: fc.array(fc.emailAddress(), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const LEAF_KEY_USAGES = KEY_USAGES.filter((u) => u !== 'keyCertSign' && u !== 'cRLSign');
const EXTENDED_KEY_USAGES: ExtendedKeyUsageName[] = ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'ocspSigning'];

const cidr = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })),
  fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })),
).map(([ip, prefix]) => normalizeCidr(`${ip}/${prefix}`)); // a network address: host bits set are refused

const nameConstraints = fc.record(
  {
    permittedDnsDomains: fc.array(dnsDomain, { maxLength: 3 }),
    excludedDnsDomains: fc.array(dnsDomain, { maxLength: 3 }),
    permittedIpRanges: fc.array(cidr, { maxLength: 3 }),
    excludedIpRanges: fc.array(cidr, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

/** An issuing time under the roots, and a validity that ends no later than they do. */
const timing = fc.integer({ min: ROOT_ISSUED_AT.getTime(), max: ROOT_ISSUED_AT.getTime() + 60 * 365 * DAY * 1000 }).chain((nowMs) => {
  const issued = seconds(nowMs);
  const max = seconds(MAX_X509_TIME) - issued;
  const around2050 = seconds(Date.UTC(2050, 0, 1)) - issued; // the UTCTime/GeneralizedTime switch
  return fc.record({
    now: fc.constant(new Date(nowMs)),
    validitySeconds: fc.oneof(
      fc.integer({ min: 60, max: 400 * DAY }),
      fc.integer({ min: 60, max }),
      fc.constant(max),
      fc.integer({ min: -2, max: 2 }).map((d) => Math.max(60, around2050 + d)),
    ),
  });
});

const leafSpecParts = fc.record(
  {
    subject,
    sans,
    keyUsage: fc.shuffledSubarray(LEAF_KEY_USAGES, { minLength: 1 }),
    extendedKeyUsage: fc.shuffledSubarray(EXTENDED_KEY_USAGES),
  },
  { requiredKeys: ['subject'] },
);

const caSpecParts = fc.record(
  {
    subject,
    sans,
    keyUsage: fc.shuffledSubarray([...KEY_USAGES], { minLength: 1 }),
    extendedKeyUsage: fc.constant([] as ExtendedKeyUsageName[]),
    ca: fc.record({ pathLength: fc.integer({ min: 0, max: 16 }), nameConstraints }, { requiredKeys: [] }),
  },
  { requiredKeys: ['subject', 'ca'] },
);

const root = fc.constantFrom(...ROOTS);
const subjectKey = fc.constantFrom(...SUBJECT_KEYS);

// ---------------------------------------------------------------------------------------------
// Shared check: what was issued is what was asked

function checkIssued(certificate: Certificate, spec: CertificateSpec, key: SubjectKey, issuer: Root, now: Date): void {
  const parsed = Certificate.fromPem(certificate.pem);
  expect(parsed.der.equals(certificate.der)).toBe(true);
  expect(parsed.pem).toBe(certificate.pem);

  const described = parsed.describe();
  const expected = normalize(spec, key.algorithm);
  expect(normalize(described.spec, key.algorithm)).toEqual(expected);
  expect(parsed.subject).toEqual(expected.subject);
  expect(parsed.issuer).toEqual(issuer.certificate.subject);
  expect(parsed.isCA).toBe(!!spec.ca);
  expect(parsed.pathLength).toBe(spec.ca?.pathLength);
  expect(parsed.sans).toEqual(expected.sans);
  expect(parsed.keyUsage).toEqual(expected.keyUsage);
  expect(parsed.extendedKeyUsage).toEqual(expected.extendedKeyUsage ?? []);

  expect(parsed.isSignedBy(issuer.key)).toBe(true);
  expect(parsed.isSignedBy(OTHER_KEY)).toBe(false);
  expect(parsed.spkiDer.equals(crypto.createPublicKey(key.key).export({ type: 'spki', format: 'der' }))).toBe(true);

  // RFC 5280 §4.1.2.2 / CA/B BR: positive, at least 64 random bits, at most 20 octets, minimal DER.
  const serial = Buffer.from(parsed.serialNumberHex, 'hex');
  expect(serial.length).toBeGreaterThanOrEqual(8);
  expect(serial.length).toBeLessThanOrEqual(20);
  expect(serial[0] & 0x80).toBe(0);
  expect(serial.some((b) => b !== 0)).toBe(true);
  expect(serial[0] === 0 && (serial[1] & 0x80) === 0).toBe(false);

  const issuedAt = seconds(now.getTime()) * 1000;
  expect(described.notBefore.getTime()).toBe(issuedAt - BACKDATE_SECONDS * 1000);
  expect(described.notAfter.getTime()).toBe(issuedAt + spec.validitySeconds * 1000);
  expect(parsed.notBefore.getTime()).toBe(described.notBefore.getTime());
  expect(parsed.notAfter.getTime()).toBe(described.notAfter.getTime());
}

// ---------------------------------------------------------------------------------------------

describe('fixtures', () => {
  test('the roots last until 9999-12-31T23:59:59Z and are self-signed', () => {
    for (const r of ROOTS) {
      expect(r.certificate.notAfter.getTime()).toBe(MAX_X509_TIME);
      expect(r.certificate.isSelfSigned).toBe(true);
    }
  });
});

describe('property 1: a leaf certificate says exactly what its spec asked', () => {
  test('random valid leaf specs round-trip through PEM and describe()', () => {
    fc.assert(
      fc.property(leafSpecParts, timing, subjectKey, root, (parts, { now, validitySeconds }, key, issuer) => {
        const spec: CertificateSpec = { ...parts, validitySeconds };
        expect(validateCertificateSpec(spec)).toBe(spec);
        const certificate = issueCertificate(spec, key.key, { privateKey: issuer.key, certificate: issuer.certificate }, now);
        checkIssued(certificate, spec, key, issuer, now);
      }),
      { numRuns: 200 },
    );
  });

  test('canonicalIp is RFC 5952 text (as the WHATWG URL serializer writes it) and leaves IPv4 alone', () => {
    fc.assert(
      fc.property(ipAddress, (ip) => {
        const canonical = canonicalIp(ip);
        expect(canonical).toBe(net.isIPv4(ip) ? ip : whatwgIpv6(ip));
        expect(canonicalIp(canonical)).toBe(canonical);
        expect(net.isIP(canonical)).toBe(net.isIP(ip));
      }),
      { numRuns: 500 },
    );
  });
});

describe('property 2: a CA certificate says exactly what its spec asked', () => {
  test('random valid CA specs (pathLength, name constraints) round-trip', () => {
    fc.assert(
      fc.property(caSpecParts, timing, subjectKey, root, (parts, { now, validitySeconds }, key, issuer) => {
        const spec: CertificateSpec = { ...parts, validitySeconds };
        expect(validateCertificateSpec(spec)).toBe(spec);
        const certificate = issueCertificate(spec, key.key, { privateKey: issuer.key, certificate: issuer.certificate }, now);
        checkIssued(certificate, spec, key, issuer, now);
        expect(normalizeNameConstraints(certificate.nameConstraints)).toEqual(normalizeNameConstraints(spec.ca!.nameConstraints));
      }),
      { numRuns: 150 },
    );
  });

  // RFC 5280 §4.2.1.10: "either the permittedSubtrees field or the excludedSubtrees MUST be present", and
  // Go's crypto/x509 refuses to parse the certificate otherwise ("x509: empty name constraints extension").
  test('a CA never carries an empty NameConstraints extension', () => {
    const issuer = ROOTS[0];
    fc.assert(
      fc.property(
        fc.record(
          {
            permittedDnsDomains: fc.constant([] as string[]),
            excludedDnsDomains: fc.constant([] as string[]),
            permittedIpRanges: fc.constant([] as string[]),
            excludedIpRanges: fc.constant([] as string[]),
          },
          { requiredKeys: [] },
        ),
        (nc) => {
          const spec: CertificateSpec = { subject: { commonName: 'constrained' }, ca: { nameConstraints: nc }, validitySeconds: DAY };
          const key = SUBJECT_KEYS[0].key;
          let certificate: Certificate;
          try {
            certificate = issueCertificate(spec, key, { privateKey: issuer.key, certificate: issuer.certificate }, ROOT_ISSUED_AT);
          } catch (err) {
            // Refusing it is fine too, as long as the error names the field.
            expect(err).toBeInstanceOf(SpecError);
            expect((err as SpecError).field.startsWith('ca.nameConstraints')).toBe(true);
            return;
          }
          const names = certificate.nameConstraints;
          expect(names === undefined || Object.keys(names).length > 0).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Invalid values

/** Strings net.isIP refuses. */
const badIp = fc.oneof(
  fc.constantFrom('300.1.1.1', '1.2.3', '1.2.3.4.5', 'fe80:::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '01.2.3.4', '1.2.3.4/32', ' 1.2.3.4', '::g', '', 'localhost'),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 256, max: 999 })).map(([ip, i, v]) => {
    const parts = ip.split('.');
    parts[i] = String(v);
    return parts.join('.');
  }),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 3 })).map(([ip, drop1]) => ip.split('.').filter((_, i) => i !== drop1).join('.')),
  fc.ipV6().map((ip) => `${ip}:::`),
  fc.string().filter((s) => net.isIP(s) === 0),
);

/** Strings the DNS-name rule refuses, each for one reason. */
const badDnsName = fc.oneof(
  fc.constantFrom('', '.', 'a..b', 'a.b.', '.a', '*', '*.', '*.*.a', 'a.*.b', '-a', 'a-', 'a.-b', 'a_b', 'A', 'a b', 'xn--ä', 'a/b', '**.a'),
  dnsDomain.filter((d) => /[a-z]/.test(d)).map((d) => d.replace(/[a-z]/, (c) => c.toUpperCase())),
  fc.tuple(dnsDomain, fc.nat()).map(([d, i]) => `${d.slice(0, i % (d.length + 1))}_${d.slice(i % (d.length + 1))}`),
  dnsDomain.map((d) => `-${d}`),
  dnsDomain.map((d) => `${d}-`),
  fc.stringMatching(/^[a-z0-9]{64,80}$/).map((label) => `${label}.example`),
  fc.array(fc.stringMatching(/^[a-z0-9]{63}$/), { minLength: 4, maxLength: 5 }).map((labels) => labels.join('.')), // > 253
);

const WHITESPACE = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2000', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
const badCommonName = fc.oneof(
  fc.constant(''),
  fc.array(fc.constantFrom(...WHITESPACE), { minLength: 1, maxLength: 10 }).map((s) => s.join('')),
  fc.string({ unit: 'binary', minLength: 65, maxLength: 80 }),
);

const validIps = fc.array(ipAddress, { maxLength: 3 });
const validDnsNames = fc.array(dnsName, { maxLength: 3 });

describe('property 3: invalid input is a SpecError naming the offending field, never another error', () => {
  const issuer = ROOTS[0];
  const sign = (spec: unknown, key: crypto.KeyObject = SUBJECT_KEYS[0].key, now = ROOT_ISSUED_AT) =>
    issueCertificate(spec as CertificateSpec, key, { privateKey: issuer.key, certificate: issuer.certificate }, now);

  test('a bad IP address names sans.ipAddresses[i]', () => {
    fc.assert(
      fc.property(validIps, badIp, validIps, leafSpecParts, (before, bad, after, parts) => {
        const spec = { ...parts, sans: { ...parts.sans, ipAddresses: [...before, bad, ...after] }, validitySeconds: DAY };
        const field = `sans.ipAddresses[${before.length}]`;
        expectSpecError(() => validateCertificateSpec(spec), field);
        expectSpecError(() => sign(spec), field);
      }),
      { numRuns: 200 },
    );
  });

  test('a bad DNS name names sans.dnsNames[i]', () => {
    fc.assert(
      fc.property(validDnsNames, badDnsName, validDnsNames, leafSpecParts, (before, bad, after, parts) => {
        const spec = { ...parts, sans: { ...parts.sans, dnsNames: [...before, bad, ...after] }, validitySeconds: DAY };
        const field = `sans.dnsNames[${before.length}]`;
        expectSpecError(() => validateCertificateSpec(spec), field);
        expectSpecError(() => sign(spec), field);
      }),
      { numRuns: 200 },
    );
  });

  test('an empty subject, or an empty, blank or over-long commonName, names subject.commonName', () => {
    fc.assert(
      fc.property(leafSpecParts, fc.option(badCommonName, { nil: undefined }), (parts, cn) => {
        const { commonName: _ignored, ...rest } = parts.subject;
        const spec = { ...parts, subject: cn === undefined ? rest : { ...rest, commonName: cn }, validitySeconds: DAY };
        expectSpecError(() => validateCertificateSpec(spec), 'subject.commonName');
        expectSpecError(() => sign(spec), 'subject.commonName');
      }),
      { numRuns: 150 },
    );
  });

  // A lone UTF-16 surrogate has no UTF-8 encoding, so no UTF8String can hold it.
  test('a subject attribute with a lone surrogate names that attribute', () => {
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(
        fc.constantFrom('commonName', 'organizations', 'organizationalUnits', 'province', 'locality'),
        fc.string({ maxLength: 5 }),
        loneSurrogate,
        fc.string({ maxLength: 5 }),
        (attribute, a, s, b) => {
          const value = `x${a}${s}${b}`;
          const listed = attribute === 'organizations' || attribute === 'organizationalUnits';
          const spec = { subject: { commonName: 'cn', [attribute]: listed ? [value] : value }, validitySeconds: DAY };
          expectSpecError(() => sign(spec), listed ? `subject.${attribute}[0]` : `subject.${attribute}`);
        },
      ),
      { numRuns: 50 },
    );
  });

  // rfc822Name and uniformResourceIdentifier are IA5Strings (ASCII): anything else is silently mangled, and Go
  // refuses the certificate ("x509: SAN rfc822Name is malformed").
  test('a non-ASCII email or URI names sans.emails[i] / sans.uris[i]', () => {
    const nonAscii = fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((s) => /[^\x00-\x7f]/.test(s) && /^[^\s@]+$/u.test(s));
    fc.assert(
      fc.property(fc.boolean(), nonAscii, fc.array(fc.emailAddress(), { maxLength: 2 }), (isEmail, unicode, emails) => {
        const bad = isEmail ? `a${unicode}@example.com` : `https://example.com/${unicode}`;
        const spec = { subject: { commonName: 'cn' }, sans: isEmail ? { emails: [...emails, bad] } : { uris: [bad] }, validitySeconds: DAY };
        expectSpecError(() => sign(spec), isEmail ? `sans.emails[${emails.length}]` : 'sans.uris[0]');
      }),
      { numRuns: 100 },
    );
  });

  test('an RSA key under 2048 bits names key', () => {
    fc.assert(
      fc.property(leafSpecParts, (parts) => {
        const spec: CertificateSpec = { ...parts, validitySeconds: DAY };
        expectSpecError(() => sign(spec, RSA_1024), 'key');
      }),
      { numRuns: 50 },
    );
  });

  describe('a validity that ends after the issuer names validitySeconds', () => {
    // A short-lived intermediate under the root: leaves issued under it must end by its notAfter.
    const intermediateKey = generateKey('ecdsa-p256');
    const intermediateIssuedAt = new Date('2026-03-01T12:00:00Z');
    const intermediate = issueCertificate(
      { subject: { commonName: 'intermediate' }, ca: { pathLength: 0 }, validitySeconds: 30 * DAY },
      intermediateKey,
      { privateKey: issuer.key, certificate: issuer.certificate },
      intermediateIssuedAt,
    );
    const nowArb = fc.integer({ min: intermediateIssuedAt.getTime(), max: intermediate.notAfter.getTime() - 61_000 }).map((ms) => new Date(ms));
    const remaining = (now: Date) => (intermediate.notAfter.getTime() - seconds(now.getTime()) * 1000) / 1000;

    test('by a little or by years (a valid date)', () => {
      fc.assert(
        fc.property(leafSpecParts, nowArb, fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 * 365 * DAY })), (parts, now, excess) => {
          const spec: CertificateSpec = { ...parts, validitySeconds: Math.max(60, remaining(now) + excess) };
          expectSpecError(
            () => issueCertificate(spec, SUBJECT_KEYS[1].key, { privateKey: intermediateKey, certificate: intermediate }, now),
            'validitySeconds',
          );
          // The last second that fits is fine.
          const fits = issueCertificate({ ...spec, validitySeconds: remaining(now) }, SUBJECT_KEYS[1].key, { privateKey: intermediateKey, certificate: intermediate }, now);
          expect(fits.notAfter.getTime()).toBe(intermediate.notAfter.getTime());
        }),
        { numRuns: 100 },
      );
    });

    test('by any amount, up to Number.MAX_SAFE_INTEGER seconds', () => {
      fc.assert(
        fc.property(
          leafSpecParts,
          nowArb,
          fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
          (parts, now, excess) => {
            const validitySeconds = Math.min(Number.MAX_SAFE_INTEGER, remaining(now) + excess);
            const spec: CertificateSpec = { ...parts, validitySeconds };
            expectSpecError(
              () => issueCertificate(spec, SUBJECT_KEYS[1].key, { privateKey: intermediateKey, certificate: intermediate }, now),
              'validitySeconds',
            );
          },
        ),
        { numRuns: 100 },
      );
    });
  });

  // A self-signed certificate has no issuer to bound it, but X.509 Time still ends at 9999-12-31T23:59:59Z.
  test('a self-signed validity past what X.509 Time can encode names validitySeconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), subjectKey, (excess, key) => {
        const validitySeconds = Math.min(Number.MAX_SAFE_INTEGER, seconds(MAX_X509_TIME) - seconds(ROOT_ISSUED_AT.getTime()) + excess);
        const spec: CertificateSpec = { subject: { commonName: 'forever' }, ca: {}, validitySeconds };
        expectSpecError(() => issueCertificate(spec, key.key, { privateKey: key.key }, ROOT_ISSUED_AT), 'validitySeconds');
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property 4: a failed ensure() leaves nothing behind for commit()


describe('property 4: no half-written state', () => {
  const CA_VALIDITY = 30 * DAY;
  const caRequest = { slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256' as const, spec: { subject: { commonName: 'cluster-ca' }, ca: {}, validitySeconds: CA_VALIDITY } };
  const issuerOf = (c: { certificate: Certificate; privateKey: crypto.KeyObject; chain: Certificate[] }): Issuer => ({
    certificate: c.certificate,
    privateKey: c.privateKey,
    chain: c.chain,
  });

  test('a valid ensure()+commit(), then an invalid ensure() and commit(), leaves the directory as the first commit left it', () => {
    fc.assert(
      fc.property(
        leafSpecParts,
        fc.integer({ min: 60, max: CA_VALIDITY }),
        fc.constantFrom<KeyAlgorithm>('ecdsa-p256', 'ed25519'),
        fc.record({
          slot: fc.constantFrom('same', 'new'),
          fault: fc.oneof(
            badIp.map((ip) => ({ kind: 'ip' as const, ip })),
            badDnsName.map((name) => ({ kind: 'dns' as const, name })),
            fc.constant({ kind: 'cn' as const }),
            fc.integer({ min: 1, max: 3650 * DAY }).map((excess) => ({ kind: 'validity' as const, excess })),
          ),
          sameStateObject: fc.boolean(),
        }),
        fc.integer({ min: 0, max: 86_399_999 }),
        (parts, validitySeconds, keyAlgorithm, { slot, fault, sameStateObject }, offsetMs) => {
          const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-pki-property-'));
          const dir = path.join(tmp, '.pki');
          const now = new Date(Date.parse('2026-03-01T00:00:00Z') + offsetMs);
          const open = () => PkiState.inDirectory(dir, { clock: () => now });
          try {
            const first = open();
            const ca = first.ensure(caRequest);
            const leafRequest = { slot: 'cluster/leaf', keyAlgorithm, spec: { ...parts, validitySeconds }, issuer: issuerOf(ca) };
            const leaf = first.ensure(leafRequest);
            first.commit();
            const committed = snapshotDir(dir);

            const second = sameStateObject ? first : open();
            const issuer = sameStateObject ? issuerOf(ca) : issuerOf(second.ensure(caRequest));
            const badSpec: CertificateSpec = (() => {
              switch (fault.kind) {
                case 'ip':
                  return { ...parts, sans: { ...parts.sans, ipAddresses: [fault.ip] }, validitySeconds };
                case 'dns':
                  return { ...parts, sans: { ...parts.sans, dnsNames: [fault.name] }, validitySeconds };
                case 'cn':
                  return { ...parts, subject: { ...parts.subject, commonName: ' ' }, validitySeconds };
                case 'validity':
                  return { ...parts, validitySeconds: (ca.certificate.notAfter.getTime() - seconds(now.getTime()) * 1000) / 1000 + fault.excess };
              }
            })();
            const field = { ip: 'sans.ipAddresses[0]', dns: 'sans.dnsNames[0]', cn: 'subject.commonName', validity: 'validitySeconds' }[fault.kind];
            const badSlot = slot === 'same' ? 'cluster/leaf' : 'cluster/other';
            expectSpecError(() => second.ensure({ slot: badSlot, keyAlgorithm, spec: badSpec, issuer }), field);
            second.commit();
            expect(snapshotDir(dir)).toEqual(committed);

            const fresh = open();
            const again = fresh.ensure({ ...leafRequest, issuer: issuerOf(fresh.ensure(caRequest)) });
            expect(again.certificate.pem).toBe(leaf.certificate.pem);
            expect(again.privateKey.export({ type: 'pkcs8', format: 'der' }).equals(leaf.privateKey.export({ type: 'pkcs8', format: 'der' }))).toBe(true);
            expect(fresh.pendingChanges()).toEqual([]);
          } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
