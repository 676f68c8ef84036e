// ControlPlanePki's cluster spec, BootstrapToken and CertificateSigningRequest props: valid values are
// accepted and used as given, invalid ones refused naming the field; the oracles are node:net, WHATWG URL and
// node's X509Certificate.
import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import { Duration } from 'cdk8s';
import fc from 'fast-check';
import { ClusterSpec } from '../../src/kubeadm/cluster-spec';
import { BootstrapToken, BootstrapTokenProps, ControlPlanePki, CertificateSigningRequest, CertificateSigningRequestProps } from '../../constructs';
import { checkFamily, dnsName, duration, ipAddress, isNetworkCidr, isValidDnsName, isValidIp, Judged, listWith, mutate, mutateList, NOW, PropCase, subjectText, validDnsName } from './props-harness';

// ---------------------------------------------------------------------------------------------
// ControlPlanePki: the cluster spec

const BASE: ClusterSpec = { nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker', ip: '10.0.1.21' }] };

/** `host[:port]` with hosts and ports of every kind, judged: a DNS name or IP (IPv6 bracketed before a port), a port 1–65535 without a leading zero. */
const endpoint: fc.Arbitrary<Judged<unknown>> = fc
  .tuple(
    fc.oneof(validDnsName.filter((n: string) => !n.startsWith('*')), fc.ipV4(), fc.constantFrom('999.999.999.999', 'API.example', 'api_1.example', '*.example', 'fd00::1', '[fd00::1]', '[10.0.0.1]', 'https://api.example', 'api.example/x', '')),
    fc.option(fc.constantFrom('6443', '06443', '0', '65535', '65536', '443', '', '+1', ' 1'), { nil: undefined }),
  )
  .map(([host, port]) => {
    const bracketed = /^\[(.*)\]$/.exec(host)?.[1];
    const hostOk = bracketed !== undefined ? net.isIPv6(bracketed) : net.isIPv4(host) || (isValidDnsName(host) && !host.startsWith('*')) || (port === undefined && net.isIPv6(host));
    const portOk = port === undefined || (/^[1-9]\d{0,4}$/.test(port) && Number(port) <= 65535);
    const value = port === undefined ? host : `${host}:${port}`;
    // "fd00::1:6443" is a whole IPv6 address: read as kubeadm reads it (net.SplitHostPort fails, ParseIP succeeds).
    return { value, valid: (hostOk && portOk) || net.isIPv6(value) };
  });

/** Service CIDRs, judged: a network address, 4 to 20 host bits (kubeadm's limits), no leading zero in the prefix. */
const serviceSubnet: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(
    fc.tuple(fc.constantFrom('10.96.0.0', '10.96.0.1', '172.16.0.0', '192.168.1.0'), fc.integer({ min: 8, max: 33 })).map(([ip, p]) => `${ip}/${p}`),
    fc.tuple(fc.constantFrom('fd00:10:96::', 'fd00::1'), fc.integer({ min: 100, max: 129 })).map(([ip, p]) => `${ip}/${p}`),
    fc.constantFrom('fd00::/127', '10.96.0.0/012', '10.96.0.0', 'fd00::%eth0/112'),
  )
  .map((value) => {
    const [address, prefix] = value.split('/');
    const hostBits = (net.isIPv4(address) ? 32 : 128) - Number(prefix);
    return { value, valid: isNetworkCidr(value) && hostBits >= 4 && hostBits <= 20 };
  });

const sanList = listWith(fc.constant('lb.example'), fc.oneof(dnsName, ipAddress).map(({ value }) => ({ value, valid: isValidIp(value) || isValidDnsName(value) })));

const clusterCases: fc.Arbitrary<PropCase<ClusterSpec>> = fc.oneof(
  fc.constant({ props: BASE }),
  ipAddress.map(({ value, valid }) => ({ props: { nodes: [{ ...BASE.nodes[0], ip: value as string }, BASE.nodes[1]] }, refused: valid ? undefined : 'nodes[0].ip' })),
  fc.constantFrom('10.0.0.11', '10.0.0.12', '10.0.00.11').map((ip) => ({ props: { nodes: [BASE.nodes[0], { ...BASE.nodes[1], ip }] }, refused: ip === '10.0.0.12' ? undefined : 'nodes[1].ip' })),
  endpoint.map(({ value, valid }) => ({ props: { ...BASE, controlPlaneEndpoint: value as string }, refused: valid ? undefined : 'controlPlaneEndpoint' })),
  serviceSubnet.map(({ value, valid }) => ({ props: { ...BASE, serviceSubnets: [value as string] }, refused: valid ? undefined : 'serviceSubnets[0]' })),
  mutateList(fc.constant(BASE), 'apiServerCertSANs', sanList),
  fc.constantFrom('nodez', 'apiServerCertSans', 'bindport').map((key) => ({ props: { ...BASE, [key]: [] }, refused: key })),
);

describe('ControlPlanePki: every cluster spec value is used as given or refused by name', () => {
  test('generated cluster specs', () => {
    checkFamily({
      cases: clusterCases,
      setup: () => undefined,
      build: (chart, cluster) => new ControlPlanePki(chart, 'pki', { cluster }),
      verify: (pki, cluster) => {
        const apiserver = pki.certificates.find((c) => c.entry.id === 'apiserver');
        const x509 = new X509Certificate(apiserver!.certificatePem);
        for (const node of cluster.nodes.filter((n) => n.role === 'control-plane')) expect(x509.checkIP(node.ip!)).toBeDefined();
        for (const san of cluster.apiServerCertSANs ?? []) expect(net.isIP(san) ? x509.checkIP(san) : x509.checkHost(san.replace(/^\*\./, 'x.'))).toBeDefined();
      },
      numRuns: 60,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// BootstrapToken

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);

const token: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.stringMatching(/^[a-z0-9]{6}\.[a-z0-9]{16}$/), fc.constantFrom('abcdef.0123456789ABCDEF', 'abcdef0123456789abcdef', 'abcde.0123456789abcdef', ''), fc.string({ maxLength: 24 }))
  .map((value) => ({ value, valid: /^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(value) }));

/** Expirations as Dates and strings, judged: an RFC 3339 time after NOW and no later than year 9999. */
const expires: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(
    fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('+012000-01-01T00:00:00Z') }).map((d) => (Number.isNaN(d.getTime()) ? d : d)),
    fc.date({ min: new Date('2026-01-16T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z') }).map((d) => d.toISOString()),
    fc.constantFrom('2027-05-01T00:00:00Z', '2027-05-01', 'May 1, 2027', '2027-13-01T00:00:00Z', 'tomorrow', '2027-05-01T00:00:00+02:00', new Date(NaN), 1_800_000_000_000),
  )
  .map((value) => {
    const time = value instanceof Date ? value.getTime() : typeof value === 'string' && RFC3339.test(value) ? Date.parse(value) : NaN;
    return { value, valid: Number.isFinite(time) && time > NOW.getTime() && time <= LATEST };
  });

const groups = listWith(
  fc.constant('system:bootstrappers:kubeadm:default-node-token'),
  fc.constantFrom('system:bootstrappers:workers', 'system:bootstrappers:', 'system:masters', 'system:bootstrappers:Workers', 'system:bootstrappers:a-').map((value) => ({ value, valid: /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(value) })),
);
/** One or two usages; a duplicate or an unknown one is refused at its index. */
const usageCases: fc.Arbitrary<PropCase<BootstrapTokenProps>> = fc.tuple(fc.boolean(), fc.constantFrom('authentication', 'signing', 'Signing', 'auth')).map(([two, usage]) => {
  const valid = ['authentication', 'signing'].includes(usage) && !(two && usage === 'authentication');
  return { props: { usages: (two ? ['authentication', usage] : [usage]) as BootstrapTokenProps['usages'] }, refused: valid ? undefined : `usages[${two ? 1 : 0}]` };
});

const tokenCases: fc.Arbitrary<PropCase<BootstrapTokenProps>> = fc.oneof(
  mutate<BootstrapTokenProps>(fc.constant({}), {
    token,
    // A ttl of zero, in any unit, is a token that never expires.
    ttl: duration(60, (LATEST - NOW.getTime()) / 1000).map(({ value, valid }) => ({ value, valid: valid || (value as Duration).toMilliseconds({ integral: false }) === 0 })),
    expires,
  }),
  // ttl 0: never expires (valid); a positive ttl under a minute is refused.
  fc.constantFrom(0, 30).map((s) => ({ props: { ttl: Duration.seconds(s) }, refused: s === 0 ? undefined : 'ttl' })),
  mutateList(fc.constant<BootstrapTokenProps>({}), 'groups', groups),
  usageCases,
);

describe('BootstrapToken: every prop value is used as given or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: tokenCases,
      setup: () => undefined,
      build: (chart, props) => new BootstrapToken(chart, 'token', props),
      verify: (t, props) => {
        if (typeof props.token === 'string') expect(t.token).toBe(props.token);
        expect(t.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        if (props.expires !== undefined) expect(t.expiration!.getTime()).toBe(new Date(props.expires).getTime());
        else if (props.ttl !== undefined) expect(t.expiration?.getTime()).toBe(props.ttl.toSeconds() === 0 ? undefined : NOW.getTime() + props.ttl.toSeconds() * 1000);
      },
      numRuns: 250,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// CertificateSigningRequest (a key kept in the state; a custom signer takes any names)

const validCsr: fc.Arbitrary<CertificateSigningRequestProps> = fc.record(
  {
    signerName: fc.constant('example.com/custom'),
    commonName: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    dnsNames: fc.array(validDnsName, { maxLength: 2 }),
    usages: fc.constant<CertificateSigningRequestProps['usages']>(['digital signature', 'client auth']),
  },
  { requiredKeys: ['signerName', 'commonName', 'usages'] },
);

const k8sName: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/), fc.constantFrom('My-CSR', 'a_b', '-a', 'a.', '10.0.0.300', 'a'.repeat(254)), fc.string({ maxLength: 10 }))
  .map((value) => ({ value, valid: value.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value) }));

const expirationSeconds: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.double({ min: 0, max: 5000, noNaN: true }), fc.constantFrom(599, 600, 2 ** 31 - 1, 2 ** 31))
  .map((value) => ({ value, valid: Number.isInteger(value) && value >= 600 && value <= 2 ** 31 - 1 }));

const csrCases = fc.oneof(
  mutate(validCsr, { commonName: subjectText(64), name: k8sName, expirationSeconds }),
  mutateList(validCsr, 'dnsNames', listWith(validDnsName, dnsName)),
  mutateList(validCsr, 'ipAddresses', listWith(fc.ipV4(), ipAddress)),
);

describe('CertificateSigningRequest: every prop value is requested as given or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: csrCases,
      setup: () => undefined,
      build: (chart, props) => new CertificateSigningRequest(chart, 'csr', props),
      verify: (csr, props) => {
        expect(csr.requestPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
        if (props.name !== undefined) expect(csr.name).toBe(props.name);
      },
      numRuns: 200,
    });
  });
});
