// Props of the wrong kind, as JavaScript or JSON would pass them (a number for a name, a string for a list, null,
// an empty object for a CA): every one is refused with a SpecError naming the prop, or accepted; none fails with a
// TypeError from inside the library.
import { Chart, Testing } from 'cdk8s';
import { BootstrapToken, certManager, ClusterCA, ControlPlanePki, CertificateSigningRequest, PkiState, RancherIngressTLS, SpecError, TlsCertificate, usePkiState } from '../../constructs';

const WRONG: unknown[] = [5, true, {}, [], 'x', [5], null, NaN];

const FAMILIES: [string, string[], (chart: Chart, props: Record<string, unknown>, ca: ClusterCA) => void][] = [
  ['ClusterCA', ['commonName', 'organizations', 'country', 'dnsNames', 'keyAlgorithm', 'validity', 'pathLength', 'nameConstraints', 'issuer', 'existing', 'state', 'stateSlot'], (c, p) => new ClusterCA(c, 'subject', p)],
  ['TlsCertificate', ['ca', 'commonName', 'organizations', 'dnsNames', 'ipAddresses', 'usage', 'validity', 'renewBefore', 'keyAlgorithm', 'keyPolicy'], (c, p, ca) => new TlsCertificate(c, 'subject', { ca, commonName: 'a', ...p })],
  ['BootstrapToken', ['token', 'ttl', 'renewBefore', 'expires', 'usages', 'groups', 'description', 'secretOutput', 'state', 'stateSlot'], (c, p) => new BootstrapToken(c, 'subject', p)],
  ['CertificateSigningRequest', ['signerName', 'commonName', 'dnsNames', 'ipAddresses', 'usages', 'expirationSeconds', 'name', 'approver', 'state', 'stateSlot'], (c, p) => new CertificateSigningRequest(c, 'subject', { signerName: 'example.com/signer', usages: ['digital signature'], commonName: 'a', ...p })],
  ['certManager.Certificate', ['issuer', 'secretTemplate', 'commonName', 'dnsNames', 'ipAddresses', 'uris', 'emailAddresses', 'subject', 'literalSubject', 'duration', 'usages', 'privateKey'], (c, p) => new certManager.Certificate(c, 'subject', { issuer: { name: 'ca' }, dnsNames: ['a.example'], ...p })],
  ['RancherIngressTLS', ['hostname', 'mode', 'email', 'certificate', 'cacertsPem', 'version', 'secretOutput'], (c, p) => new RancherIngressTLS(c, 'subject', { hostname: 'rancher.example', version: '2.12.3', ...p })],
  ['ControlPlanePki', ['cluster', 'tlsBootstrap'], (c, p) => new ControlPlanePki(c, 'subject', { cluster: { nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }] }, ...p })],
];

describe.each(FAMILIES)('%s', (_family, keys, build) => {
  test.each(keys)('%s of the wrong kind is refused by name, never a TypeError', (key) => {
    for (const value of WRONG) {
      const app = Testing.app();
      usePkiState(app, PkiState.inMemory({ clock: () => new Date('2026-01-15T09:00:00Z'), seed: 'prop-types' }));
      const chart = new Chart(app, 'test');
      const ca = new ClusterCA(chart, 'ca');
      try {
        build(chart, { [key]: value }, ca);
      } catch (err) {
        if (!(err instanceof SpecError)) throw new Error(`${key}: ${JSON.stringify(value)} escaped as ${(err as Error).stack}`);
        // The prop, or (for ControlPlanePki's cluster, whose fields errors name as the spec does) a field inside it,
        // or the props as a whole ("at least one of … must be set").
        const names = (field: string) => field === key || field.startsWith(`${key}.`) || field.startsWith(`${key}[`) || field === '' || (key === 'cluster' && !field.startsWith('tlsBootstrap'));
        expect(err.each.map((e) => `${e.where}: ${e.field}`)).toContainEqual(expect.stringMatching(/^test\/subject: /));
        expect(err.each.some((e) => e.where === 'test/subject' && names(e.field))).toBe(true);
      }
    }
  });
});
