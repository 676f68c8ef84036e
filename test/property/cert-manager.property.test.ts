// certManager.Certificate and Issuer props and RancherIngressTLS props: valid values land in the manifest as given,
// invalid ones are refused naming the prop; the oracles are WHATWG URL, node:net and the name rules restated here.
import fc from 'fast-check';
import { certManager, RancherIngressTLS, RancherIngressTLSProps } from '../../constructs';
import { checkFamily, dnsName, duration, ipAddress, isValidDnsName, Judged, listWith, mutate, mutateList, PropCase, validDnsName } from './props-harness';

type CertificateProps = Omit<certManager.CertificateProps, 'issuer'>;

const validCertificate: fc.Arbitrary<CertificateProps> = fc.record(
  { dnsNames: fc.array(validDnsName, { minLength: 1, maxLength: 3 }), commonName: fc.stringMatching(/^[a-z][a-z0-9.-]{0,30}$/) },
  { requiredKeys: ['dnsNames'] },
);

/** URIs, judged: ASCII without spaces or controls, a scheme, and what the WHATWG parser accepts. */
const uri: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.webUrl(), fc.constantFrom('spiffe://cluster.local/ns/a/sa/b', 'urn:example:a', 'not a uri', '/relative/path', 'https://bücher.example/', 'https://a b/', 'spiffe://', 'mailto:ops@example.com', ''), fc.string({ maxLength: 10 }))
  .map((value) => ({ value, valid: /^[\x21-\x7e]+$/.test(value) && /^[a-z][a-z0-9+.-]*:./i.test(value) && URL.canParse(value) }));

const commonName: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.stringMatching(/^[a-z][a-z0-9.-]{0,70}$/), fc.constantFrom('ä'.repeat(33), 'a'.repeat(64)))
  .map((value) => ({ value, valid: Buffer.byteLength(value) <= 64 }));

const certificateCases: fc.Arbitrary<PropCase<CertificateProps>> = fc.oneof(
  mutate(validCertificate, { commonName, duration: duration(3600, 9_223_372_036) }),
  mutateList(validCertificate, 'dnsNames', listWith(validDnsName, dnsName)),
  mutateList(validCertificate, 'ipAddresses', listWith(fc.ipV4(), ipAddress)),
  mutateList(validCertificate, 'uris', listWith(fc.constant('spiffe://cluster.local/a'), uri)),
);

describe('certManager.Certificate: every prop value is written as given or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: certificateCases,
      setup: (chart) => new certManager.ClusterIssuer(chart, 'issuer', { selfSigned: true }),
      build: (chart, props, issuer) => new certManager.Certificate(chart, 'certificate', { ...props, issuer }),
      verify: (certificate, props) => {
        const spec = certificate.apiObject.toJson().spec;
        expect(spec.dnsNames).toEqual(props.dnsNames);
        expect(spec.ipAddresses).toEqual(props.ipAddresses);
        expect(spec.uris).toEqual(props.uris);
      },
      numRuns: 200,
    });
  });
});

/** ACME directory URLs, judged by WHATWG URL: https, a host written as the parser keeps it, a port 1–65535 without a leading zero, no credentials, query or fragment. */
const acmeServer: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(
    fc.webUrl({ validSchemes: ['https'] }),
    fc.constantFrom('letsencrypt-production', 'letsencrypt-staging', 'letsencrypt', 'http://acme.example/directory', 'https://acme.example:06443/directory', 'https://ACME.example/dir', 'https://user:pw@acme.example/', 'https://acme.example/dir?x=1', 'https://10.0.0.300/dir', 'https://[fd00::1]/dir', 'https://acme.example:65536/'),
  )
  .map((value) => ({ value, valid: value === 'letsencrypt-production' || value === 'letsencrypt-staging' || isAcmeUrl(value) }));

function isAcmeUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  const authority = /^https:\/\/([^/?#]*)/.exec(value)?.[1] ?? '';
  const port = /:(\d*)$/.exec(authority.replace(/^\[.*\]/, ''))?.[1];
  const host = authority.replace(/:\d*$/, '');
  const hostOk = host.startsWith('[') ? url.hostname === host : isValidDnsName(host) && !host.startsWith('*');
  return url.protocol === 'https:' && !url.username && !url.password && !url.search && !url.hash && !value.includes('#') && !value.includes('?') && hostOk && (port === undefined || (/^[1-9]\d{0,4}$/.test(port) && Number(port) <= 65535));
}

const issuerCases: fc.Arbitrary<PropCase<certManager.ClusterIssuerProps>> = fc.oneof(
  acmeServer.map(({ value, valid }) => ({ props: { acme: { server: value as string, email: 'ops@example.com', solvers: [{ http01: {} }] } }, refused: valid ? undefined : 'acme.server' })),
  fc.constantFrom('selfSigend', 'acmee').map((key) => ({ props: { selfSigned: true, [key]: true }, refused: key })),
);

describe('certManager.ClusterIssuer: every prop value is written as given or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: issuerCases,
      setup: () => undefined,
      build: (chart, props) => new certManager.ClusterIssuer(chart, 'issuer', props),
      verify: (issuer, props) => {
        if (props.acme && URL.canParse(props.acme.server)) expect(issuer.apiObject.toJson().spec.acme.server).toBe(props.acme.server);
      },
      numRuns: 150,
    });
  });
});

const hostname: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(validDnsName, fc.constantFrom('rancher.example.com', '*.example.com', '10.0.0.300', 'Rancher.example', '1.2.3.4'), fc.string({ maxLength: 8 }))
  .map((value) => ({ value, valid: isValidDnsName(value) && !value.startsWith('*') }));

const email: fc.Arbitrary<Judged<unknown>> = fc
  .oneof(fc.constantFrom('ops@example.com', 'Ops <ops@example.com>', 'ops', 'ops@', 'a b@example.com'), fc.emailAddress())
  .map((value) => ({ value, valid: /^[^\s@<>()",;:\\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(value) }));

const rancherCases: fc.Arbitrary<PropCase<RancherIngressTLSProps>> = fc.oneof(
  mutate<RancherIngressTLSProps>(fc.constant({ hostname: 'rancher.example.com', version: '2.12.3', mode: 'letsEncrypt', email: 'ops@example.com' }), { hostname, email }),
);

describe('RancherIngressTLS: every prop value is used as given or refused by name', () => {
  test('generated props', () => {
    checkFamily({
      cases: rancherCases,
      setup: () => undefined,
      build: (chart, props) => new RancherIngressTLS(chart, 'rancher', props),
      verify: (rancher, props) => expect(rancher.valuesFile).toContain(`hostname: ${props.hostname}`),
      numRuns: 150,
    });
  });
});
