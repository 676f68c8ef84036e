// Each value the props fuzzing found escaping as a stack trace or accepted though wrong, as a user writes it: now
// one clean line naming the construct and the prop.
import { Chart, Duration, Testing } from 'cdk8s';
import { ApiServerCert, BootstrapToken, certManager, ClusterCA, ControlPlanePki, PkiState, SpecError, TlsCertificate, usePkiState } from '../../constructs';

function errorOf(build: (chart: Chart) => void): string {
  const app = Testing.app();
  usePkiState(app, PkiState.inMemory({ clock: () => new Date('2026-01-15T09:00:00Z'), seed: 'findings' }));
  try {
    build(new Chart(app, 'test'));
  } catch (err) {
    if (err instanceof SpecError) return err.message;
    throw err;
  }
  throw new Error('accepted');
}

const NODES = [{ name: 'cp-1', role: 'control-plane' as const, ip: '10.0.0.11' }];

test.each<[string, (chart: Chart) => void, string]>([
  ['a Duration with milliseconds', (c) => new ClusterCA(c, 'ca', { validity: Duration.millis(1500) }), 'test/ca: validity: must be a whole number of seconds, at least 60 (got 1500 ms)'],
  ['an IPv6 address with a zone', (c) => new TlsCertificate(c, 'tls', { ca: new ClusterCA(c, 'ca'), commonName: 'x', ipAddresses: ['fd00::1%eth0'] }), 'test/tls: ipAddresses[0]: "fd00::1%eth0" has a zone ID, which no certificate can carry: write the bare address'],
  ['an IP-looking DNS name', (c) => new TlsCertificate(c, 'tls', { ca: new ClusterCA(c, 'ca'), commonName: 'x', dnsNames: ['10.0.0.300'] }), 'test/tls: dnsNames[0]: "10.0.0.300" is not a valid DNS name (lower-case RFC 1123, optional leading "*.", not ending in a number)'],
  ['an expiration that is no time', (c) => new BootstrapToken(c, 'token', { expires: new Date(8.64e15 + 1) }), 'test/token: expires: is an invalid Date'],
  ['an expiration after year 9999', (c) => new BootstrapToken(c, 'token', { expires: '+10000-01-01T00:00:00Z' }), 'test/token: expires: "+10000-01-01T00:00:00Z" is not an RFC 3339 time such as "2026-05-01T00:00:00Z"'],
  ['two nodes with one IP', (c) => new ControlPlanePki(c, 'pki', { cluster: { nodes: [...NODES, { name: 'w-1', role: 'worker', ip: '10.0.0.11' }] } }), 'test/pki: nodes[1].ip: "10.0.0.11" is already the address of nodes[0].ip'],
  ['an endpoint host that is no address', (c) => new ControlPlanePki(c, 'pki', { cluster: { nodes: NODES, controlPlaneEndpoint: '999.999.999.999' } }), 'test/pki: controlPlaneEndpoint: "999.999.999.999" has a host that is neither an IP address nor a lower-case DNS name (no wildcard); write host or host:port, e.g. "api.example.com:6443"'],
  ['a wildcard endpoint', (c) => new ControlPlanePki(c, 'pki', { cluster: { nodes: NODES, controlPlaneEndpoint: '*.example.com' } }), 'test/pki: controlPlaneEndpoint: "*.example.com" has a host that is neither an IP address nor a lower-case DNS name (no wildcard); write host or host:port, e.g. "api.example.com:6443"'],
  ['a port with a leading zero', (c) => new ControlPlanePki(c, 'pki', { cluster: { nodes: NODES, controlPlaneEndpoint: 'api.example.com:06443' } }), 'test/pki: controlPlaneEndpoint: "api.example.com:06443" has a port that is not a number 1-65535 without leading zeros; write host or host:port, e.g. "api.example.com:6443"'],
  ['a service subnet with no room', (c) => new ControlPlanePki(c, 'pki', { cluster: { nodes: NODES, serviceSubnets: ['fd00::/127'] } }), 'test/pki: serviceSubnets[0]: "fd00::/127" is too small: a service CIDR needs room for the kubernetes Service and cluster DNS (at most /124)'],
  ['a name constraint with host bits', (c) => new ClusterCA(c, 'ca', { nameConstraints: { permittedIpRanges: ['10.0.0.1/8'] } }), 'test/ca: nameConstraints.permittedIpRanges[0]: "10.0.0.1/8" has host bits set: write its network address, 10.0.0.0/8'],
  ['a misspelled prop from JavaScript', (c) => new ClusterCA(c, 'ca', { commonNmae: 'x' } as object), `test/ca: commonNmae: is not a known prop (known: commonName, organizations, organizationalUnits, country, province, locality, dnsNames, keyAlgorithm, validity, renewBefore, pathLength, nameConstraints, issuer, bundleName, bundleNamespace, state, stateSlot, rotation)`],
  ['a control character in a subject', (c) => new ClusterCA(c, 'ca', { commonName: 'ops\u0007' }), 'test/ca: commonName: "ops\\u0007" holds the control character U+0007'],
  ['an invalid DNS name in a cert-manager Certificate', (c) => new certManager.Certificate(c, 'cert', { issuer: { name: 'ca' }, dnsNames: ['Web_1.example'] }), 'test/cert: dnsNames[0]: "Web_1.example" is not a valid DNS name (lower-case RFC 1123, optional leading "*.", not ending in a number)'],
  ['an invalid URI in a cert-manager Certificate', (c) => new certManager.Certificate(c, 'cert', { issuer: { name: 'ca' }, uris: ['spiffe://a b'] }), 'test/cert: uris[0]: "spiffe://a b" is not an absolute URI (scheme:…, ASCII without spaces)'],
  [
    "a SAN kubeadm derives that the CA's name constraints refuse: the CA is named, not the engine's field",
    (c) => new ApiServerCert(c, 'apiserver', { ca: new ClusterCA(c, 'ca', { nameConstraints: { permittedDnsDomains: ['example.com'] } }), node: { name: 'cp-1', ip: '10.0.0.11' } }),
    'test/apiserver: ca: a SAN kubeadm gives apiserver: "cp-1" is outside the issuer\'s permitted DNS domains (example.com)',
  ],
])('%s', (_name, build, message) => {
  expect(errorOf(build)).toBe(message);
});
