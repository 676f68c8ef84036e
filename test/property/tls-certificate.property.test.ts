// TlsCertificate and ClusterCA props: valid values are issued as asked (node's X509Certificate checks the
// names and lifetime), invalid ones are refused naming the prop.
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { ClusterCA, TlsCertificate, TlsCertificateProps, ClusterCAProps } from '../../constructs';
import { checkFamily, dnsName, duration, ipAddress, isNetworkCidr, Judged, listWith, mutate, mutateList, NOW, subjectText, validDnsName } from './props-harness';

// X.509 times end at 9999-12-31T23:59:59Z (RFC 5280 §4.1.2.5): the longest validity a certificate issued now can have.
const LAST_X509_SECONDS = (Date.UTC(9999, 11, 31, 23, 59, 59) - NOW.getTime()) / 1000;

const CA_SECONDS = 87600 * 3600;

const validLeaf: fc.Arbitrary<Omit<TlsCertificateProps, 'ca'>> = fc.record(
  {
    commonName: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    dnsNames: fc.array(validDnsName, { maxLength: 3 }),
    ipAddresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 3 }),
    usage: fc.constantFrom('server' as const, 'client' as const, 'peer' as const),
  },
  { requiredKeys: ['commonName'] },
);

const usage: fc.Arbitrary<Judged<unknown>> = fc.constantFrom('server', 'client', 'peer', 'Server', 'both', '', 5).map((value) => ({ value, valid: ['server', 'client', 'peer'].includes(value as string) }));

const leafCases = fc.oneof(
  mutate(validLeaf, { commonName: subjectText(64), usage, validity: duration(60, CA_SECONDS), renewBefore: duration(60, 8760 * 3600 - 1) }),
  mutateList(validLeaf, 'dnsNames', listWith(validDnsName, dnsName)),
  mutateList(validLeaf, 'ipAddresses', listWith(fc.ipV4(), ipAddress)),
);

describe('TlsCertificate: every prop value is issued as asked or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: leafCases,
      setup: (chart) => new ClusterCA(chart, 'ca'),
      build: (chart, props, ca) => new TlsCertificate(chart, 'leaf', { ...props, ca }),
      verify: (leaf, props) => {
        const x509 = new X509Certificate(leaf.certificatePem);
        for (const name of props.dnsNames ?? []) expect(x509.checkHost(name.replace(/^\*\./, 'x.'))).toBeDefined();
        for (const ip of props.ipAddresses ?? []) expect(x509.checkIP(ip)).toBeDefined();
        const seconds = (new Date(x509.validTo).getTime() - NOW.getTime()) / 1000;
        expect(seconds).toBe(props.validity ? props.validity.toSeconds() : 8760 * 3600);
      },
      numRuns: 250,
    });
  });
});

const validCa: fc.Arbitrary<ClusterCAProps> = fc.record(
  {
    commonName: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 -]{0,20}$/),
    organizations: fc.array(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,10}$/), { maxLength: 2 }),
    country: fc.constantFrom('DE', 'US', 'FR'),
    pathLength: fc.integer({ min: 0, max: 3 }),
  },
  { requiredKeys: [] },
);

const country: fc.Arbitrary<Judged<unknown>> = fc.oneof(fc.constantFrom('DE', 'de', 'Germany', 'D', '', 'ÄB', 1), fc.string({ maxLength: 3 })).map((value) => ({ value, valid: typeof value === 'string' && /^[A-Z]{2}$/.test(value) }));
const pathLength: fc.Arbitrary<Judged<unknown>> = fc.oneof(fc.integer({ min: -2, max: 20 }), fc.double({ min: 0, max: 3, noNaN: true }), fc.constant('1')).map((value) => ({ value, valid: Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 16 }));

/** CIDRs, judged by the WHATWG parser and node:net: a network address (no host bits) and a prefix within the family, no leading zero. */
const cidr: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 33 })).map(([ip, p]) => `${ip}/${p}`),
    fc.constantFrom('10.0.0.0/8', '10.0.0.1/8', '10.0.0.0/08', 'fd00::/8', 'fd00::1/64', 'fd00::/129', 'fd00::%eth0/64', '10.0.0.0', '0.0.0.0/0', '192.168.0.0/16'),
  )
  .map((value) => ({ value, valid: isNetworkCidr(value) }));

const caCases = fc.oneof(
  mutate(validCa, { commonName: subjectText(64), country, pathLength, validity: duration(60, LAST_X509_SECONDS), province: subjectText(128) }),
  mutateList(validCa, 'dnsNames', listWith(validDnsName, dnsName)),
  mutateList(validCa, 'organizations', listWith(fc.constant('ops'), subjectText(64))),
  fc.tuple(validCa, listWith(fc.constant('10.0.0.0/8'), cidr)).map(([props, { value, valid, index }]) => ({
    props: { ...props, nameConstraints: { permittedIpRanges: value as string[] } },
    refused: valid ? undefined : `nameConstraints.permittedIpRanges[${index}]`,
  })),
);

describe('ClusterCA: every prop value is issued as asked or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: caCases,
      setup: () => undefined,
      build: (chart, props) => new ClusterCA(chart, 'ca', props),
      verify: (ca, props) => {
        const x509 = new X509Certificate(ca.certificatePem);
        expect(x509.ca).toBe(true);
        if (props.country) expect(x509.subject).toContain(`C=${props.country}`);
        for (const name of props.dnsNames ?? []) expect(x509.checkHost(name.replace(/^\*\./, 'x.'))).toBeDefined();
      },
      numRuns: 200,
    });
  });
});
